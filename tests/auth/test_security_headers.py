"""Headers (SPEC §12, issue 11 finding 8): every answer sends a Content-Security-Policy that allows only the
app's own scripts and styles, ``X-Frame-Options: DENY`` and ``nosniff``; answers that can carry
configuration send ``Cache-Control: no-store``; no page needs what the policy forbids (no inline script,
event handler or style), so the pages keep working under it. tests/browser/test_csp_browser.py proves the
last part in Chromium."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from vibenvr.auth.twofactor import qr_svg
from vibenvr.backups.service import create_backup
from vibenvr.hardening import CONTENT_SECURITY_POLICY
from vibenvr.models import ApiToken

from .test_secrets_masked import CARRY_SECRETS, get_routes
from builders import make_camera, make_group, make_location, make_profile, make_recipient, make_token
from conftest import Api, sign_in

ROOT = Path(__file__).resolve().parents[2]


def policy(text):
    """The CSP as {directive: [sources]}."""
    parts = (part.split() for part in text.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def assert_security_headers(response, what):
    headers = response.headers
    assert headers.get("Content-Security-Policy") == CONTENT_SECURITY_POLICY, what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("X-Content-Type-Options") == "nosniff", what


@pytest.fixture
def ids(app, admin, viewer):
    camera, group, profile = make_camera(), make_group(), make_profile()
    with app.app_context():
        backup = create_backup("manual").name
    make_token(admin)
    return {
        "item_id": None,
        "camera_id": camera.id,
        "group_id": group.id,
        "profile_id": profile.id,
        "user_id": viewer.id,
        "token_id": ApiToken.get(ApiToken.user == admin).id,
        "recipient_id": make_recipient().id,
        "location_id": make_location().id,
        "name": backup,
    }


@pytest.fixture
def callers(app, admin, viewer):
    return {
        "admin_page": sign_in(app.test_client(), admin),
        "viewer_page": sign_in(app.test_client(), viewer),
        "admin_api": Api(app.test_client(), make_token(admin, name="headers")),
        "viewer_api": Api(app.test_client(), make_token(viewer, name="headers")),
        "anonymous": app.test_client(),
    }


def every_get_path(app, ids):
    """Every GET route, the downloads that carry secrets (backups, the export) included."""
    from flask import url_for

    carrying = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in CARRY_SECRETS:
            with app.test_request_context():
                carrying.append((rule.endpoint, url_for(rule.endpoint, **{a: ids[a] for a in rule.arguments})))
    return get_routes(app, ids) + sorted(carrying)


@pytest.mark.parametrize("who", ["admin_page", "viewer_page", "admin_api", "viewer_api", "anonymous"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_every_get_answer_sends_the_security_headers_and_no_store(app, ids, callers, who, htmx):
    caller = callers[who]
    headers = {"HX-Request": "true"} if htmx else {}
    statuses = set()
    for endpoint, path in every_get_path(app, ids):
        response = caller.get(path, headers=headers)
        what = f"{who} GET {path} ({endpoint}) {response.status_code}"
        assert_security_headers(response, what)
        statuses.add(response.status_code)
        if path == "/api/health":
            assert "no-store" not in response.headers.get("Cache-Control", ""), what
        else:
            assert response.headers.get("Cache-Control") == "no-store", what
    assert 200 in statuses  # the answers themselves, not only refusals, were checked


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no/such/page", 404),
        ("GET", "/api/no-such-thing", 404),
        ("PUT", "/api/settings", 405),
        ("GET", "/api/settings", 401),
        ("GET", "/settings/global", 302),
        ("POST", "/login", 400),
    ],
)
def test_errors_and_redirects_send_them_too(client, admin, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert_security_headers(response, f"{method} {path}")
    assert response.headers["Cache-Control"] == "no-store"


def test_a_viewers_refusal_sends_them(callers):
    for who in ("viewer_page", "viewer_api"):
        response = callers[who].get("/api/settings")
        assert response.status_code == 403
        assert_security_headers(response, who)
        assert response.headers["Cache-Control"] == "no-store"


def test_writes_answer_no_store(callers):
    api = callers["admin_api"]
    response = api.patch("/api/settings", json={"system_name": "Home"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    created = api.post("/api/cameras", json={"name": "Porch", "rtsp_url": "rtsp://u:p@192.168.1.5/s"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    assert_security_headers(created, "POST /api/cameras")


@pytest.mark.parametrize("name", ["css/app.css", "js/app.js", "vendor/htmx.min.js"])
def test_static_files_stay_cacheable_but_are_not_sniffed_or_framed(client, name):
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert_security_headers(response, name)
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_the_first_run_pages_send_them(client):
    for path in ("/setup", "/login"):
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200
        assert_security_headers(response, path)
        assert response.headers["Cache-Control"] == "no-store"


def test_the_policy_allows_only_the_apps_own_scripts_and_styles_and_no_framing():
    directives = policy(CONTENT_SECURITY_POLICY)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"] and directives["form-action"] == ["'self'"]
    everything = " ".join(source for sources in directives.values() for source in sources)
    for loophole in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "http:", "https:", "blob:"):
        assert loophole not in everything.split()
    assert directives["img-src"] == ["'self'", "data:"]  # data: images only (no scripts run in an <img>)


# --- nothing on the pages needs what the policy forbids ------------------------------------------


class InlineFinder(HTMLParser):
    """Everything the policy would block: inline scripts, event-handler attributes, style attributes and
    elements, ``javascript:`` links, htmx's ``hx-on`` (evaluated code)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.in_script, self.htmx_config = [], False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.in_script = True
            if not a.get("src"):
                self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> element")
        if tag == "meta" and a.get("name") == "htmx-config":
            self.htmx_config = json.loads(a["content"])
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…> handler")
            if name == "style":
                self.found.append(f"<{tag} style=…>")
            if name.startswith(("hx-on", "data-hx-on")):
                self.found.append(f"<{tag} {name}=…>")
            if (
                value
                and name in ("href", "src", "action", "formaction")
                and value.strip().lower().startswith("javascript:")
            ):
                self.found.append(f"<{tag} {name}=javascript:…>")
            if value and name.startswith("hx-") and value.strip().startswith(("js:", "javascript:")):
                self.found.append(f"<{tag} {name}=js:…>")

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.found.append("inline script code")


def inline_code(html):
    finder = InlineFinder()
    finder.feed(html)
    return finder


@pytest.mark.parametrize("who", ["admin_page", "viewer_page", "anonymous"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_no_page_holds_inline_scripts_handlers_or_styles(app, ids, callers, who, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    pages = 0
    for endpoint, path in get_routes(app, ids):
        response = callers[who].get(path, headers=headers, follow_redirects=True)
        if response.mimetype != "text/html":
            continue
        finder = inline_code(response.get_data(as_text=True))
        assert not finder.found, f"{who} GET {path} ({endpoint}): {finder.found}"
        if not htmx and finder.htmx_config is not None:
            pages += 1
            # htmx inserts no <style> of its own and evaluates no code from attributes
            assert finder.htmx_config["includeIndicatorStyles"] is False
            assert finder.htmx_config["allowEval"] is False
            assert "style" not in finder.htmx_config["attributesToSettle"]  # would copy a style="" with setAttribute
    assert htmx or pages >= (3 if who == "anonymous" else 8)


def test_the_two_factor_qr_code_is_inline_svg_without_style():
    svg = qr_svg("otpauth://totp/VibeNVR:alice?secret=JBSWY3DPEHPK3PXP&issuer=VibeNVR")
    assert svg.startswith("<svg") and not inline_code(svg).found


TEMPLATE_PATTERNS = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "<style>": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "hx-on": re.compile(r"\s(?:data-)?hx-on", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


@pytest.mark.parametrize("template", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html")))
def test_no_template_branch_holds_what_the_policy_forbids(template):
    """Also the branches the page walk above does not reach (errors, confirmations, enrolment)."""
    text = (ROOT / template).read_text()
    found = [name for name, pattern in TEMPLATE_PATTERNS.items() if pattern.search(text)]
    assert not found, f"{template}: {found}"


@pytest.mark.parametrize("script", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "static" / "js").glob("*.js")))
def test_the_apps_scripts_evaluate_no_strings_and_set_no_inline_style(script):
    text = (ROOT / script).read_text()
    for pattern in (
        r"\beval\(",
        r"new Function\(",
        r"set(?:Timeout|Interval)\(\s*['\"]",
        r"setAttribute\(\s*['\"]style",
    ):
        assert not re.search(pattern, text), f"{script}: {pattern}"

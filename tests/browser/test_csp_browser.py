"""The pages under the Content-Security-Policy in headless Chromium (SPEC §12, issue 11 finding 8): every
page, as admin and as viewer, loads and runs htmx without a CSP violation or a script error; the watch that
every browser test runs under (browser/conftest.py) does see a violation when one happens."""

import re
import time

from playwright.sync_api import expect

from vibenvr.backups.service import create_backup
from vibenvr.hardening import CONTENT_SECURITY_POLICY

from browser.conftest import login
from builders import PASSWORD, make_camera, make_group, make_location, make_profile, make_token, make_user


def page_paths(app, ids):
    """Every GET page of the app (no API, no static files, no downloads), with its ids filled in."""
    from flask import url_for

    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        if rule.endpoint.endswith("download") or rule.endpoint in ("auth.logout",):
            continue
        with app.test_request_context():
            paths.append(url_for(rule.endpoint, **{argument: ids[argument] for argument in rule.arguments}))
    return sorted(set(paths))


def seed(app):
    admin, viewer = make_user("admin", role="admin"), make_user("viewer", role="viewer")
    profile = make_profile()
    camera = make_camera(storage_profile_id=profile.id, motion_zones=[[[0.5, 0.5], [0.9, 0.5], [0.9, 0.9]]])
    group = make_group()
    make_token(admin)
    with app.app_context():
        backup = create_backup("manual").name
    from vibenvr.models import ApiToken

    return {
        "camera_id": camera.id,
        "item_id": camera.id,
        "group_id": group.id,
        "profile_id": profile.id,
        "user_id": viewer.id,
        "token_id": ApiToken.get().id,
        "name": backup,
        "location_id": make_location().id,  # its edit, delete and files pages (a folder that is not mounted)
        "admin": admin,
    }


def wait_for_problems(context, count, deadline=5.0):
    """The watch's findings once it has ``count`` of them (or the deadline passed)."""
    found, end = [], time.monotonic() + deadline
    while time.monotonic() < end:
        found += context.problems.take()
        if len(found) >= count:
            break
        context.pages[0].wait_for_timeout(50)  # let Chromium deliver the events
    return found


def test_every_page_loads_without_a_csp_violation_or_script_error(live_server, context):
    ids = seed(live_server.app)
    paths = page_paths(live_server.app, ids)
    assert len(paths) >= 15 and "/settings/global" in paths and f"/cameras/{ids['camera_id']}/edit" in paths
    page = context.new_page()
    login(page, live_server, "admin", PASSWORD)
    seen = 0
    for path in paths:
        response = page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        assert response.headers.get("content-security-policy") == CONTENT_SECURITY_POLICY, path
        assert response.headers.get("x-frame-options") == "DENY", path
        problems = context.problems.take()
        assert not problems, f"{path}: {problems}"
        if response.status == 200:
            seen += 1
            assert page.evaluate("typeof htmx") == "object", f"{path}: htmx did not load"
            assert page.locator("style").count() == 0, f"{path}: something inserted a <style> element"
    assert seen >= 12


def test_a_viewer_walks_the_pages_without_a_violation(live_server, context):
    ids = seed(live_server.app)
    page = context.new_page()
    login(page, live_server, "viewer", PASSWORD)
    for path in page_paths(live_server.app, ids):
        page.goto(live_server.url + path)
        assert not context.problems.take(), path


def test_htmx_swaps_and_the_page_scripts_work_under_the_policy(live_server, context):
    ids = seed(live_server.app)
    page = context.new_page()
    login(page, live_server, "admin", PASSWORD)

    page.goto(f"{live_server.url}/cameras/{ids['camera_id']}/edit")  # the polygon editor (pages.js)
    page.fill("#f-privacy_masks", "[[[0.1, 0.1], [0.4, 0.1], [0.4, 0.5]], [[0.6, 0.6], [0.9, 0.6], [0.9, 0.9]]]")
    masks = page.locator("[data-polygon-editor]:has(#f-privacy_masks)")
    expect(masks.locator("svg polygon")).to_have_count(2)
    page.fill("#f-rtsp_url", "ftp://wrong")
    page.click("button[type=submit]:has-text('Save')")
    expect(page.locator("#e-rtsp_url")).to_contain_text("must start with rtsp://")  # swapped in by htmx

    page.goto(live_server.url + "/settings/global")
    page.fill("#f-system_name", "Under the policy")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#messages")).to_contain_text("saved")
    indicator_hidden = page.evaluate(
        "() => { const e = document.createElement('span'); e.className = 'htmx-indicator'; document.body.append(e);"
        " return getComputedStyle(e).visibility; }"
    )
    assert indicator_hidden == "hidden"  # htmx's indicator rule, from app.css instead of an inline <style>
    assert not context.problems.take()


def test_the_watch_reports_an_inline_script_an_inline_style_and_a_script_error(live_server, context):
    make_user("admin", role="admin")
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.evaluate("""() => {
        const script = document.createElement('script');
        script.textContent = 'window.inlineRan = true';
        document.body.append(script);
        document.body.setAttribute('style', 'color: red');
        setTimeout(() => { throw new Error('thrown on purpose'); }, 0);
    }""")
    found = "\n".join(wait_for_problems(context, 3))
    assert re.search(r"CSP violation .*script-src", found), found
    assert re.search(r"CSP violation .*style-src", found), found
    assert "thrown on purpose" in found
    assert page.evaluate("window.inlineRan") is None  # blocked, not only reported
    assert page.evaluate("getComputedStyle(document.body).color") != "rgb(255, 0, 0)"


def test_the_pages_cannot_be_framed(live_server, context):
    make_user("admin", role="admin")
    page = context.new_page()
    framer = f'<iframe src="{live_server.url}/login" onload="document.body.dataset.framed = 1"></iframe>'
    page.route("http://framer.test/", lambda route: route.fulfill(content_type="text/html", body=framer))
    page.goto("http://framer.test/")
    page.wait_for_function("document.body.dataset.framed === '1'")  # the frame finished, refused or not
    child = page.frames[1]
    assert not child.url.startswith(live_server.url), child.url  # Chromium shows its error page instead
    assert page.frame_locator("iframe").locator("#username").count() == 0
    found = context.problems.take()  # the refusal is reported on the framing page, which is not the app's
    assert all("frame-ancestors" in problem for problem in found), found

"""The permission matrix, built from ``app.url_map`` by the walk the sanity viewer check uses
(``vibenvr.sanity.access.routes``): every route, every method, as anonymous, viewer and admin.

Each view carries an access decision (``public``, ``user`` or ``admin``, set by the decorators in
``vibenvr.auth.decorators``); a route without one fails here. Then every answer is checked against it:
anonymous API calls get 401 JSON, anonymous pages redirect to ``/login?next=…`` (htmx gets HX-Redirect),
a viewer gets 403 on admin-only pages, fragments and API routes, and nobody ever gets a 500.
"""

import pytest

from vibenvr.sanity.access import routes

from .conftest import page_csrf
from builders import make_token
from conftest import sign_in

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def test_every_route_has_an_access_decision(app):
    missing = [
        f"{method} {path} ({endpoint})"
        for path, method, endpoint, access in routes(app)
        if access not in ("public", "user", "admin")
    ]
    assert not missing, "routes without @public, @login_required or @admin_required:\n" + "\n".join(missing)


def _request(client, path, method, headers=None):
    kwargs = {"headers": dict(headers or {})}
    if method in UNSAFE:
        if path.startswith("/api/"):
            kwargs["json"] = {}
        else:
            kwargs["data"] = {}
    return client.open(path, method=method, **kwargs)


def _anonymous(app):
    client = app.test_client()
    client.environ_base["HTTP_X_CSRFTOKEN"] = page_csrf(client.get("/login").get_data(as_text=True))
    return client


def _check(app, who, path, method, access, client_for):
    """The problems with the answers to ``who`` for one route (an empty list when all is right)."""
    problems = []
    api = path.startswith("/api/")
    response = _request(client_for(), path, method)
    status = response.status_code
    where = f"{who:9} {method:6} {path} [{access}]"
    if status >= 500:
        return [f"{where}: {status}"]
    denied_anonymous = who == "anonymous" and access in ("user", "admin")
    denied_viewer = who == "viewer" and access == "admin"
    if denied_anonymous and api:
        if status != 401 or "error" not in (response.get_json(silent=True) or {}):
            problems.append(f"{where}: expected 401 JSON, got {status}")
    elif denied_anonymous:
        if status != 302 or not response.headers["Location"].startswith("/login?next="):
            problems.append(
                f"{where}: expected a redirect to /login?next=, got {status} {response.headers.get('Location')}"
            )
        htmx = _request(client_for(), path, method, {"HX-Request": "true"})
        if htmx.status_code != 401 or not htmx.headers.get("HX-Redirect", "").startswith("/login?next="):
            problems.append(f"{where} (htmx): expected 401 with HX-Redirect, got {htmx.status_code}")
    elif denied_viewer:
        if status != 403 or (api and "error" not in (response.get_json(silent=True) or {})):
            problems.append(f"{where}: expected 403, got {status}")
        if not api:
            htmx = _request(client_for(), path, method, {"HX-Request": "true"})
            if htmx.status_code != 403 or htmx.headers.get("HX-Retarget") != "#messages":
                problems.append(f"{where} (htmx): expected a 403 fragment for #messages, got {htmx.status_code}")
    elif status in (401, 403):
        problems.append(f"{where}: allowed, but got {status}")
    return problems


@pytest.mark.parametrize("who", ["anonymous", "viewer", "admin"])
def test_permission_matrix(app, admin, viewer, who):
    tokens = {"viewer": make_token(viewer), "admin": make_token(admin)}
    users = {"viewer": viewer, "admin": admin}

    def client_for_page():
        if who == "anonymous":
            return _anonymous(app)
        return sign_in(app.test_client(), users[who])

    def client_for_api():
        client = app.test_client()
        if who != "anonymous":
            client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {tokens[who]}"
        return client

    problems = []
    checked = 0
    for path, method, _endpoint, access in routes(app):
        factory = client_for_api if path.startswith("/api/") else client_for_page
        problems += _check(app, who, path, method, access, factory)
        checked += 1
    assert checked > 40
    assert not problems, "\n".join(problems)


def test_viewer_session_on_the_api_gets_403_for_admin_routes(app, admin, viewer):
    client = sign_in(app.test_client(), viewer)
    assert client.get("/api/users").status_code == 403
    assert client.patch("/api/settings", json={"system_name": "x"}).status_code == 403

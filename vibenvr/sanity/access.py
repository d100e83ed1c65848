"""The viewer check: a viewer gets 403 on every admin-only route, found in ``app.url_map`` as the
permission matrix finds them (by the access mark the decorators set), asked through the test client."""

import re
import secrets

from flask import current_app, session
from flask_wtf.csrf import generate_csrf

from ..auth.sessions import start
from ..auth.tokens import issue_token
from ..models import User
from ..users.service import create_user, delete_user
from .runner import expect

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SAMPLES = {"int": "987654321", "float": "987654321.5", "path": "sanity/missing"}
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
BASE_URL = "https://localhost"  # so cookies marked Secure (VIBENVR_SECURE_COOKIES) are sent; CSRF wants a Referer


def routes(app):
    """``(path, method, endpoint, access)`` for every rule and method, with sample values for arguments."""
    found = []
    for rule in app.url_map.iter_rules():
        converters = {name: kind or "default" for kind, name in ARGUMENT.findall(rule.rule)}
        values = {arg: SAMPLES.get(converters.get(arg, "default"), "sanity-missing.json") for arg in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        view = app.view_functions.get(rule.endpoint)
        access = "public" if rule.endpoint == "static" else getattr(view, "access", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((path, method, rule.endpoint, access))
    return found


def _page_client(app, user):
    """A test client signed in as ``user`` with a browser session, sending the session's CSRF token."""
    with app.test_request_context(base_url=BASE_URL):
        token = generate_csrf()
        raw = dict(session)
        session_id = start(user)  # ended with the viewer: deleting a user ends their sessions
    client = app.test_client()
    with client.session_transaction(base_url=BASE_URL) as stored:
        stored.update(raw)
        stored["_user_id"] = session_id
        stored["_fresh"] = True
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    return client


def check_viewer_denied(ctx):
    app = current_app._get_current_object()
    viewer = create_user({"username": ctx.name("viewer"), "password": secrets.token_urlsafe(12), "role": "viewer"})
    _token, plain = issue_token(viewer, ctx.name("viewer-token"))
    pages, api = _page_client(app, viewer), app.test_client()
    bearer = {"Authorization": f"Bearer {plain}"}
    table = routes(app)
    unmarked = [f"{method} {path}" for path, method, _endpoint, access in table if access is None]
    wrong, asked = [], 0
    for path, method, _endpoint, access in table:
        if access != "admin":
            continue
        is_api = path.startswith("/api/")
        kwargs = {"base_url": BASE_URL, "headers": bearer if is_api else {"Referer": BASE_URL + "/"}}
        if method in UNSAFE:
            kwargs["json" if is_api else "data"] = {}
        response = (api if is_api else pages).open(path, method=method, **kwargs)
        asked += 1
        if response.status_code != 403:
            wrong.append(f"{method} {path} answered {response.status_code}")
    delete_user(User.get_by_id(viewer.id))  # its token goes with it
    expect(not unmarked, "routes without an access decision: " + ", ".join(unmarked))
    expect(asked > 0, "no admin-only route was found in the url_map")
    expect(not wrong, f"a viewer was not refused: {'; '.join(wrong[:8])}" + (" …" if len(wrong) > 8 else ""))
    return f"a viewer got 403 on all {asked} admin-only route/method pairs (pages by session, API by token)"

"""The route walk: every rule of ``app.url_map`` with the access mark its decorators set, as the permission
matrix (``tests/auth/test_auth_permissions.py``) and the in-process viewer check ask them."""

import re

from flask import session
from flask_wtf.csrf import generate_csrf

from ..auth.sessions import start
from .client import AdminRequests

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


def admin_requests(app):
    """Every admin-only route and method of ``app``, and the routes without an access decision."""
    table = routes(app)
    return AdminRequests(
        requests=[(method, path) for path, method, _endpoint, access in table if access == "admin"],
        unmarked=[f"{method} {path}" for path, method, _endpoint, access in table if access is None],
        how="pages by session, API by token",
    )


def session_client(app, user):
    """A test client signed in as ``user`` with a browser session, sending the session's CSRF token.

    The session's row goes when the user is deleted (deleting a user ends their sessions)."""
    with app.test_request_context(base_url=BASE_URL):
        token = generate_csrf()
        raw = dict(session)
        session_id = start(user)
    client = app.test_client()
    with client.session_transaction(base_url=BASE_URL) as stored:
        stored.update(raw)
        stored["_user_id"] = session_id
        stored["_fresh"] = True
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    return client

"""Shared fixtures: an app on a temporary data folder, clients signed in as each role, data builders."""

import contextlib
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from vibenvr import create_app  # noqa: E402
from vibenvr.db import db  # noqa: E402

from builders import make_token, make_user  # noqa: E402


def make_app(data_dir, **overrides):
    config = {
        "TESTING": True,
        "DATA_DIR": data_dir,
        "SCHEDULER_ENABLED": False,
        "SECRET_KEY": "test-secret-key",
    }
    if os.environ.get("TEST_DATABASE_URL"):
        config["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
        _reset_postgres(config["DATABASE_URL"])
    config.update(overrides)
    return create_app(config)


@contextlib.contextmanager
def connected_app(data_dir, **overrides):
    """``make_app``, with the test thread holding a database connection (builders reuse it) until the end."""
    app = make_app(data_dir, **overrides)
    db.connect(reuse_if_open=True)
    try:
        yield app
    finally:
        db.close()


def _reset_postgres(url):
    """Every app starts on empty tables, as it does on a fresh SQLite file."""
    from vibenvr.db import open_database
    from vibenvr.migrations import SchemaMigration
    from vibenvr.models import ALL_MODELS
    from vibenvr.runtime import STATE_MODELS

    every = [*ALL_MODELS, *STATE_MODELS, SchemaMigration]
    database = open_database(url)
    with database.connection_context(), database.bind_ctx(every):
        database.drop_tables(every, cascade=True, safe=True)


@pytest.fixture
def app(tmp_path):
    """The app on a fresh data folder. No app context stays pushed (each request gets its own, as in
    production); the test thread holds a database connection, which requests in this thread reuse."""
    with connected_app(tmp_path / "data") as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token_for(client):
    """A CSRF token bound to the client's session (read from the sign-in form)."""
    with client.session_transaction() as session:
        user_id = session.pop("_user_id", None)
    html = client.get("/login").get_data(as_text=True)
    with client.session_transaction() as session:
        if user_id:
            session["_user_id"] = user_id
            session["_fresh"] = True
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the sign-in page"
    return match.group(1)


def sign_in(client, user):
    """Sign ``client`` in as ``user`` and make it send the CSRF token with every request."""
    from vibenvr.auth.sessions import start

    token = csrf_token_for(client)
    with client.application.test_request_context():
        session_id = start(user)  # a server-side session record, as a real sign-in makes
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    client.csrf_token = token
    return client


@pytest.fixture
def admin(app):
    return make_user("admin", role="admin")


@pytest.fixture
def viewer(app, admin):
    return make_user("viewer", role="viewer")


@pytest.fixture
def admin_client(app, admin):
    return sign_in(app.test_client(), admin)


@pytest.fixture
def viewer_client(app, viewer):
    return sign_in(app.test_client(), viewer)


class Api:
    """A JSON API client that authenticates with a bearer token."""

    def __init__(self, client, token):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def request(self, method, path, json=None, data=None, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, json=json, data=data, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


@pytest.fixture
def api(app, admin):
    return Api(app.test_client(), make_token(admin))


@pytest.fixture
def viewer_api(app, viewer):
    return Api(app.test_client(), make_token(viewer))

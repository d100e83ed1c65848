"""The sanity checks' client in this process (``flask --app app sanity run``): this app's test client, so
no network and no server is needed. It asks the API with an API token and pages with a browser session.

The run signs in as an administrator it makes for itself (a system may have no user yet, and a real
account's token is not the run's to borrow), on its first request, and deletes it when the checks end.
Both are done here directly: the API cannot make the first admin nor delete the last one. The rows must
go, not only be left unused: the zero-trace guard ignores a token's usage stamps, not the token.
"""

import contextlib
import io
import secrets

from ..auth import sessions
from ..auth.tokens import issue_token, sha256_hex
from ..db import write_transaction
from ..models import ApiToken, User
from ..users.service import create_user
from .access import BASE_URL, admin_requests, session_client
from .client import parse_json


class AppClient:
    """``app`` asked as the owner of API token ``token``: the API by the token, pages by a browser
    session of its owner (made on the first page asked), as a browser would ask them."""

    def __init__(self, app, token):
        self.app = app
        self._token = token
        self._api = app.test_client(use_cookies=False)  # as over HTTP: the token alone signs in
        self._pages = None

    def token(self):
        return self._token

    def call(self, method, path, body=None):
        if path.startswith("/api/"):
            return self._open(self._api, path, method=method, json=body, headers=self._bearer())
        return self._open(self._page_client(), path, method=method, data=body, headers={"Referer": BASE_URL + "/"})

    def upload(self, path, filename, data):
        return self._open(
            self._api,
            path,
            method="POST",
            data={"file": (io.BytesIO(data), filename)},
            content_type="multipart/form-data",
            headers=self._bearer(),
        )

    def _open(self, client, path, **request):
        """One request in an app context of its own: inside the caller's, ``g`` (and the user Flask-Login
        keeps there) would pass from one request to the next."""
        with self.app.app_context():
            response = client.open(path, base_url=BASE_URL, **request)
        return response.status_code, parse_json(response.get_data())

    def as_token(self, token):
        return AppClient(self.app, token)

    def admin_requests(self):
        return admin_requests(self.app)

    def _bearer(self):
        return {"Authorization": f"Bearer {self.token()}"}

    def _page_client(self):
        if self._pages is None:
            owner = ApiToken.get(ApiToken.token_hash == sha256_hex(self.token())).user
            self._pages = session_client(self.app, owner)
        return self._pages


class RunAdminClient(AppClient):
    """An ``AppClient`` signed in as the run's own administrator, made on the first request; ``remove()``
    deletes it and its token (directly: on a system with no other admin the service would refuse)."""

    def __init__(self, app, username):
        super().__init__(app, None)
        self.username = username

    def token(self):
        if self._token is None:
            admin = create_user({"username": self.username, "password": secrets.token_urlsafe(16), "role": "admin"})
            self._token = issue_token(admin, self.username)[1]
        return self._token

    def remove(self):
        with write_transaction():
            admin = User.get_or_none(User.username == self.username)
            if admin is not None:
                admin.delete_instance(recursive=True)  # its API tokens with it
                sessions.end_all(admin.id)


@contextlib.contextmanager
def run_admin_client(app, username):
    """A ``RunAdminClient`` for the checks, its administrator removed when they end (however they end)."""
    client = RunAdminClient(app, username)
    try:
        yield client
    finally:
        client.remove()

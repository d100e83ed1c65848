"""What the sanity checks ask of a server, so that they are written once (``checks``) for two adapters:
``remote.Http`` (a running server, over the network) and ``inprocess.AppClient`` (this app's test client).
"""

import json
from dataclasses import dataclass
from typing import Protocol


@dataclass
class AdminRequests:
    """The admin-only requests a viewer must be refused, as far as the client can find them.

    ``unmarked``: routes found without an access decision (only a walk of ``app.url_map`` sees them);
    ``how``: how the viewer's requests are signed in, for the check's summary line.
    """

    requests: list  # [(method, path)]
    unmarked: list
    how: str


class Client(Protocol):
    """JSON requests signed in as an admin; answers are ``(status, parsed JSON or None)``."""

    def call(self, method, path, body=None):
        """Send ``body`` (None: no body) as JSON."""

    def upload(self, path, filename, data):
        """POST ``data`` as the multipart file field ``file``."""

    def as_token(self, token):
        """A client of the same server signed in as the owner of API token ``token``."""

    def admin_requests(self):
        """The ``AdminRequests`` to ask as a viewer."""


def parse_json(data):
    """``data`` (bytes) parsed as JSON, or None when it is empty or not JSON (a page, say)."""
    try:
        return json.loads(data) if data.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None

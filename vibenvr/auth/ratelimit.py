"""Failed sign-ins are limited per account and per address (moving windows from the ``limits`` library).

Only failures count; a success clears the account's count. The storage is in memory by default, so each
worker process counts on its own; ``RATELIMIT_STORAGE_URI`` (e.g. ``redis://…``) shares it.
"""

import math
import time

from flask import current_app, request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

NAMESPACE = "vibenvr-login"


class LoginLimiter:
    def __init__(self, storage_uri, per_account, per_address):
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.per_account = parse(per_account)
        self.per_address = parse(per_address)

    def _buckets(self, username, address):
        return [
            (self.per_account, "account", (username or "").strip().lower()[:64]),
            (self.per_address, "address", address or "unknown"),
        ]

    def retry_after(self, username, address):
        """Whole seconds until another attempt is allowed; 0 when one is allowed now."""
        wait = 0
        for limit, kind, key in self._buckets(username, address):
            if not self.limiter.test(limit, NAMESPACE, kind, key):
                reset_at = self.limiter.get_window_stats(limit, NAMESPACE, kind, key).reset_time
                wait = max(wait, math.ceil(reset_at - time.time()), 1)
        return wait

    def failed(self, username, address):
        for limit, kind, key in self._buckets(username, address):
            self.limiter.hit(limit, NAMESPACE, kind, key)

    def succeeded(self, username):
        limit, kind, key = self._buckets(username, None)[0]
        self.limiter.clear(limit, NAMESPACE, kind, key)


def init_app(app):
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes")
    app.config.setdefault("LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes")
    app.extensions["vibenvr_login_limiter"] = LoginLimiter(
        app.config["RATELIMIT_STORAGE_URI"],
        app.config["LOGIN_LIMIT_PER_ACCOUNT"],
        app.config["LOGIN_LIMIT_PER_ADDRESS"],
    )


def login_limiter():
    return current_app.extensions["vibenvr_login_limiter"]


def client_address():
    return request.remote_addr or "unknown"


def wait_text(seconds):
    """'30 seconds', '4 minutes': the retry hint shown to people."""
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"

"""Failed sign-ins are limited per account and per address, in moving windows kept in the database.

Only failures count (a wrong password, TOTP or recovery code at sign-in, a wrong re-typed password on the
Security page); a success clears the account's count. Each failure is a row of ``runtime.SignInFailure``
(pruned once older than the longest window), so every worker counts the same failures and a restart
forgets none. Time is ``auth.clock.now`` (a test injects ``app.config["CLOCK"]``).
"""

import datetime as dt
import math

from flask import current_app, request
from limits import parse

from ..runtime import SignInFailure
from .clock import now


class LoginLimiter:
    def __init__(self, per_account, per_address):
        self.per_account = parse(per_account)
        self.per_address = parse(per_address)
        self.longest = dt.timedelta(seconds=max(self.per_account.get_expiry(), self.per_address.get_expiry()))

    def _buckets(self, username, address):
        return [
            (self.per_account, "account", (username or "").strip().lower()[:64]),
            (self.per_address, "address", (address or "unknown")[:255]),
        ]

    def retry_after(self, username, address):
        """Whole seconds until another attempt is allowed; 0 when one is allowed now."""
        moment = now()
        wait = 0
        for limit, scope, key in self._buckets(username, address):
            window = dt.timedelta(seconds=limit.get_expiry())
            # The limit is reached while `amount` failures lie in the window; it lifts when the
            # amount-th latest of them leaves it.
            rows = (
                SignInFailure.select(SignInFailure.at)
                .where(
                    (SignInFailure.scope == scope) & (SignInFailure.key == key) & (SignInFailure.at > moment - window)
                )
                .order_by(SignInFailure.at.desc())
                .offset(limit.amount - 1)
                .limit(1)
                .tuples()
            )
            for (at,) in rows:
                wait = max(wait, math.ceil((at + window - moment).total_seconds()), 1)
        return wait

    def failed(self, username, address):
        moment = now()
        SignInFailure.insert_many(
            [{"scope": scope, "key": key, "at": moment} for _, scope, key in self._buckets(username, address)]
        ).execute()
        SignInFailure.delete().where(SignInFailure.at <= moment - self.longest).execute()

    def succeeded(self, username):
        _, scope, key = self._buckets(username, None)[0]
        SignInFailure.delete().where((SignInFailure.scope == scope) & (SignInFailure.key == key)).execute()


def init_app(app):
    app.config.setdefault("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes")
    app.config.setdefault("LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes")
    app.extensions["vibenvr_login_limiter"] = LoginLimiter(
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

"""Trusted devices: after 2FA, a browser may skip the code for 30 days with an HttpOnly cookie.

The cookie holds a random token; the database holds its SHA-256 hex only.
"""

import datetime as dt
import secrets

from flask import current_app

from ..models import TrustedDevice
from .tokens import sha256_hex

COOKIE_NAME = "vibenvr_trusted_device"
TRUST_DAYS = 30


def trust_device(user, name, moment):
    """Record a trusted device for ``user``; return the plain token for the cookie."""
    plain = secrets.token_urlsafe(32)
    TrustedDevice.create(
        user=user,
        name=(name or "Unknown browser")[:200],
        token_hash=sha256_hex(plain),
        last_used=moment,
        expires_at=moment + dt.timedelta(days=TRUST_DAYS),
        created_at=moment,
    )
    return plain


def trusted_device_for(user, plain, moment):
    """The unexpired device of ``user`` whose token is ``plain`` (its last use is stamped), or None."""
    if not plain or len(plain) > 256:
        return None
    device = TrustedDevice.get_or_none(TrustedDevice.token_hash == sha256_hex(plain))
    if device is None or device.user_id != user.id or device.expires_at <= moment:
        return None
    TrustedDevice.update(last_used=moment).where(TrustedDevice.id == device.id).execute()
    return device


def set_cookie(response, plain):
    response.set_cookie(
        COOKIE_NAME,
        plain,
        max_age=TRUST_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        path="/",
    )


def describe_browser(user_agent):
    """'Firefox on Linux': a readable device name from the User-Agent header."""
    agent = user_agent or ""
    browser = next(
        (
            name
            for key, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Chromium/", "Chromium"),
                ("Safari/", "Safari"),
            )
            if key in agent
        ),
        "Browser",
    )
    system = next(
        (
            name
            for key, name in (
                ("Android", "Android"),
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("CrOS", "ChromeOS"),
                ("Linux", "Linux"),
            )
            if key in agent
        ),
        "an unknown system",
    )
    return f"{browser} on {system}"


def devices_of(user):
    return list(TrustedDevice.select().where(TrustedDevice.user == user.id).order_by(TrustedDevice.created_at.desc()))

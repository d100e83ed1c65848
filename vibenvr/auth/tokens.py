"""API tokens: generated here, shown once, stored as SHA-256 hex, looked up by hash."""

import datetime as dt
import hashlib
import secrets

from ..models import ApiToken, User
from ..timeutil import iso
from .clock import now as clock_now

TOKEN_PREFIX = "vnvr_"  # noqa: S105 - a visible prefix, not a secret
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def sha256_hex(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def new_secret():
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def issue_token(user, name, expires_days=None):
    """Create a token for ``user``; return ``(ApiToken, plain token)``. The plain token is not stored."""
    plain = new_secret()
    created = clock_now()
    expires_at = created + dt.timedelta(days=expires_days) if expires_days else None
    token = ApiToken.create(
        name=name, user=user, token_hash=sha256_hex(plain), created_at=created, expires_at=expires_at
    )
    return token, plain


def user_for_token(plain, now=None):
    """The active owner of an active, unexpired token, or None. Marks the token as used."""
    if not plain or len(plain) > 512:
        return None
    now = now or clock_now()
    token = ApiToken.select(ApiToken, User).join(User).where(ApiToken.token_hash == sha256_hex(plain)).first()
    if token is None or not token.is_active or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.update(last_used_at=now).where(ApiToken.id == token.id).execute()
    return token.user


def token_from_request(request):
    """The plain token from ``Authorization: Bearer`` or ``X-API-Key``, or None."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.headers.get("X-API-Key", "").strip() or None


def is_expired(token, now=None):
    return token.expires_at is not None and token.expires_at <= (now or clock_now())


def token_to_dict(token):
    """The token in the API vocabulary; never its hash."""
    return {
        "id": token.id,
        "name": token.name,
        "username": token.user.username,
        "created_at": iso(token.created_at),
        "last_used_at": iso(token.last_used_at),
        "expires_at": iso(token.expires_at),
        "is_active": token.is_active,
    }

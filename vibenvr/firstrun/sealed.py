"""A location's settings carried from "connect" to "fetch" on /setup, sealed so only this server can read them.

Connecting lists a location's files; fetching one is the next request and needs the same credentials. They
are never kept on the server (SPEC §13, §16), and the page does not echo a password back in plain: the
list carries the settings as a Fernet token (AES with an HMAC, from ``cryptography``) under a key derived
from the app's secret key, valid for LIFETIME. The browser holds only that opaque text; a changed or old
token opens as None. No Flask here.
"""

import base64
import datetime as dt
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

LIFETIME = dt.timedelta(minutes=15)
_PURPOSE = b"vibenvr setup restore: a backup location's settings between two requests"


def _fernet(secret_key):
    material = secret_key.encode("utf-8") if isinstance(secret_key, str) else bytes(secret_key)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def _seconds(moment):
    return int(moment.replace(tzinfo=dt.UTC).timestamp())


def seal(secret_key, settings, moment):
    """``settings`` (a JSON-able dict) as an opaque text token made at ``moment`` (naive UTC)."""
    data = json.dumps(settings, separators=(",", ":")).encode("utf-8")
    return _fernet(secret_key).encrypt_at_time(data, _seconds(moment)).decode("ascii")


def unseal(secret_key, token, moment):
    """The settings sealed in ``token``, or None when it is not one of ours, was changed or is older than
    LIFETIME at ``moment``."""
    if not isinstance(token, str) or not token or len(token) > 64 * 1024:
        return None
    try:
        data = _fernet(secret_key).decrypt_at_time(token, int(LIFETIME.total_seconds()), _seconds(moment))
        settings = json.loads(data)
    except (InvalidToken, ValueError):
        return None
    return settings if isinstance(settings, dict) else None

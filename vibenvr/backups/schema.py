"""The backup's item schemas: the API's own schemas for cameras, groups and storage profiles, plus the
rules for the sections only a backup carries (users with their secrets, tokens, codes, devices)."""

import binascii
import datetime as dt
import re

from ..auth.otp import MIN_SECRET_BITS, totp_for
from ..cameras.schema import CAMERA_SCHEMA
from ..groups.schema import GROUP_SCHEMA
from ..storage.schema import STORAGE_PROFILE_SCHEMA
from ..timeutil import iso, parse_iso
from ..validation import REQUIRED, FieldError, boolean, choice, id_list, integer, json_object, text

_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def iso_time(required=True):
    """An ISO 8601 time, normalised to UTC with Z (``2026-11-29T22:40:00Z``)."""

    def check(value, field):
        if value is None and not required:
            return None
        if isinstance(value, str) and _CANONICAL_TIME.fullmatch(value):
            try:
                dt.datetime.fromisoformat(value[:19])  # the common case: already canonical
                return value
            except ValueError:
                pass  # parse_iso below explains what is wrong
        try:
            return iso(parse_iso(value))
        except ValueError as exc:
            raise FieldError(field, str(exc)) from None

    return check


def _argon2_hash(value, field):
    value = text(255, required=True, strip=False)(value, field)
    if not value.startswith("$argon2"):
        raise FieldError(field, "is not an argon2 hash (it should start with $argon2id$)")
    return value


_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_BASE32 = re.compile(r"^[A-Z2-7]+=*$")


def _sha256_hex(value, field):
    if not isinstance(value, str) or not _HEX64.match(value):
        raise FieldError(field, "must be 64 hexadecimal digits (the SHA-256 of the token)")
    return value.lower()


def _totp_secret(value, field):
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FieldError(field, "must be text")
    secret = value.strip().upper()
    if not _BASE32.match(secret):
        raise FieldError(field, "is not base32 (only the letters A-Z and the digits 2-7)")
    if len(secret) > 64:
        raise FieldError(field, f"has {len(secret)} characters; at most 64 are allowed")
    try:
        totp_for(secret).byte_secret()  # what sign-in will use
    except (ValueError, binascii.Error) as exc:
        raise FieldError(field, f"cannot be used by an authenticator ({exc}); it needs at least "
                                f"{MIN_SECRET_BITS} bits, {MIN_SECRET_BITS // 5} base32 characters") from None
    return secret


_ID = (integer(1, 2**53), REQUIRED)
SETTINGS_EXTRA = json_object()
_CREATED = (iso_time(), REQUIRED)

USER_SCHEMA = {
    "username": (text(64, required=True), REQUIRED),
    "email": (text(320), ""),
    "hashed_password": (_argon2_hash, REQUIRED),
    "role": (choice("admin", "viewer"), "viewer"),
    "language": (text(10), "en"),
    "is_active": (boolean, True),
    "is_2fa_enabled": (boolean, False),
    "totp_secret": (_totp_secret, None),
    "restrict_camera_access": (boolean, False),
    "allowed_camera_ids": (id_list, list),
    "allowed_group_ids": (id_list, list),
    "extra": (json_object(), dict),
}

ITEM_SCHEMAS = {
    "storage_profiles": {"id": _ID, **STORAGE_PROFILE_SCHEMA},
    "cameras": {"id": _ID, **CAMERA_SCHEMA, "created_at": _CREATED},
    "groups": {"id": _ID, **GROUP_SCHEMA},
    "associations": {"camera_id": _ID, "group_id": _ID},
    "users": {"id": _ID, **USER_SCHEMA, "created_at": _CREATED},
    "api_tokens": {
        "id": _ID,
        "name": (text(100, required=True), REQUIRED),
        "username": (text(64, required=True), REQUIRED),
        "token_hash": (_sha256_hex, REQUIRED),
        "created_at": _CREATED,
        "last_used_at": (iso_time(False), None),
        "expires_at": (iso_time(False), None),
        "is_active": (boolean, True),
    },
    "recovery_codes": {
        "id": _ID,
        "username": (text(64, required=True), REQUIRED),
        "code_hash": (_argon2_hash, REQUIRED),
        "created_at": _CREATED,
    },
    "trusted_devices": {
        "id": _ID,
        "username": (text(64, required=True), REQUIRED),
        "token_hash": (_sha256_hex, REQUIRED),
        "name": (text(200), ""),
        "last_used": (iso_time(False), None),
        "expires_at": (iso_time(), REQUIRED),
        "created_at": _CREATED,
    },
}

# Keys that must be unique within a section (besides ``id``), and what names an item in messages.
UNIQUE = {"storage_profiles": ("name",), "cameras": ("name",), "groups": ("name",), "users": ("username",),
          "api_tokens": ("token_hash",), "trusted_devices": ("token_hash",)}
LABEL = {"storage_profiles": "name", "cameras": "name", "groups": "name", "users": "username",
         "api_tokens": "name", "trusted_devices": "name"}

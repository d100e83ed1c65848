"""The backup's item schemas: the API's own schemas for cameras, groups and storage profiles, plus the
rules for the sections only a backup carries (users with their secrets, tokens, codes, devices)."""

import binascii
import datetime as dt
import re

from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError

from ...auth.otp import MIN_SECRET_BITS, totp_for
from ...cameras.schema import CAMERA_SCHEMA
from ...groups.schema import GROUP_SCHEMA
from ...storage.schema import STORAGE_PROFILE_SCHEMA
from ...timeutil import iso, parse_iso
from ...validation import REQUIRED, FieldError, boolean, choice, id_list, integer, json_object, text
from ..locations.schema import LOCATION_SCHEMA, kind_problems
from .envelope import parse_recipient

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


#: SPEC §12 "Imported hashes are bounded": a hash's argon2 parameters set what every sign-in attempt for its
#: user costs, a wrong password included, so a backup may not bring in more than these (m in KiB).
ARGON2_MAX = {"m": 262144, "t": 10, "p": 8}
ARGON2_LIMIT = "m ≤ 262144 KiB (256 MiB), t ≤ 10, p ≤ 8"
_ARGON2_FORM = "$argon2id$v=19$m=…,t=…,p=…$salt$hash"
_B64 = re.compile(r"[A-Za-z0-9+/]+")
_WHAT_TO_DO = {
    "hashed_password": "restore the file without this user (remove it from users) and set their password "
    "afterwards: flask --app app users set-password USERNAME",
    "code_hash": "remove this recovery code from the file; the user makes new codes on the Security page",
}


def _argon2_hash(value, field):
    """An argon2 hash in the standard encoding (argon2-cffi reads its parameters) within ARGON2_MAX."""
    value = text(255, required=True, strip=False)(value, field)
    if not value.startswith("$argon2"):
        scheme = value.split("$")[1] if value.startswith("$") and value.count("$") > 1 else ""
        seen = f" (this one starts with ${scheme[:12]}$)" if scheme else ""
        raise FieldError(
            field,
            f"is not an argon2 hash{seen}: only argon2 hashes ({_ARGON2_FORM}) can sign in here; {_WHAT_TO_DO[field]}",
        )
    try:
        params = extract_parameters(value)
    except InvalidHashError:
        params = None
    if params is None or not _standard_encoding(value, params):
        raise FieldError(field, f"is not a readable argon2 hash (expected {_ARGON2_FORM}); {_WHAT_TO_DO[field]}")
    used = {"m": params.memory_cost, "t": params.time_cost, "p": params.parallelism}
    if any(used[key] > limit for key, limit in ARGON2_MAX.items()):
        raise FieldError(
            field,
            f"uses argon2 parameters m={used['m']}, t={used['t']}, p={used['p']} above the limit "
            f"{ARGON2_LIMIT}: every sign-in attempt would cost that much; {_WHAT_TO_DO[field]}",
        )
    return value


def _standard_encoding(value, params):
    """Whether ``value`` is exactly the encoding argon2 writes for ``params`` (extract_parameters also reads
    "m=1_000", reordered or negative values, and salts too short to verify)."""
    parts = value.split("$")
    if len(parts) == 6 and (params.version not in (16, 19) or parts[2] != f"v={params.version}"):
        return False  # five parts: argon2 1.0 without "v=", which argon2 still verifies
    if parts[-3] != f"m={params.memory_cost},t={params.time_cost},p={params.parallelism}":
        return False
    if params.time_cost < 1 or params.parallelism < 1 or params.memory_cost < 8 * params.parallelism:
        return False
    salt, digest = parts[-2], parts[-1]
    return (
        bool(_B64.fullmatch(salt) and _B64.fullmatch(digest))
        and len(salt) % 4 != 1
        and len(digest) % 4 != 1
        and params.salt_len >= 8
        and params.hash_len >= 4
    )  # argon2's own minimums


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
        raise FieldError(
            field,
            f"cannot be used by an authenticator ({exc}); it needs at least "
            f"{MIN_SECRET_BITS} bits, {MIN_SECRET_BITS // 5} base32 characters",
        ) from None
    return secret


def public_key(value, field):
    """An age recipient or SSH public key, in the form ``envelope.parse_recipient`` stores (SPEC §13)."""
    try:
        return parse_recipient(value, field)[0]
    except ValueError as exc:
        raise FieldError(field, str(exc).removeprefix(f"{field} ")) from None


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
    "backup_recipients": {
        "id": _ID,
        "name": (text(100, required=True), REQUIRED),
        "recipient": (public_key, REQUIRED),
        "created_at": _CREATED,
    },
    "backup_locations": {"id": _ID, **LOCATION_SCHEMA, "created_at": _CREATED},
}
#: Checks of a whole item after its fields (what a location's kind needs): item -> [FieldError].
ITEM_CHECKS = {"backup_locations": kind_problems}

# Keys that must be unique within a section (besides ``id``), and what names an item in messages.
UNIQUE = {
    "storage_profiles": ("name",),
    "cameras": ("name",),
    "groups": ("name",),
    "users": ("username",),
    "api_tokens": ("token_hash",),
    "trusted_devices": ("token_hash",),
    "backup_recipients": ("name", "recipient"),
    "backup_locations": ("name",),
}
LABEL = {
    "storage_profiles": "name",
    "cameras": "name",
    "groups": "name",
    "users": "username",
    "api_tokens": "name",
    "trusted_devices": "name",
    "backup_recipients": "name",
    "backup_locations": "name",
}

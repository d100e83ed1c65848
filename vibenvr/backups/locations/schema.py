"""The fields of a backup location (SPEC §14), one vocabulary for the API, the backup and the pages.

``LOCATION_SCHEMA`` validates each field on its own (as the other ``{field: (validator, default)}`` tables
do); ``kind_problems`` then checks what the location's kind needs (a folder's path, an SFTP host, …),
so a location a backup brings back is as usable as one typed in. Secrets are ``SECRETS``: write-only in
answers (``null`` with ``<field>_set``), carried by backups like every other credential.
"""

import re
from urllib.parse import urlsplit

from ...validation import REQUIRED, FieldError, boolean, choice, integer, nullable, storage_path, text

KINDS = ("folder", "sftp", "webdav", "s3")
BACKUP_KINDS = ("auto", "manual", "imported", "safety")
SECRETS = ("password", "private_key", "secret_access_key")
#: What each kind reads; everything else is kept empty for it.
KIND_FIELDS = {
    "folder": ("path",),
    "sftp": ("host", "port", "username", "password", "private_key", "path", "host_key"),
    "webdav": ("url", "username", "password", "tls_fingerprint"),
    "s3": ("endpoint_url", "region", "bucket", "prefix", "access_key_id", "secret_access_key", "tls_fingerprint"),
}
REQUIRED_BY_KIND = {
    "folder": ("path",),
    "sftp": ("host", "username"),
    "webdav": ("url",),
    "s3": ("bucket", "access_key_id", "secret_access_key"),
}
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$|^[0-9A-Fa-f:.]+$")
_FINGERPRINT = re.compile(r"^(SHA256:)?[0-9A-Fa-f]{2}(:?[0-9A-Fa-f]{2}){31}$")


def receives(value, field):
    """A non-empty list of backup kinds, each once, kept in the canonical order."""
    if not isinstance(value, list) or not value:
        raise FieldError(field, f"must be a list of backup kinds: some of {', '.join(BACKUP_KINDS)}")
    unknown = [v for v in value if not isinstance(v, str) or v not in BACKUP_KINDS]
    if unknown:
        raise FieldError(field, f"has {unknown[0]!r}, which is not a backup kind ({', '.join(BACKUP_KINDS)})")
    return [kind for kind in BACKUP_KINDS if kind in value]


def host(value, field):
    value = text(253)(value, field)
    if value and not _HOST.match(value):
        raise FieldError(field, "must be a host name or an IP address, without a scheme or a port")
    return value


def http_url(value, field):
    value = text(2048)(value, field)
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FieldError(field, "must be an http:// or https:// address, such as https://nas.local/dav/backups")
    if parts.username or parts.password:
        raise FieldError(field, "must not hold a user or password: use the username and password fields")
    return value


def folder_path(value, field):
    """An absolute local folder (a NAS mounted at /mnt/nas); empty is checked by the kind."""
    if value in (None, ""):
        return ""
    return storage_path(value, field)


def remote_path(value, field):
    value = text(1024)(value, field)
    if ".." in value.split("/") or "\\" in value:
        raise FieldError(field, "must be a folder path with / separators and no '..'")
    return value


def prefix(value, field):
    value = remote_path(value, field).strip("/")
    return f"{value}/" if value else ""


def bucket(value, field):
    value = text(63)(value, field)
    if value and not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value):
        raise FieldError(field, "must be an S3 bucket name: 3–63 lower-case letters, digits, dots and hyphens")
    return value


def fingerprint(value, field):
    value = text(120)(value, field)
    if value and not _FINGERPRINT.match(value):
        raise FieldError(field, "must be a SHA-256 fingerprint: 64 hexadecimal digits, with or without colons")
    return value


def private_key(value, field):
    value = text(16384, strip=False)(value, field).strip()
    if value and "PRIVATE KEY-----" not in value:
        raise FieldError(field, "must be an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY----- …)")
    return f"{value}\n" if value else ""


def _retention(value, field):
    return integer(1, 1000)(value, field)


LOCATION_SCHEMA = {
    "name": (text(100, required=True), REQUIRED),
    "kind": (choice(*KINDS), REQUIRED),
    "enabled": (boolean, True),
    "receives": (receives, lambda: ["auto", "manual"]),
    "retention": (nullable(_retention), None),
    "path": (text(1024), ""),
    "host": (host, ""),
    "port": (integer(1, 65535), 22),
    "username": (text(200), ""),
    "password": (text(1000, strip=False), ""),
    "private_key": (private_key, ""),
    "host_key": (text(4096), ""),
    "url": (http_url, ""),
    "endpoint_url": (http_url, ""),
    "region": (text(100), ""),
    "bucket": (bucket, ""),
    "prefix": (prefix, ""),
    "access_key_id": (text(200), ""),
    "secret_access_key": (text(1000, strip=False), ""),
    "tls_fingerprint": (fingerprint, ""),
}


def kind_problems(item):
    """``[FieldError]`` for what ``item`` (a cleaned location) lacks or holds wrongly for its kind."""
    kind = item.get("kind")
    problems = [
        FieldError(key, f"is required for a {kind} location")
        for key in REQUIRED_BY_KIND.get(kind, ())
        if not item.get(key)
    ]
    path_check = {"folder": folder_path, "sftp": remote_path}.get(kind)
    if path_check and item.get("path"):
        try:
            path_check(item["path"], "path")
        except FieldError as exc:
            problems.append(exc)
    if kind == "sftp" and not (item.get("password") or item.get("private_key")):
        problems.append(FieldError("password", "or private_key is required for an sftp location"))
    return problems


def for_kind(item):
    """The item with the fields its kind does not read set to their defaults (a kind changed to another
    keeps no stale credentials of the old one)."""
    kept = {"name", "kind", "enabled", "receives", "retention", *KIND_FIELDS.get(item.get("kind"), ())}
    out = {}
    for key, (_validator, default) in LOCATION_SCHEMA.items():
        empty = default() if callable(default) else default
        out[key] = item.get(key, empty) if key in kept else empty
    return out

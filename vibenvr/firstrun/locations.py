"""A backup location typed in on /setup (SPEC §14, §16): validated as a saved one is, used, never saved.

The form names each field ``<kind>-<field>`` (``sftp-path``, ``folder-path``), so the fields of the kinds
not chosen (hidden by the page's CSS, still sent by the browser) never mix with the chosen one's. Network
calls go through the kind's Transport, bounded by its timeouts (``transport.TIMEOUT``).
"""

from ..backups.locations.forms import naive_utc
from ..backups.locations.kinds import transport_for
from ..backups.locations.schema import KIND_FIELDS, KINDS, LOCATION_SCHEMA, SECRETS, for_kind, kind_problems
from ..backups.locations.service import backup_files, backup_name
from ..backups.names import is_encrypted_name
from ..pages import form_int
from ..timeutil import iso
from ..validation import ValidationError, clean_object

MAX_LISTED = 200  # files shown (newest names first); older ones are reached from the terminal


def from_form(form):
    """``(settings, errors)``: the location's settings from the form, or ``None`` and ``{form field: message}``."""
    kind = form.get("kind", "")
    if kind not in KINDS:
        return None, {"kind": "Choose the kind of location."}
    body = {"name": "setup", "kind": kind, "enabled": True}
    for field in KIND_FIELDS[kind]:
        value = form.get(f"{kind}-{field}", "")
        if field == "port":
            if not value.strip():
                continue  # the default, 22
            value = form_int(value)
        body[field] = value
    errors = {}

    def add(exc):
        for field, message in exc.field_errors:
            errors.setdefault(f"{kind}-{field}" if field in KIND_FIELDS[kind] else "kind", _sentence(message))

    try:
        clean, _ = clean_object(LOCATION_SCHEMA, body)
    except ValidationError as exc:  # the rest is still checked for what the kind needs: every problem at once
        add(exc)
        clean = {key: value for key, value in body.items() if f"{kind}-{key}" not in errors}
    settings = for_kind(clean)
    problems = [p for p in kind_problems(settings) if f"{kind}-{p.field}" not in errors]
    if problems:
        add(ValidationError(problems))
    return (None, errors) if errors else (settings, {})


def _sentence(message):
    """A field's problem as a sentence under the field: 'must be between 1 and 65535' → 'Must be between 1 and
    65535.', 'is required for a folder location' → 'Required.'"""
    message = message.strip()
    if message.startswith("or private_key"):
        return "Enter the password or a private key."
    if message.startswith("is required for a"):
        return "Required."
    message = message.removeprefix("is ")
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


def typed_values(form):
    """The fields as typed, to show the form again after a problem: every kind's, but never a secret."""
    values = {"kind": form.get("kind", "")}
    for kind, fields in KIND_FIELDS.items():
        for field in fields:
            if field not in SECRETS:
                values[f"{kind}-{field}"] = form.get(f"{kind}-{field}", "")
    return values


def form_values(settings):
    """What the form shows again after a connection: every field but the secrets, which are never echoed."""
    if not settings:
        return {}
    kind = settings["kind"]
    values = {"kind": kind}
    for field in KIND_FIELDS[kind]:
        if field not in SECRETS:
            values[f"{kind}-{field}"] = settings.get(field, "")
    return values


def place(settings):
    """Where the location is, for people: 'the folder /mnt/nas', 'SFTP backup@nas.local:22 backups', …"""
    kind = settings["kind"]
    if kind == "folder":
        return f"the folder {settings['path']}"
    if kind == "sftp":
        return (
            f"SFTP {settings['username']}@{settings['host']}:{settings['port']} {settings['path'] or '(login folder)'}"
        )
    if kind == "webdav":
        return f"WebDAV {settings['url']}"
    where = f" at {settings['endpoint_url']}" if settings.get("endpoint_url") else ""
    return f"S3 bucket {settings['bucket']}{'/' + settings['prefix'] if settings.get('prefix') else ''}{where}"


def list_files(settings):
    """``(files, settings, fingerprint)``: the backup files at the location (newest name first, as dicts),
    the settings with an SFTP host key seen on this first connection pinned for the fetch that follows,
    and that key's fingerprint (None otherwise). LocationError when the location fails."""
    with transport_for(settings) as transport:
        listed = backup_files(transport.list())
        seen = getattr(transport, "seen_host_key", None)
        fingerprint = getattr(transport, "seen_host_key_fingerprint", None)
    if settings["kind"] == "sftp" and seen and not settings.get("host_key"):
        settings = {**settings, "host_key": seen}
    else:
        fingerprint = None
    files = [
        {"name": f.name, "size": f.size, "modified": _when(f.modified), "encrypted": is_encrypted_name(f.name)}
        for f in listed[:MAX_LISTED]
    ]
    return files, settings, fingerprint


def _when(modified):
    """A listed file's time as ISO text (naive UTC), or None when the location does not say."""
    return iso(naive_utc(modified)) if modified is not None else None


def fetch(settings, name, limit):
    """The bytes of backup file ``name`` at the location, at most ``limit``; InvalidBackupName for a name
    that is no backup's (before any network call), LocationError when the location fails."""
    backup_name(name)
    with transport_for(settings) as transport:
        return transport.get(name, limit)

"""Backup locations as the API, the pages and the terminal see them (SPEC §14): list, add, change, delete.

Secrets (``password``, ``private_key``, ``secret_access_key``) are write-only, as everywhere (SPEC §12,
``masking``): answered as ``null`` with ``<field>_set``; in a change ``null`` or leaving the field out
keeps the stored one and ``""`` clears it. Deleting a location deletes nothing at the location.
"""

import logging

from flask import current_app, has_app_context
from peewee import IntegrityError

from ...db import current_row, save_changes, write_transaction
from ...models import BackupLocation
from ...runtime import LocationCopy, LocationStatus
from ...timeutil import iso, utcnow
from ...validation import ConflictError, FieldError, ValidationError, clean_object
from ..errors import InvalidBackupName
from ..names import NAME_RE
from .kinds import transport_for
from .schema import LOCATION_SCHEMA, SECRETS, for_kind, kind_problems

log = logging.getLogger(__name__)
FIELDS = tuple(LOCATION_SCHEMA)


def settings_of(row):
    """Every field of ``row`` in the location vocabulary, secrets included (for its Transport only)."""
    return {key: getattr(row, key) for key in ("id", *FIELDS)}


def to_dict(row):
    """The API's answer: every field, secrets as ``null`` with ``<field>_set``."""
    answer = {"id": row.id}
    for key in FIELDS:
        value = getattr(row, key)
        if key in SECRETS:
            answer[key] = None
            answer[f"{key}_set"] = bool(value)
        else:
            answer[key] = value
    answer["created_at"] = iso(row.created_at)
    return answer


def list_locations():
    return list(BackupLocation.select().order_by(BackupLocation.name, BackupLocation.id))


def _clean(data, stored=None):
    """The body validated (whole for a new location, over ``stored`` for a change), fields of other kinds
    emptied, and what the kind needs checked; ValidationError naming each field otherwise."""
    if not isinstance(data, dict):
        raise ValidationError(["the body must be a JSON object"])
    body = dict(data)
    for key in SECRETS:
        if key in body and body[key] is None:
            del body[key]  # null keeps the stored value (a masked answer written back)
    for key in (f"{k}_set" for k in SECRETS):
        body.pop(key, None)
    body.pop("id", None)
    body.pop("created_at", None)
    clean, _ = clean_object(LOCATION_SCHEMA, body, partial=stored is not None)
    merged = for_kind({**(stored or {}), **clean})
    problems = kind_problems(merged)
    if problems:
        raise ValidationError(problems)
    return merged


def _now():
    """The app's clock (tests inject one), or the time."""
    return ((current_app.config.get("CLOCK") if has_app_context() else None) or utcnow)()


def _check_name(name, exclude_id=None):
    query = BackupLocation.select().where(BackupLocation.name == name)
    if exclude_id is not None:
        query = query.where(BackupLocation.id != exclude_id)
    if query.exists():
        raise ConflictError(f'name: a location named "{name}" already exists')


def create_location(data):
    clean = _clean(data)
    try:
        with write_transaction():
            _check_name(clean["name"])
            row = BackupLocation.create(**clean, created_at=_now())
    except IntegrityError:
        raise ConflictError(f'name: a location named "{clean["name"]}" already exists') from None
    log.info('backup location "%s" (%s) added', row.name, row.kind)
    return row


def update_location(row, data):
    clean = _clean(data, stored=settings_of(row))
    try:
        with write_transaction():
            row = current_row(BackupLocation, row.id, "backup location")
            _check_name(clean["name"], exclude_id=row.id)
            if clean["kind"] != row.kind or _where(clean) != _where(settings_of(row)):
                # another place: what was copied to the old one is not there; copy afresh
                LocationCopy.delete().where(LocationCopy.location_id == row.id).execute()
            save_changes(row, clean)
    except IntegrityError:
        raise ConflictError(f'name: a location named "{clean["name"]}" already exists') from None
    return row


def _where(settings):
    """What identifies the place a location writes to (a change of it starts its copies afresh)."""
    keys = ("path", "host", "port", "url", "endpoint_url", "bucket", "prefix")
    return tuple(settings.get(k) for k in keys)


def delete_location(row):
    """Delete the location and what is known of its copies; the files at the location stay."""
    with write_transaction():
        BackupLocation.delete().where(BackupLocation.id == row.id).execute()
        LocationCopy.delete().where(LocationCopy.location_id == row.id).execute()
        LocationStatus.delete().where(LocationStatus.location_id == row.id).execute()
    log.info('backup location "%s" deleted; its files at the location were kept', row.name)


def pin_host_key(row, seen):
    """Keep an SFTP server's host key seen on the first connection (SPEC §14); True when pinned now."""
    if row.kind != "sftp" or not seen or row.host_key:
        return False
    try:
        seen = LOCATION_SCHEMA["host_key"][0](seen, "host_key")  # pinned only as a backup can carry it
    except FieldError:
        log.warning(
            'backup location "%s": the server\'s host key cannot be pinned (%d characters)', row.name, len(seen)
        )
        return False
    with write_transaction():
        BackupLocation.update(host_key=seen).where(
            (BackupLocation.id == row.id) & (BackupLocation.host_key == "")
        ).execute()
    log.info('backup location "%s": host key %s pinned on first connection', row.name, seen.split(" ")[0])
    return True


def backup_files(listed):
    """The files at a location that are backups by their names (``vibe_backup_…json`` / ``….json.age``,
    VibeNVR 1.x names too), newest name first."""
    return sorted((f for f in listed if NAME_RE.match(f.name)), key=lambda f: f.name, reverse=True)


def backup_name(name):
    """``name`` when it is a backup file name; a 400 otherwise (before any network call)."""
    if not NAME_RE.match(name or ""):
        raise InvalidBackupName(f"{name!r} is not a backup file name")
    return name


# --- talking to the location (the API, the pages and the terminal share these) -----------------------


def test_connection(row):
    """Probe the location (write, read back and delete a small file); ``{"ok": True, …}`` with what it
    said, an SFTP host key seen for the first time pinned. LocationError when it fails."""
    with transport_for(settings_of(row)) as transport:
        found = transport.probe()
    return {"ok": True, **found, "host_key_pinned": pin_host_key(row, found.get("host_key"))}


def location_files(row):
    """The backup files at the location, newest name first (LocationError when it cannot be listed)."""
    with transport_for(settings_of(row)) as transport:
        return backup_files(transport.list())


def fetch_bytes(row, name, limit):
    """The bytes of backup file ``name`` at the location, at most ``limit`` (LocationError otherwise)."""
    backup_name(name)
    with transport_for(settings_of(row)) as transport:
        return transport.get(name, limit)

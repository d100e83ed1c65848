"""Copies of backups at the locations (SPEC §14), made by the scheduler thread, never in a request.

``enqueue`` records a pending copy for each enabled location that receives the backup's kind (the create
answer says how many). ``run`` — called by the scheduler at each tick and when woken — sends what is due:
the file as stored, encrypted per §13 first when ``backup_encrypt`` is ``offsite`` or ``all`` (to the
server key and the admins' recipients); the location writes it atomically; then it is listed back and read
back, and its size and SHA-256 are recorded. A failure is recorded with its reason and retried after 1,
5 and 30 minutes, then hourly; it never touches the local backup. After an automatic copy, automatic copies
beyond the location's retention are deleted there — only names recorded here, so nothing this server did
not write is ever deleted; manual copies are never deleted there.
"""

import datetime as dt
import hashlib
import logging

from ...models import BackupLocation
from ...runtime import LocationCopy, LocationStatus
from ...settings.service import get_setting
from ..document import envelope
from ..errors import BackupNotFound
from .kinds import transport_for
from .service import pin_host_key, settings_of
from .transport import LocationError

log = logging.getLogger(__name__)

BACKOFF = (60, 300, 1800)  # seconds before the 2nd, 3rd and 4th attempt
EACH_RUN = 3600  # then once an hour
BATCH = 20  # copies per location per run, so a long catch-up never holds the scheduler for long
MAX_REMOTE_BYTES = 512 * 1024 * 1024  # what reading a copy back may read


def encrypt_offsite():
    return get_setting("backup_encrypt") in ("offsite", "all")


def remote_name(name, encrypted):
    return f"{name}.age" if encrypted and not name.endswith(".age") else name


def receiving(kind):
    """The enabled locations that receive backups of ``kind``."""
    return [row for row in BackupLocation.select().where(BackupLocation.enabled) if kind in (row.receives or [])]


def enqueue(entry, now):
    """Record a pending copy of backup ``entry`` for every location that receives it; return how many."""
    targets = receiving(entry.kind)
    encrypted = encrypt_offsite() or entry.encrypted
    for row in targets:
        LocationCopy.insert(
            location_id=row.id,
            name=entry.name,
            remote_name=remote_name(entry.name, encrypted),
            backup_kind=entry.kind,
            state="pending",
            next_attempt_at=now,
            created_at=now,
        ).on_conflict_ignore().execute()
    return len(targets)


def pending_for(name):
    return LocationCopy.select().where((LocationCopy.name == name) & (LocationCopy.state == "pending")).count()


def catch_up(store, now):
    """Pending copies for what a location should hold but has no record of: every backup written since it
    was added, and of older ones the newest of each kind it receives (its first copy of the current state)."""
    entries = store.list()
    for row in BackupLocation.select().where(BackupLocation.enabled):
        known = {
            name
            for (name,) in LocationCopy.select(LocationCopy.name).where(LocationCopy.location_id == row.id).tuples()
        }
        newest_seen = set()
        for entry in entries:  # newest first
            if entry.kind not in (row.receives or []) or entry.unusable:
                continue
            first_of_kind = entry.kind not in newest_seen
            newest_seen.add(entry.kind)
            if entry.name in known or not (entry.created_at >= row.created_at or first_of_kind):
                continue
            LocationCopy.insert(
                location_id=row.id,
                name=entry.name,
                remote_name=remote_name(entry.name, encrypt_offsite() or entry.encrypted),
                backup_kind=entry.kind,
                state="pending",
                next_attempt_at=now,
                created_at=now,
            ).on_conflict_ignore().execute()


def run(store, recipients, now):
    """Send every due copy (at most BATCH per location); return ``{location id: (done, failed)}``."""
    catch_up(store, now)
    results = {}
    due = (
        LocationCopy.select()
        .where((LocationCopy.state == "pending") & (LocationCopy.next_attempt_at <= now))
        .order_by(LocationCopy.created_at, LocationCopy.id)
    )
    by_location = {}
    for copy in due:
        by_location.setdefault(copy.location_id, []).append(copy)
    for location_id, copies in by_location.items():
        row = BackupLocation.get_or_none(BackupLocation.id == location_id)
        if row is None or not row.enabled:
            continue
        done, failed = _run_location(row, copies[:BATCH], store, recipients, now)
        if done or failed:  # copies of backups deleted meanwhile are dropped, and count as neither
            results[location_id] = (done, failed)
    return results


def _run_location(row, copies, store, recipients, now):
    done = failed = 0
    try:
        transport = transport_for(settings_of(row))
    except LocationError as exc:  # the kind is not in this build: a failure of this location only
        _failed(row, copies[0], exc, now)
        return done, 1
    with transport:
        for copy in copies:
            try:
                _send(transport, copy, store, recipients)
            except BackupNotFound:
                copy.delete_instance()  # deleted locally before it could be copied: nothing to send
                continue
            except LocationError as exc:
                _failed(row, copy, exc, now)
                failed += 1
                break  # the location is down or refusing: the other copies wait for the next attempt
            copy.state, copy.copied_at, copy.last_error = "done", now, ""
            copy.save()
            if pin_host_key(row, getattr(transport, "seen_host_key", None)):
                row.host_key = transport.seen_host_key
            _status(row.id, success=now)
            done += 1
            log.info('backup %s copied to location "%s" as %s', copy.name, row.name, copy.remote_name)
            if copy.backup_kind == "auto":
                _retention(row, transport, keep_name=copy.name)
    return done, failed


def _send(transport, copy, store, recipients):
    data = store.read_bytes(copy.name)
    if copy.remote_name != copy.name and not envelope.is_encrypted(data):
        data = envelope.encrypt(data, recipients())
    if copy.attempts:  # an earlier attempt may have left its (differently encrypted) copy: it is ours
        transport.delete(copy.remote_name)
    transport.put(copy.remote_name, data)
    digest = hashlib.sha256(data).hexdigest()
    listed = {f.name: f.size for f in transport.list()}
    if listed.get(copy.remote_name) != len(data):
        raise LocationError("protocol", f"{copy.remote_name} is not listed with its {len(data)} bytes after the upload")
    back = transport.get(copy.remote_name, len(data) + 1)
    if hashlib.sha256(back).hexdigest() != digest:
        raise LocationError("protocol", f"{copy.remote_name} reads back with other content than was sent")
    copy.size, copy.sha256 = len(data), digest


def _failed(row, copy, exc, now):
    copy.attempts += 1
    wait = BACKOFF[copy.attempts - 1] if copy.attempts <= len(BACKOFF) else EACH_RUN
    copy.next_attempt_at = now + dt.timedelta(seconds=wait)
    copy.last_error = str(exc)[:500]
    copy.save()
    _status(row.id, failure=(now, exc))
    log.warning(
        'copy of %s to location "%s" failed (attempt %d, next in %d min): %s',
        copy.name,
        row.name,
        copy.attempts,
        wait // 60,
        exc,
    )


def _status(location_id, success=None, failure=None):
    status, _ = LocationStatus.get_or_create(location_id=location_id)
    if success is not None:
        status.last_success_at = success
    if failure is not None:
        status.last_failure_at, error = failure
        status.last_failure, status.last_reason = str(error)[:500], error.reason
    status.save()


def _retention(row, transport, keep_name):
    """Delete automatic copies beyond the location's retention there (and only those recorded as ours)."""
    keep = row.retention or get_setting("backup_auto_retention")
    copies = list(
        LocationCopy.select()
        .where(
            (LocationCopy.location_id == row.id) & (LocationCopy.state == "done") & (LocationCopy.backup_kind == "auto")
        )
        .order_by(LocationCopy.name.desc())
    )
    for copy in copies[keep:]:
        if copy.name == keep_name:
            continue
        try:
            transport.delete(copy.remote_name)
        except LocationError as exc:
            log.warning('retention at location "%s" could not delete %s: %s', row.name, copy.remote_name, exc)
            return
        copy.state = "deleted"
        copy.save()
        log.info('retention deleted %s at location "%s"', copy.remote_name, row.name)


def status():
    """Per location: last success, last failure with its reason, pending copies (``/api/backups/status``)."""
    pending = {}
    for copy in LocationCopy.select(LocationCopy.location_id).where(LocationCopy.state == "pending"):
        pending[copy.location_id] = pending.get(copy.location_id, 0) + 1
    states = {s.location_id: s for s in LocationStatus.select()}
    answer = []
    for row in BackupLocation.select().order_by(BackupLocation.name):
        state = states.get(row.id)
        answer.append(
            {
                "id": row.id,
                "name": row.name,
                "kind": row.kind,
                "enabled": row.enabled,
                "pending": pending.get(row.id, 0),
                "last_success_at": state.last_success_at if state else None,
                "last_failure_at": state.last_failure_at if state else None,
                "last_failure": (state.last_failure or None) if state else None,
                "last_reason": (state.last_reason or None) if state else None,
            }
        )
    return answer

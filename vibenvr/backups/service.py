"""The backup engine inside the app: what the API, the CLI, the pages and the scheduler call.

Every operation that writes a backup or restores one holds the backup lock of the data folder, so
concurrent requests, the scheduler and terminal commands are serialised.
"""

import logging
from pathlib import Path

from flask import current_app

from ..fsutil import NotRegularFile, read_regular_file
from ..settings.service import clear_cache, get_setting
from ..signals import config_restored
from ..timeutil import utcnow
from ..validation import FieldError, ValidationError
from . import recipients
from .automation.pause import current_pause
from .document import envelope
from .document.canonical import SECTIONS
from .document.columns import TABLES, read_settings
from .document.diff import diff_documents
from .document.export import export_bytes, export_document
from .document.validate import validate_file
from .errors import (
    BackupError,
    BackupNotFound,
    BackupWriteError,
    DamagedBackup,
    InvalidBackupName,
    UnusableBackup,
    UploadTooLarge,
)
from .keys import (
    kit_downloaded,
    kit_text,
    mark_kit_downloaded,
    recipient_text,
    server_identities,
    server_identity,
)
from .locations import copies
from .locking import backup_lock
from .names import NAME_RE
from .restore import check_restorable, restore_document
from .store import SAFETY_KEEP, BackupStore

log = logging.getLogger(__name__)


def clock():
    """Now (naive UTC); tests inject ``CLOCK`` in the app config."""
    return (current_app.config.get("CLOCK") or utcnow)()


def get_store():
    return BackupStore(current_app.config["BACKUP_DIR"], clock=clock, keys=identities)


def lock():
    return backup_lock(current_app.config["DATA_DIR"])


def create_backup(kind="manual"):
    """Write a backup of the whole configuration; return its BackupEntry.

    After an automatic backup, automatic backups beyond the retention setting are deleted; after a
    safety backup, safety backups beyond the newest five. A failed write deletes nothing.
    """
    store = get_store()
    with lock():
        store.cleanup_temp()  # what a crash in an earlier write left (first: on a full disk it frees space)
        now = clock()
        data = export_bytes(kind, now=now, app_version=current_app.config["APP_VERSION"])
        encrypted = get_setting("backup_encrypt") == "all"
        if encrypted:
            data = envelope.encrypt(data, encryption_recipients(now))
        entry = store.write_bytes(data, kind, now, encrypted=encrypted)
        if kind == "auto":
            verify_written(store, entry)  # one that fails is kept aside as damaged; retention then deletes nothing
            deleted = store.apply_retention(get_setting("backup_auto_retention"), protect={entry.name})
            if deleted:
                log.info("retention deleted %s", ", ".join(deleted))
        elif kind == "safety":
            store.prune_safety(SAFETY_KEEP, protect={entry.name})
        if copies.enqueue(entry, now):
            wake_copier()
    log.info("backup written: %s (%d bytes)", entry.name, entry.size_bytes)
    return entry


def wake_copier():
    """Let the scheduler send pending location copies now when it runs in this process (another process's
    scheduler finds them at its next tick, within a minute)."""
    scheduler = current_app.extensions.get("backup_scheduler")
    if scheduler is not None and scheduler.leading.is_set():
        scheduler.wake()


def copy_locations(now=None):
    """Send the due location copies (SPEC §14); the scheduler thread calls it at each tick. Nothing is sent
    while a sanity run holds automatic backups back (SPEC §11: it leaves no trace, off this machine either)."""
    now = now or clock()
    if current_pause(current_app.config["DATA_DIR"], now):
        return {}
    return copies.run(get_store(), encryption_recipients, now)


def pending_copies(name):
    """``{"pending": n, "message": "copy to 2 locations pending"}`` for the answer to a create."""
    count = copies.pending_for(name)
    places = "location" if count == 1 else "locations"
    return {"pending": count, "message": f"copy to {count} {places} pending" if count else "no location receives it"}


def encryption_recipients(now=None):
    """Who an encrypted backup is encrypted to: the server key (made on first use) and the admins' own
    recipients (SPEC §13)."""
    return [server_identity(current_app.config["DATA_DIR"], now or clock()).to_public(), *recipients.public_keys()]


def key_state():
    """``{"recipient", "kit_downloaded", "kit_downloaded_at", "recipients"}``: the server key (made on first
    use), whether its kit was handed out, and how many recipients of the admins' own there are."""
    data_dir = current_app.config["DATA_DIR"]
    identity = server_identity(data_dir, clock())
    handed = kit_downloaded(data_dir)
    return {
        "recipient": recipient_text(identity),
        "kit_downloaded": handed is not None,
        "kit_downloaded_at": handed["downloaded_at"] if handed else None,
        "recipients": recipients.count(),
    }


def emergency_kit(by):
    """``(file name, text)`` of the emergency kit; records that it was handed out (not what it holds)."""
    data_dir, now = current_app.config["DATA_DIR"], clock()
    text = kit_text(server_identity(data_dir, now), get_setting("system_name"), now)
    mark_kit_downloaded(data_dir, now, by)
    log.info("emergency kit of the backup key downloaded by %s", by)
    return f"vibenvr-emergency-kit-{now.strftime('%Y%m%d')}.txt", text


DOWNLOAD_CHOICES = ("stored", "plain", "recipients", "passphrase")


def download(name, encrypt="stored", phrase=None):
    """``(file name, bytes)`` of backup ``name`` to hand out (SPEC §13): as stored, plain JSON (an encrypted
    file opened with the server key), encrypted to the recipients, or with a passphrase for this download.
    The passphrase is used for this call only; a short one is a ValidationError naming the field."""
    if encrypt not in DOWNLOAD_CHOICES:
        raise ValidationError([FieldError("encrypt", f"must be one of {', '.join(DOWNLOAD_CHOICES)}")])
    if encrypt == "passphrase" and (not isinstance(phrase, str) or len(phrase) < envelope.MIN_PASSPHRASE):
        raise ValidationError([FieldError("passphrase", f"must be at least {envelope.MIN_PASSPHRASE} characters")])
    data = get_store().read_bytes(name)
    if encrypt == "stored":
        return name, data
    if envelope.is_encrypted(data):
        data = envelope.decrypt(data, identities(), source=name)
    stem = name[: -len(".age")] if name.endswith(".age") else name
    if encrypt == "plain":
        return stem, data
    if encrypt == "recipients":
        return stem + ".age", envelope.encrypt(data, encryption_recipients())
    return stem + ".age", envelope.encrypt_with_passphrase(data, phrase)


def identities():
    """The keys this server opens encrypted backups with: its own, when it has made one."""
    return server_identities(current_app.config["DATA_DIR"])


def verify_written(store, entry):
    """Validate the file just written as a restore would (SPEC §12): an automatic backup that fails is
    never called a success. It is renamed to a damaged name (kept, listed as damaged, never counted as
    automatic) and DamagedBackup says why."""
    try:
        store.open(entry.name)
    except Exception as exc:  # whatever the cause: a file that does not validate cannot be restored
        if not isinstance(exc, BackupError | OSError | LookupError):
            log.exception("validating the new automatic backup %s failed unexpectedly", entry.name)
        reason = exc.summary if isinstance(exc, BackupError) else (str(exc) or type(exc).__name__)
        try:
            kept_as = store.set_aside_damaged(entry.name)
        except OSError as error:  # still a failure; startup protection skips it, as it validates every file
            log.error("could not rename the damaged automatic backup %s: %s", entry.name, error)
            kept_as = f"{entry.name} (renaming it failed: {error.strerror or error})"
        raise DamagedBackup(entry.name, kept_as, reason) from exc


def read_upload(upload):
    """An uploaded file's bytes, read no further than one byte past ``MAX_UPLOAD_MB``; UploadTooLarge beyond it."""
    limit_mb = current_app.config["MAX_UPLOAD_MB"]
    limit = limit_mb * 1024 * 1024
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise UploadTooLarge(limit_mb)
    return data


def import_backup(data, source="upload", identity=None, phrase=None):
    """Validate uploaded bytes and store them unchanged as an ``imported`` backup; an encrypted upload is
    opened with the server key, or the ``identity`` / ``phrase`` given for this call, and kept encrypted."""
    keys = identities() + (list(identity) if identity else [])
    valid = validate_file(data, source=source, identities=keys, phrase=phrase)
    with lock():
        entry = get_store().write_bytes(bytes(data), "imported", encrypted=valid.encrypted)
    return entry, valid


def load_backup(name_or_path, allow_path=False, identity=None, phrase=None):
    """Read and validate a stored backup by name, or (from the terminal) a file anywhere on disk; encrypted
    files open with the server key, or the ``identity`` / ``phrase`` given for this call."""
    keys = identities() + (list(identity) if identity else [])
    store = get_store()
    if isinstance(name_or_path, str) and NAME_RE.match(name_or_path):
        try:
            data = store.read_bytes(name_or_path)
        except BackupNotFound:
            if not allow_path or not Path(name_or_path).is_file():
                raise
        else:
            return validate_file(data, source=name_or_path, identities=keys, phrase=phrase)
    if not allow_path:
        raise InvalidBackupName(f"{name_or_path!r} is not a backup name")
    path = Path(name_or_path).expanduser()
    try:
        data = read_regular_file(path, follow_symlinks=True)  # never opens a FIFO or device: it would hang
    except FileNotFoundError:
        raise BackupNotFound(f"there is no backup named {name_or_path} in {store.folder} and no such file") from None
    except NotRegularFile as exc:
        raise UnusableBackup(f"{path} is {exc.what}, not a backup file: only regular files are read") from None
    except PermissionError:
        raise BackupNotFound(f"{path} cannot be read (permission denied)") from None
    return validate_file(data, source=str(path), identities=keys, phrase=phrase)


def current_document():
    """The configuration now, as a document a diff compares (``export_document`` without its checksum)."""
    doc = export_document("manual", now=clock(), app_version=current_app.config["APP_VERSION"])
    doc.pop("checksum")
    return doc


def diff_backup(name, against="current", allow_path=False, identity=None, phrase=None):
    """What restoring backup ``name`` over ``against`` (``"current"``: the configuration now, or another
    backup) would change: ``diff_documents`` with ``"backup"`` and ``"against"`` naming the two sides.
    Each file is opened as a restore opens it (``load_backup``)."""
    new = load_backup(name, allow_path=allow_path, identity=identity, phrase=phrase).doc
    if against == "current":
        old = current_document()
    else:
        old = load_backup(against, allow_path=allow_path, identity=identity, phrase=phrase).doc
    return {"backup": name, "against": against, **diff_documents(old, new)}


def current_counts():
    """Rows per section in the database now, counted as a backup counts them (for confirmations)."""
    counts = {"settings": len(read_settings())}
    counts.update((table.section, table.model.select().count()) for table in TABLES)
    return {section: counts.get(section, 0) for section in SECTIONS}


def restore(valid, mode="replace", sections=None, safety=True, force=False):
    """Restore ``valid`` after writing a safety backup; reload caches; return the API's answer.

    Nothing is written when the restore is refused. ``safety=False`` is the zero-trace path.
    """
    with lock():
        check_restorable(valid, mode, sections, force)
        try:
            safety_entry = create_backup("safety") if safety else None
        except BackupWriteError as exc:  # the safety backup comes first: without it nothing is restored
            raise BackupWriteError(
                f"Nothing was restored: the safety backup of the current configuration could not be written. {exc}"
            ) from exc.__cause__
        result = restore_document(valid, mode=mode, sections=sections, force=force)
    clear_cache()
    config_restored.send(current_app._get_current_object(), result=result)
    log.info("restored %s backup from %s (%s)", valid.kind, valid.created_at, result.counts)
    return {
        "restored": True,
        "safety_backup": safety_entry.name if safety_entry else None,
        "counts": result.counts,
        "mode": result.mode,
        "sections": list(result.sections),
        "reload": True,
    }

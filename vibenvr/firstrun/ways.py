"""The three ways to the file a fresh install restores (SPEC §16): an upload, a file of the backup folder,
a file at a backup location typed in. Each validates the file (nothing is written when it fails), keeps
it in ``staging`` and sends the browser to the preview. Registered on the blueprint by ``routes``."""

from pathlib import PurePath

from flask import current_app, request, session, url_for

from ..auth.clock import now
from ..auth.decorators import public
from ..backups import service as backups
from ..backups.errors import BackupError, BackupNotFound, InvalidBackupName, UploadTooLarge
from ..backups.locations.transport import LocationError
from ..backups.web import opening_keys
from ..pages import sentence
from ..timeutil import parse_iso
from . import files, locations, sealed, staging
from .page import STAGED_KEY, go, needs_code, render_way

KEY_WORDS = ("encrypted", "passphrase", "identity", "key")


def failed(way, errors, status, **context):
    """The way's panel again with every problem; the key fields open when the problem is about them."""
    text = " ".join(errors).lower()
    return render_way(way, status, errors=list(errors), keys_open=any(w in text for w in KEY_WORDS), **context)


def _keys():
    """The keys to open an encrypted file with: the server's own (on a reused volume) and the identity given
    for this request; and the passphrase. A BackupError when the identity is no key."""
    identity, phrase = opening_keys()
    return backups.identities() + (identity or []), phrase


def _stage(source, name, place, plain, original, encrypted):
    """Keep the file for its confirmation (replacing the one chosen before in this browser); on to the preview."""
    data_dir = current_app.config["DATA_DIR"]
    staging.discard(data_dir, session.get(STAGED_KEY))
    session[STAGED_KEY] = staging.stage(data_dir, now(), source, name, place, plain, original, encrypted)
    return go(url_for("firstrun.preview"))


def too_large():
    return (
        f"The file is larger than the upload limit of {current_app.config['MAX_UPLOAD_MB']} MB. Nothing was "
        "saved. Raise VIBENVR_MAX_UPLOAD_MB, or restore it from the terminal with flask --app app backup restore PATH."
    )


@public
def upload():
    refused = needs_code()
    if refused:
        return refused
    given = request.files.get("file")
    if given is None or not given.filename:
        return failed("upload", ["Choose a backup file (.json or .json.age) from your computer first."], 400)
    filename = PurePath(given.filename.replace("\\", "/")).name[:200] or "upload"
    try:
        data = backups.read_upload(given)
        keys, phrase = _keys()
        valid, plain = files.open_backup(data, filename, keys, phrase)
    except UploadTooLarge:
        return failed("upload", [too_large()], 413, filename=filename)
    except BackupError as exc:
        return failed("upload", exc.errors, exc.status, filename=filename)
    return _stage("upload", filename, "your computer", plain, data, valid.encrypted)


@public
def server():
    refused = needs_code()
    if refused:
        return refused
    name = request.form.get("name", "")
    if not name:
        return failed("server", ["Choose one of the backup files first."], 400)
    try:
        data = backups.get_store().read_bytes(name)
        keys, phrase = _keys()
        valid, plain = files.open_backup(data, name, keys, phrase)
    except (InvalidBackupName, BackupNotFound) as exc:  # UnusableBackup is a BackupNotFound
        return failed("server", [str(exc)], exc.status, chosen=name)
    except BackupError as exc:
        return failed("server", exc.errors, exc.status, chosen=name)
    place = f"this server's backup folder {current_app.config['BACKUP_DIR']}"
    return _stage("server", name, place, plain, None, valid.encrypted)


@public
def location():
    """``action=connect``: check the fields and list the location's backups; ``action=fetch``: fetch the one
    chosen (with the sealed settings of that connection) and validate it."""
    refused = needs_code()
    if refused:
        return refused
    if request.form.get("action") == "fetch":
        return _fetch()
    settings, field_errors = locations.from_form(request.form)
    if settings is None:
        typed = {"values": locations.typed_values(request.form), "field_errors": field_errors}
        return render_way("location", 422, location=typed)
    try:
        listed, settings, fingerprint = locations.list_files(settings)
    except LocationError as exc:
        failed = {"values": locations.form_values(settings), "error": sentence(str(exc))}
        return render_way("location", 502, location=failed)
    return _connected(settings, listed, fingerprint)


def _connected(settings, listed, fingerprint, status=200, **context):
    """The location's files to choose from; its settings travel sealed to the fetch (``sealed``)."""
    carried = {"settings": settings, "files": listed, "fingerprint": fingerprint}
    shown = [{**f, "modified_at": parse_iso(f["modified"]) if f["modified"] else None} for f in listed]
    connected = {
        "values": locations.form_values(settings),
        "files": shown,
        "connection": sealed.seal(current_app.config["SECRET_KEY"], carried, now()),
        "place": locations.place(settings),
        "fingerprint": fingerprint,
    }
    return render_way("location", status, location=connected, **context)


def _fetch():
    opened = sealed.unseal(current_app.config["SECRET_KEY"], request.form.get("connection"), now())
    if opened is None:
        message = "The connection has expired (it is kept for 15 minutes): connect to the location again."
        return render_way("location", 422, location={"error": message})
    settings, listed, fingerprint = opened["settings"], opened["files"], opened.get("fingerprint")
    name = request.form.get("name", "")
    if not name:
        return _connected(settings, listed, fingerprint, 400, errors=["Choose one of the backup files first."])
    try:
        data = locations.fetch(settings, name, current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024)
        keys, phrase = _keys()
        valid, plain = files.open_backup(data, name, keys, phrase)
    except InvalidBackupName as exc:
        return _connected(settings, listed, fingerprint, 400, errors=[str(exc)], chosen=name)
    except LocationError as exc:
        return _connected(settings, listed, fingerprint, 502, errors=[sentence(str(exc))], chosen=name)
    except BackupError as exc:
        text = " ".join(exc.errors).lower()
        keys_open = any(w in text for w in KEY_WORDS)
        return _connected(
            settings, listed, fingerprint, exc.status, errors=exc.errors, chosen=name, keys_open=keys_open
        )
    return _stage("location", name, locations.place(settings), plain, data, valid.encrypted)

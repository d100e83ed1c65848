"""Settings > System Backups (admins only): the list and status, create, download, restore, delete, import.
The Locations panel's own actions are in ``locations/routes.py``.

Thin views over ``service``. htmx gets fragments (the list, a dialog, the import panel) with the message
out-of-band; a browser without JavaScript gets whole pages and plain forms. Engine errors become messages.
"""

from pathlib import PurePath

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth import reauth
from ..auth.decorators import admin_required
from ..errors import render_error
from ..http import is_htmx
from ..models import BackupRecipient
from ..pages import FormErrors, done, get_or_404, message_oob, render, sentence, status_for
from ..settings.service import get_setting
from ..templating import human_size, local_time
from ..validation import ConflictError, ValidationError
from . import overview, recipients, service
from .errors import BackupError, BackupWriteError, RestoreFailed, RestoreRefused, UploadTooLarge
from .keys import KeyProblem
from .locations import forms as location_forms
from .restore import check_restorable
from .web import download_response, kit_response, opening_keys, sign_out_if_no_longer_admin

bp = Blueprint("backups", __name__, url_prefix="/settings/backups")
NOT_RESTORED = (BackupError, BackupWriteError, RestoreRefused, RestoreFailed)


def page_context(listing=None, **extra):
    """The whole page's template context (the Locations panel's views use it too); ``extra`` overrides."""
    limit_mb = current_app.config["MAX_UPLOAD_MB"]
    context = {
        "listing": listing or overview.listing(request.args.get("page"), request.args.get("kind", "")),
        "auto": overview.automatic_status(),
        "backup_dir": str(current_app.config["BACKUP_DIR"]),
        "limit_mb": limit_mb,
        "limit_bytes": limit_mb * 1024 * 1024,
        "now": service.clock(),
        "labels": overview.KIND_LABELS,
        "badges": overview.KIND_BADGES,
        "zone_name": get_setting("timezone"),
        "new_name": None,
        "import_errors": None,
        "kit_error": None,
        "recipient_form": {},
        "recipient_errors": FormErrors(),
    }
    context["encryption"] = _encryption(context["listing"])
    context.update(location_forms.panel())
    context.update(extra)
    return context


def _encryption(listing):
    """The Encryption panel: the setting, the server key's recipient, and whether to warn about the kit."""
    mode = get_setting("backup_encrypt")
    try:
        state = service.key_state()
    except (OSError, KeyProblem) as exc:  # a full disk, or a damaged key file: say so, the page still works
        reason = getattr(exc, "strerror", None) or str(exc)
        state = {"recipient": None, "problem": reason, "kit_downloaded": False, "kit_downloaded_at": None}
    encrypted_here = any(entry.encrypted for entry in listing.entries)
    rows = recipients.list_recipients()
    safe = state["kit_downloaded"] or bool(rows)  # the kit, or a key of the admins' own, opens them elsewhere
    return {
        **state,
        "mode": mode,
        "warn": (mode == "all" or encrypted_here) and not safe,
        "recipients": [{**recipients.to_dict(row), "short": recipients.short(row.recipient)} for row in rows],
    }


@bp.get("")
@admin_required
def page():
    """The whole page; htmx (paging, the kind filter) gets the list alone."""
    if request.headers.get("HX-History-Restore-Request") == "true":  # htmx rebuilding the page from history
        response = make_response(render_template("backups/page.html", **page_context()))
        response.vary.add("HX-Request")
        return response
    return render("backups/page.html", "backups/_list.html", **page_context())


@bp.get("/status")
@admin_required
def status():
    """The status panel, polled by the page so a change in Global Settings shows without a reload."""
    return render("backups/page.html", "backups/_status.html", **page_context())


def _list_changed(message, new_name=None, page=1, kind="", extra=""):
    """After a write: htmx gets the list, the message and an empty dialog slot; others a redirect."""
    listing = overview.listing(page, kind)
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("backups.page", **listing.params()), code=303)
    context = page_context(listing, new_name=new_name)
    body = (
        render_template("backups/_list.html", **context)
        + message_oob("success", message)
        + '<div id="dialog-slot" hx-swap-oob="innerHTML"></div>'
        + extra
    )
    response = make_response(body, 200)
    response.vary.add("HX-Request")
    return response


def failed_action(title, message, status):
    """A failed action: a message in #messages for htmx, the page with the message otherwise."""
    if is_htmx():
        body = render_template("_error.html", title=title, message=message)
        return body, status, {"HX-Retarget": "#messages", "HX-Reswap": "innerHTML", "Vary": "HX-Request"}
    context = page_context(messages=[("error", f"{title}. {message}")])
    response = make_response(render_template("backups/page.html", **context), status)
    response.vary.add("HX-Request")
    return response


@bp.post("/create")
@admin_required
def create():
    try:
        entry = service.create_backup("manual")
    except BackupWriteError as exc:
        return failed_action("The backup failed", str(exc), exc.status)  # 507 for a full disk
    return _list_changed(f"Backup {entry.name} created ({human_size(entry.size_bytes)}).", new_name=entry.name)


@bp.post("/key/kit")
@admin_required
def kit():
    """The emergency kit as a text download, after the admin's password (SPEC §13); the page again otherwise."""
    problem = reauth.problem(current_user, request.form.get("password", ""))
    if problem:
        return render_template("backups/page.html", **page_context(kit_error=problem)), 422
    return kit_response(current_user.username)


@bp.post("/recipients")
@admin_required
def add_recipient():
    """Add a recipient of the admins' own (SPEC §13); the page again with the field's error otherwise."""
    form = {key: request.form.get(key, "") for key in ("name", "recipient")}
    try:
        row = recipients.create_recipient(form)
    except (ValidationError, ConflictError) as exc:
        context = page_context(recipient_form=form, recipient_errors=FormErrors.from_exception(exc))
        return render_template("backups/page.html", **context), status_for(exc)
    return done(
        f'Recipient "{row.name}" added: backups encrypted from now on open with its key too.',
        "backups.page",
        _anchor="backup-encryption",
    )


@bp.post("/recipients/<int:recipient_id>/remove")
@admin_required
def remove_recipient(recipient_id):
    row = get_or_404(BackupRecipient, recipient_id, "Backup recipient")
    recipients.delete_recipient(row)
    return done(
        f'Recipient "{row.name}" removed. Backups written before still open with its key; later ones do not.',
        "backups.page",
        _anchor="backup-encryption",
    )


@bp.route("/<name>/download-as", methods=["GET", "POST"])
@admin_required
def download_as(name):
    """GET: the choice (as stored, plain, encrypted to the server key, with a passphrase); POST: the file."""
    entry = service.get_store().entry(name)
    if request.method == "GET":
        return _confirm("download", entry, choice="recipients", errors={})
    choice = request.form.get("encrypt", "")
    phrase = request.form.get("passphrase", "") if choice == "passphrase" else None
    errors = {}
    if choice == "passphrase" and phrase != request.form.get("confirm", ""):
        errors["confirm"] = "The two passphrases differ."
    if not errors:
        try:
            return download_response(name, choice, phrase)
        except ValidationError as exc:
            field, _, problem = exc.errors[0].partition(" ")
            errors = {field: f"The {field} {problem}." if field in ("passphrase", "encrypt") else exc.errors[0]}
    return _confirm("download", entry, 422, choice=choice, errors=errors)


@bp.get("/<name>/download")
@admin_required
def download(name):
    return download_response(name)


def _confirm(action, entry, status=200, **context):
    """The confirmation of a restore or delete: a modal dialog for htmx, a page otherwise."""
    listing = overview.listing(request.values.get("page"), request.values.get("kind", ""))
    context = page_context(listing, action=action, entry=entry, in_dialog=is_htmx(), **context)
    return render("backups/confirm.html", "backups/_dialog.html", status, **context)


def _restore_preview(entry, error=None):
    """What the restore dialog shows: the file's summary and counts, or why it cannot be restored."""
    preview = {"valid": None, "problems": [], "refusal": None, "rows": [], "warning": None, "error": error}
    try:
        valid = service.load_backup(entry.name)
    except BackupError as exc:
        preview["problems"] = exc.errors
        return preview
    preview.update(valid=valid, rows=overview.count_rows(valid), warning=overview.session_warning(valid, current_user))
    try:
        check_restorable(valid)
    except RestoreRefused as exc:
        preview["refusal"] = sentence(str(exc))
    return preview


@bp.route("/<name>/restore", methods=["GET", "POST"])
@admin_required
def restore(name):
    """GET shows what the backup holds next to the current configuration; POST restores it."""
    entry = service.get_store().entry(name)  # a bad name is a 400, a missing file a 404
    if request.method == "GET":
        return _confirm("restore", entry, **_restore_preview(entry))
    try:
        valid = service.load_backup(name)
        answer = service.restore(valid)
    except NOT_RESTORED as exc:
        errors = (
            ["The file no longer passes validation (it changed after it was shown)."]
            if isinstance(exc, BackupError)
            else [sentence(str(exc))]
        )
        return _confirm("restore", entry, exc.status, **_restore_preview(entry, error=errors))
    made = local_time(valid.created_at)
    message = (
        f"Restored {name} ({overview.KIND_LABELS.get(valid.kind, valid.kind).lower()} backup of {made}). "
        f"The configuration from before the restore was saved as {answer['safety_backup']}; "
        "restore that file to undo."
    )
    username = sign_out_if_no_longer_admin()
    signed_out = username is not None
    if signed_out:
        flash(
            f"{message} You were signed out because “{username}” is not an active administrator with the same "
            "password in the restored configuration. Sign in with an administrator account from that backup.",
            "warning",
        )
    else:
        flash(message, "success")
    target = url_for("auth.login", next=url_for("backups.page")) if signed_out else url_for("backups.page")
    if not is_htmx():
        return redirect(target, code=303)
    response = make_response("", 200)
    if signed_out:
        response.headers["HX-Redirect"] = target
    else:
        response.headers["HX-Refresh"] = "true"
    return response


@bp.route("/<name>/delete", methods=["GET", "POST"])
@admin_required
def delete(name):
    """GET asks for confirmation; POST deletes the file and answers with the list."""
    store = service.get_store()
    entry = store.entry(name)
    if request.method == "GET":
        return _confirm("delete", entry)
    store.delete(name)
    return _list_changed(f"Backup {name} deleted.", page=request.form.get("page"), kind=request.form.get("kind", ""))


def _import_failed(errors, status, filename=""):
    """The import panel with every problem listed; nothing was saved."""
    context = page_context(import_errors=errors, filename=filename)
    return render("backups/page.html", "backups/_import.html", status, **context)


@bp.post("/import")
@admin_required
def import_file():
    """Validate an uploaded file completely, then store it unchanged as an ``imported`` backup."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_failed(["Choose a backup file (.json) from your computer first."], 400)
    filename = PurePath(upload.filename.replace("\\", "/")).name[:200] or "upload"
    try:
        identity, phrase = opening_keys()
        entry, valid = service.import_backup(
            service.read_upload(upload), source=filename, identity=identity, phrase=phrase
        )
    except UploadTooLarge:
        return _import_failed([_too_large()], 413, filename)
    except BackupError as exc:
        return _import_failed(exc.errors, exc.status, filename)
    except BackupWriteError as exc:
        return _import_failed([str(exc)], exc.status, filename)
    message = imported_message(f"“{filename}”", entry, valid)
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("backups.page"), code=303)
    fresh_panel = render_template("backups/_import.html", **page_context(oob=True))
    response = _list_changed(message, new_name=entry.name, extra=fresh_panel)
    response.headers["HX-Retarget"] = "#backup-list"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


def imported_message(what, entry, valid):
    """What an import (an upload, or a file fetched from a location) stored, and that nothing was restored."""
    cameras, users = valid.counts["cameras"], valid.counts["users"]
    return (
        f"Imported {what} as {entry.name}: a {overview.KIND_LABELS.get(valid.kind, valid.kind).lower()} "
        f"backup of {local_time(valid.created_at)} with {cameras} camera{'s' if cameras != 1 else ''} and "
        f"{users} user{'s' if users != 1 else ''}. Nothing was restored; choose Restore to apply it."
    )


def _too_large():
    return (
        f"The file is larger than the upload limit of {current_app.config['MAX_UPLOAD_MB']} MB. "
        "Nothing was saved. Raise VIBENVR_MAX_UPLOAD_MB, or restore it from the terminal with "
        "flask --app app backup restore PATH."
    )


@bp.errorhandler(413)
def _request_too_large(exc):
    """An upload over the limit is refused before the view runs; the import panel says why."""
    if request.endpoint == "backups.import_file":
        return _import_failed([_too_large()], 413)
    return render_error(413, _too_large())

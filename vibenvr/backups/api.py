"""``/api/backups…`` and ``/api/config/…`` (SPEC §9): admin only, JSON in and out."""

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from ..auth import reauth
from ..auth.decorators import admin_required
from ..crud import crud_blueprint
from ..http import BadRequest, is_htmx, json_body
from ..models import BackupRecipient
from ..settings.service import get_settings
from ..timeutil import iso
from . import recipients, service
from .automation.pause import current_pause
from .automation.status import read_status
from .document.export import export_bytes
from .locations import copies
from .web import download_response, kit_response, opening_keys, sign_out_if_no_longer_admin

bp = Blueprint("backups_api", __name__, url_prefix="/api")


@bp.get("/backups")
@admin_required
def list_backups():
    """Every backup, newest first; files that cannot be used carry ``unusable`` (why) and maybe ``rename_to``."""
    return jsonify({"backups": [entry.to_dict() for entry in service.get_store().list(unusable=True)]})


@bp.post("/backups")
@admin_required
def create():
    entry = service.create_backup("manual")
    return jsonify({**entry.to_dict(), "copies": service.pending_copies(entry.name)}), 201


@bp.get("/backups/key")
@admin_required
def key():
    """The server key's public recipient (made on first use) and whether an emergency kit was handed out."""
    return jsonify(service.key_state())


@bp.post("/backups/key/kit")
@admin_required
def kit():
    """The emergency kit as a text attachment; the admin's password is asked again (SPEC §13)."""
    data = json_body()
    reauth.require(current_user, data, "download the emergency kit", field="password")
    return kit_response(current_user.username)


@bp.get("/backups/status")
@admin_required
def status():
    settings = get_settings()
    pause = current_pause(current_app.config["DATA_DIR"], service.clock())
    return jsonify(
        {
            "enabled": settings["backup_auto_enabled"],
            "frequency_hours": settings["backup_auto_frequency_hours"],
            "retention": settings["backup_auto_retention"],
            **read_status(current_app.config["DATA_DIR"]),
            "paused_until": iso(pause.until) if pause else None,  # a sanity run holds automatic backups back
            "paused_by": pause.by if pause else None,
            "damaged": service.get_store().damaged_names(),  # automatic backups that failed validation, kept aside
            "locations": [
                {
                    **state,
                    "last_success_at": iso(state["last_success_at"]),
                    "last_failure_at": iso(state["last_failure_at"]),
                }
                for state in copies.status()
            ],
        }
    )


@bp.get("/backups/<name>")
@admin_required
def download(name):
    """The file as stored, or ``?encrypt=plain|recipients`` (a passphrase only in a POST body: never a URL)."""
    encrypt = request.args.get("encrypt", "stored")
    if encrypt == "passphrase":
        raise BadRequest(
            f'send the passphrase in a POST body: POST /api/backups/{name}/download {{"encrypt": '
            '"passphrase", "passphrase": "…"}'
        )
    return download_response(name, encrypt)


@bp.post("/backups/<name>/download")
@admin_required
def download_chosen(name):
    """``{"encrypt": "stored|plain|recipients|passphrase", "passphrase": …}``: the file, as chosen."""
    data = json_body()
    encrypt, phrase = data.get("encrypt", "stored"), data.get("passphrase")
    if not isinstance(encrypt, str) or (phrase is not None and not isinstance(phrase, str)):
        raise BadRequest("encrypt and passphrase must be text")
    return download_response(name, encrypt, phrase)


@bp.delete("/backups/<name>")
@admin_required
def delete(name):
    service.get_store().delete(name)
    return "", 204


@bp.post("/backups/<name>/restore")
@admin_required
def restore_named(name):
    service.get_store().path_for(name)  # a bad name is a 400 before anything is read
    options = json_body(required=False)
    mode, sections = _options(options.get("mode"), options.get("sections"))
    return _restore(service.load_backup(name), mode, sections, safety=True)


@bp.get("/backups/<name>/diff")
@admin_required
def diff(name):
    """What restoring backup ``name`` would change: ``?against=current`` (the default) or another backup's name
    (SPEC §15). Both files are opened as a restore opens them; secrets are never in the answer."""
    against = request.args.get("against", "current").strip() or "current"
    return jsonify(service.diff_backup(name, against))


@bp.post("/backups/import")
@admin_required
def import_file():
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("send the backup as a multipart form field named 'file'")
    identity, phrase = opening_keys()
    entry, _valid = service.import_backup(
        service.read_upload(upload), source=upload.filename or "upload", identity=identity, phrase=phrase
    )
    return jsonify(entry.to_dict()), 201


@bp.get("/config/export")
@admin_required
def export_config():
    data = export_bytes("manual", now=service.clock(), app_version=current_app.config["APP_VERSION"])
    response = current_app.response_class(data, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/config/restore")
@admin_required
def restore_body():
    safety = request.args.get("safety", "true").strip().lower()
    if safety not in ("true", "false", "1", "0", "yes", "no"):
        raise BadRequest("safety must be true or false")
    sections = request.args.getlist("sections") or None
    if sections and len(sections) == 1 and "," in sections[0]:
        sections = [s.strip() for s in sections[0].split(",") if s.strip()]
    mode, sections = _options(request.args.get("mode"), sections)
    valid = service.validate_file(request.get_data(cache=False), source="upload", identities=service.identities())
    return _restore(valid, mode, sections, safety=safety in ("true", "1", "yes"))


def _options(mode, sections):
    mode = mode or "replace"
    if not isinstance(mode, str):
        raise BadRequest("mode must be text: replace or merge")
    if sections is not None and (not isinstance(sections, list) or not all(isinstance(s, str) for s in sections)):
        raise BadRequest("sections must be a list of section names")
    return mode, sections or None


def _restore(valid, mode, sections, safety):
    answer = service.restore(valid, mode=mode, sections=sections, safety=safety)
    if sign_out_if_no_longer_admin():
        answer["signed_out"] = True
    response = jsonify(answer)
    if is_htmx():
        response.headers["HX-Refresh"] = "true"
    return response


recipients_bp = crud_blueprint(
    "backup_recipients_api",
    "/api/backup-recipients",
    BackupRecipient,
    to_dict=recipients.to_dict,
    list_items=lambda _visible: [recipients.to_dict(row) for row in recipients.list_recipients()],
    create=recipients.create_recipient,
    update=recipients.update_recipient,
    delete=recipients.delete_recipient,
)

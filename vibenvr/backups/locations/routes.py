"""Settings > System Backups > Locations (admins only, SPEC §14): add, edit, enable or disable, delete, test
the connection, the files at a location and fetching one as an imported backup.

Thin views over ``service``, the same calls as ``api.py``. htmx gets the panel, a location's row, a dialog or
the form in place, with the message out-of-band; a browser without JavaScript gets whole pages and plain
forms. The test, the files and the fetch talk to the location within the request, as the API's do.
"""

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for

from ...auth.decorators import admin_required
from ...http import is_htmx
from ...models import BackupLocation
from ...pages import done, get_or_404, message_oob, render, sentence, status_for
from ...settings.service import get_setting
from ...validation import ConflictError, ValidationError
from .. import service as backups
from ..errors import BackupError, BackupWriteError
from ..names import is_encrypted_name
from ..routes import failed_action, imported_message, page_context
from ..web import opening_keys
from . import copies, forms, service
from .transport import LocationError

bp = Blueprint("backup_locations", __name__, url_prefix="/settings/backups/locations")
REFUSED = (ValidationError, ConflictError)


def _get(location_id):
    return get_or_404(BackupLocation, location_id, "Backup location")


def _page(status, **extra):
    """The whole System Backups page, the Locations panel as ``extra`` says (a form with its errors, a result)."""
    response = make_response(render_template("backups/page.html", **page_context(**extra)), status)
    response.vary.add("HX-Request")
    return response


def _panel_changed(message):
    """After a write: htmx gets the panel, the message and an empty dialog slot; others a redirect to it."""
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("backups.page", _anchor="backup-locations"), code=303)
    body = (
        render_template("backups/_locations.html", **page_context(locations_focus=True))
        + message_oob("success", message)
        + '<div id="dialog-slot" hx-swap-oob="innerHTML"></div>'
    )
    response = make_response(body, 200)
    response.vary.add("HX-Request")
    return response


def _form_refused(exc, form, location=None):
    """The form again with each field's problem: in place for htmx, in its page otherwise; nothing saved."""
    form.errors = forms.form_errors(exc)
    status = status_for(exc)
    in_dialog = request.form.get("in_dialog") == "1"
    if is_htmx():
        context = {**forms.panel(form), "location": location, "in_dialog": in_dialog}
        response = make_response(render_template("backups/_location_form.html", **context), status)
        response.vary.add("HX-Request")
        return response
    if location is None:
        return _page(status, location_form=form)
    return _edit_page(location, form, status)


@bp.post("")
@admin_required
def create():
    body, form = forms.parse_form(request.form)
    try:
        row = service.create_location(body)
    except REFUSED as exc:
        return _form_refused(exc, form)
    then = (
        "the scheduler copies the newest backups there at its next run, then every new one"
        if row.enabled
        else "nothing is copied there until it is enabled"
    )
    response = _panel_changed(f"Location “{row.name}” added. Use Test connection to check it; {then}.")
    if is_htmx():  # the form asked for itself; the whole panel changed
        response.headers["HX-Retarget"] = "#backup-locations"
        response.headers["HX-Reswap"] = "outerHTML"
    return response


def _edit_page(row, form, status=200):
    """The edit form: a dialog for htmx, a page otherwise."""
    context = {**forms.panel(form), "location": row, "action": "location_edit", "in_dialog": is_htmx()}
    return render("backups/location_edit.html", "backups/_dialog.html", status, **context)


@bp.route("/<int:location_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(location_id):
    """GET: the form filled in (secrets never: blank keeps them); POST: save it."""
    row = _get(location_id)
    if request.method == "GET":
        return _edit_page(row, forms.LocationForm.for_row(row))
    body, form = forms.parse_form(request.form, row)
    try:
        row = service.update_location(row, body)
    except REFUSED as exc:
        return _form_refused(exc, form, row)
    return done(f"Location “{row.name}” saved.", "backups.page", _anchor="backup-locations")


@bp.post("/<int:location_id>/enabled")
@admin_required
def toggle(location_id):
    """Enable (``enabled=on``) or disable (``off``) a location; its settings and files stay either way."""
    row = _get(location_id)
    wanted = request.form.get("enabled")
    if wanted not in ("on", "off"):
        abort(400, description="enabled must be on or off")
    try:
        row = service.update_location(row, {"enabled": wanted == "on"})
    except REFUSED as exc:  # a location that no longer passes validation (edit it to fix that)
        return failed_action(
            f"Location “{row.name}” was not changed", f"{exc}. Edit it to correct that.", status_for(exc)
        )
    if row.enabled:
        return _panel_changed(
            f"Location “{row.name}” enabled: missed copies are caught up at the scheduler's next run."
        )
    return _panel_changed(f"Location “{row.name}” disabled: nothing is copied there until it is enabled again.")


@bp.route("/<int:location_id>/delete", methods=["GET", "POST"])
@admin_required
def delete(location_id):
    """GET asks for confirmation (a dialog for htmx, a page otherwise); POST deletes, keeping the files there."""
    row = _get(location_id)
    if request.method == "GET":
        context = {
            "action": "location_delete",
            "location": row,
            "where": forms.where(row),
            "labels": forms.KIND_LABELS,
            "pending": next((s["pending"] for s in copies.status() if s["id"] == row.id), 0),
            "in_dialog": is_htmx(),
            "title": f"Delete location {row.name}",
        }
        return render("backups/confirm.html", "backups/_dialog.html", **context)
    service.delete_location(row)
    return _panel_changed(f"Location “{row.name}” deleted. Its files at {forms.where(row)} were kept.")


@bp.post("/<int:location_id>/test")
@admin_required
def test(location_id):
    """Write, read back and delete a probe file; the result in the location's row (502 when it failed)."""
    row = _get(location_id)
    try:
        result, status = service.test_connection(row), 200
    except LocationError as exc:
        result, status = {"ok": False, "reason": exc.reason, "error": sentence(str(exc))}, 502
    result["at"] = backups.clock()
    results = {row.id: result}
    if not is_htmx():
        return _page(status, test_results=results)
    item = next(item for item in forms.rows() if item["row"].id == row.id)  # fresh: a host key just pinned
    context = page_context(test_results=results, item=item)
    response = make_response(render_template("backups/_location_item.html", **context), status)
    response.vary.add("HX-Request")
    return response


def _files_page(row, status=200, failed=None):
    """The backup files at ``row`` with a Fetch for each; ``failed`` is a fetch that did not happen and why."""
    problem = None
    try:
        listed = service.location_files(row)
    except LocationError as exc:
        listed, problem = [], sentence(str(exc))
        status = status if failed else 502
    files = [
        {
            "name": f.name,
            "size": f.size,
            "modified": forms.naive_utc(f.modified),
            "encrypted": is_encrypted_name(f.name),
        }
        for f in listed
    ]
    context = {
        "location": row,
        "where": forms.where(row),
        "labels": forms.KIND_LABELS,
        "badges": forms.KIND_BADGES,
        "files": files,
        "problem": problem,
        "failed": failed,
        "now": backups.clock(),
        "zone_name": get_setting("timezone"),
    }
    return render("backups/location_files.html", "backups/_location_files.html", status, **context)


@bp.get("/<int:location_id>/files")
@admin_required
def files(location_id):
    return _files_page(_get(location_id))


@bp.post("/<int:location_id>/files/<name>/fetch")
@admin_required
def fetch(location_id, name):
    """Download ``name``, validate it (opening it per §13 with the server key or the identity/passphrase
    typed for this request) and store it unchanged as an imported backup; nothing is restored."""
    row = _get(location_id)
    limit = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    try:
        identity, phrase = opening_keys()
        data = service.fetch_bytes(row, name, limit)
        entry, valid = backups.import_backup(data, source=name, identity=identity, phrase=phrase)
    except LocationError as exc:
        return _files_page(row, 502, {"name": name, "errors": [sentence(str(exc))]})
    except BackupError as exc:
        return _files_page(row, exc.status, {"name": name, "errors": [sentence(e) for e in exc.errors]})
    except BackupWriteError as exc:
        return _files_page(row, exc.status, {"name": name, "errors": [sentence(str(exc))]})
    return done(imported_message(f"{name} from location “{row.name}”", entry, valid), "backups.page")

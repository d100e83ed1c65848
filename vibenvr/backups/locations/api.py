"""``/api/backup-locations`` (SPEC §14): admin only. CRUD with write-only credentials, a connection test,
the files at a location, and fetching one into the local folder as an ``imported`` backup.

The test, the listing and the fetch talk to the remote side within the request, bounded by the
transport's timeouts (``transport.TIMEOUT`` per operation): they are what the admin asked for, answered
with the reason when the location fails (502 with ``reason``). Copies never happen in a request.
"""

from flask import current_app, jsonify

from ...auth.decorators import admin_required
from ...crud import crud_blueprint
from ...models import BackupLocation
from ...pages import get_or_404
from ...timeutil import iso
from .. import service as backups
from ..web import opening_keys
from . import service
from .transport import LocationError

bp = crud_blueprint(
    "backup_locations_api",
    "/api/backup-locations",
    BackupLocation,
    to_dict=service.to_dict,
    list_items=lambda _visible: [service.to_dict(row) for row in service.list_locations()],
    create=service.create_location,
    update=service.update_location,
    delete=service.delete_location,
)


def failed(exc):
    return jsonify({"error": f"the location failed: {exc}", "reason": exc.reason}), 502


@bp.post("/<int:item_id>/test")
@admin_required
def test(item_id):
    """Write, read back and delete a probe file; pin an SFTP host key seen for the first time."""
    row = get_or_404(BackupLocation, item_id, "Backup location")
    try:
        return jsonify(service.test_connection(row))
    except LocationError as exc:
        return failed(exc)


@bp.get("/<int:item_id>/files")
@admin_required
def files(item_id):
    row = get_or_404(BackupLocation, item_id, "Backup location")
    try:
        listed = service.location_files(row)
    except LocationError as exc:
        return failed(exc)
    return jsonify({"files": [file_dict(f) for f in listed]})


def file_dict(remote):
    return {
        "name": remote.name,
        "size_bytes": remote.size,
        "modified_at": iso(remote.modified) if remote.modified else None,
        "encrypted": remote.name.endswith(".age"),
    }


@bp.post("/<int:item_id>/files/<name>/fetch")
@admin_required
def fetch(item_id, name):
    """Download ``name`` from the location, validate it (opening it per §13 with the server key or the
    ``identity``/``passphrase`` fields given), and store it unchanged as an imported backup."""
    row = get_or_404(BackupLocation, item_id, "Backup location")
    identity, phrase = opening_keys()
    try:
        data = service.fetch_bytes(row, name, current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024)
    except LocationError as exc:
        return failed(exc)
    entry, valid = backups.import_backup(data, source=name, identity=identity, phrase=phrase)
    return jsonify({**entry.to_dict(), "validated": valid.summary(), "from_location": row.name}), 201

"""Helpers for the System Backups page tests: uploads, backup documents, reading the page back."""

import io
import json
import re

from vibenvr.backups.document.canonical import compute_checksum
from vibenvr.backups.document.export import export_document

HTMX = {"HX-Request": "true"}


def upload(client, data, filename="backup.json", htmx=True):
    return client.post(
        "/settings/backups/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        headers=HTMX if htmx else {},
    )


def document_bytes(app, **changes):
    """The current configuration as backup bytes, with ``changes`` applied and the checksum made to match."""
    with app.app_context():
        doc = export_document("manual")
    doc.pop("checksum")
    doc.update(changes)
    doc["checksum"] = compute_checksum(doc)
    return json.dumps(doc).encode()


def listed(html):
    """Backup names in the list, top to bottom."""
    return re.findall(r'<tr class="[^"]*" data-backup="([^"]+)">', html)


def files(app):
    return sorted(p.name for p in app.config["BACKUP_DIR"].iterdir())


def is_full_page(html):
    return html.lstrip().lower().startswith("<!doctype html")

"""Export (SPEC §4): the whole configuration as a backup document, or straight as the file's bytes.

No Flask here: these functions read the bound database. What a backup holds is defined once, in
``columns`` (built from the models and the API schemas): ``export_document`` reads it as a document,
``export_bytes`` as the file that automatic, manual and safety backups and downloads write, byte for byte
``encode(export_document())``.
"""

import gc
from contextlib import contextmanager

from ...config import APP_VERSION
from ...db import db
from ...timeutil import iso, utcnow
from .canonical import (
    FORMAT,
    KINDS,
    LEGACY_VERSION,
    SCHEMA_VERSION,
    SECTIONS,
    TOP_LEVEL,
    assemble,
    compute_checksum,
    dump,
)
from .columns import TABLES, read_settings, read_table, table_json


def export_document(kind="manual", now=None, app_version=APP_VERSION):
    """The whole configuration as a backup document, with ``counts`` and ``checksum``."""
    doc = _read_document(kind, now, app_version)
    doc["checksum"] = compute_checksum(doc)
    return doc


def export_bytes(kind="manual", now=None, app_version=APP_VERSION):
    """The file a backup of the whole configuration is: ``encode(export_document(…))``, byte for byte.

    Sections are serialised straight from the rows (``columns.table_json``), without building the
    document; this is what backups on disk and ``GET /api/config/export`` use.
    """
    with _snapshot(), _collector_paused():
        settings = read_settings()
        tables = {table.section: table_json(table) for table in TABLES}
    values = {key: dump(value) for key, value in _header(kind, now, app_version).items()}
    counts = {"settings": len(settings), **{section: n for section, (_, n) in tables.items()}}
    values["counts"] = dump({section: counts[section] for section in SECTIONS})
    values["settings"] = dump(settings)
    values.update((section, text) for section, (text, _) in tables.items())
    values = {key: values[key] for key in TOP_LEVEL if key in values}
    return assemble(values)[1]


def _header(kind, now, app_version):
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "version": LEGACY_VERSION,
        "timestamp": iso(now or utcnow()),
        "kind": kind,
        "app_version": app_version,
    }


@contextmanager
def _collector_paused():
    """Hold back Python's cyclic garbage collector while rows are serialised: the work makes some 10^5
    short-lived containers, all freed by reference counting, and every collection they would set off
    walks the long-lived objects of the whole process."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _snapshot():
    """One transaction for every read, so the backup is a consistent snapshot."""
    with db.atomic():
        if type(db.obj).__name__.startswith("Postgres"):
            db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _read_document(kind, now, app_version):
    doc = _header(kind, now, app_version)
    with _snapshot():
        sections = {"settings": read_settings()}
        sections.update({table.section: read_table(table) for table in TABLES})
    doc["counts"] = {section: len(sections[section]) for section in SECTIONS}
    doc.update((section, sections[section]) for section in SECTIONS)
    return doc

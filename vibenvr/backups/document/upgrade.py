"""Reading backups written by earlier versions of the format (SPEC §4: each change of ``schema_version``
ships the migration from every earlier version).

A file is checked as it was written (its own checksum, its own version's header), then brought up to the
current version one step at a time, before its sections are validated. The steps only add what a version
introduced, with the value that means "nothing of it": the file's own content is never reinterpreted.

========  ================================================================================
version   change
========  ================================================================================
2         the first format of this app (SPEC §4)
3         ``backup_recipients``: the admins' own public keys for encrypted backups (SPEC §13)
4         ``backup_locations``: places every backup is also copied to (SPEC §14)
========  ================================================================================
"""

from .canonical import SCHEMA_VERSION

OLDEST = 2  # files before this are VibeNVR 1.x files, read by ``legacy`` (they have no schema_version)


def _add_backup_recipients(doc):
    """2 → 3: a version-2 file predates the admins' recipients, so it has none."""
    doc["backup_recipients"] = []
    if isinstance(doc.get("counts"), dict):
        doc["counts"] = {**doc["counts"], "backup_recipients": 0}


def _add_backup_locations(doc):
    """3 → 4: a version-3 file predates backup locations, so it has none."""
    doc["backup_locations"] = []
    if isinstance(doc.get("counts"), dict):
        doc["counts"] = {**doc["counts"], "backup_locations": 0}


STEPS = {
    2: _add_backup_recipients,
    3: _add_backup_locations,
}  # version → the step that turns a file of it into the next version


def upgrade(data):
    """``(document, notes)``: ``data`` (a parsed file whose header and checksum were checked) brought to
    SCHEMA_VERSION in a shallow copy (the sections themselves are shared, never changed), and a note per
    step for the restore report (none for a current file)."""
    doc, version, notes = dict(data), data["schema_version"], []
    while version < SCHEMA_VERSION:
        step = STEPS[version]
        step(doc)
        notes.append(f"schema_version {version} file read as version {version + 1}: {step.__doc__.split(': ', 1)[1]}")
        version += 1
    doc["schema_version"] = version
    return doc, notes

"""Every earlier version of the backup file stays restorable (SPEC §4: a format change ships the migration
from every earlier version). tests/backups/data holds one frozen file per version, written by the release
that made it; each must validate, restore, and come back out of the next export as the current version."""

import json
from pathlib import Path

import pytest

from vibenvr.backups import service
from vibenvr.backups.document.canonical import SCHEMA_VERSION, SECTIONS
from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.models import BackupRecipient, Camera, User

DATA = Path(__file__).parent / "data"
FROZEN = {
    2: "backup_schema_v2.json",
    3: "backup_schema_v3.json",
}  # 1.x files (no schema_version) are tests/backups/test_legacy.py's


@pytest.mark.parametrize("version", sorted(FROZEN))
def test_a_frozen_file_of_each_earlier_version_restores(ctx, version):
    raw = (DATA / FROZEN[version]).read_bytes()
    assert json.loads(raw)["schema_version"] == version  # the file is what that version wrote
    valid = validate_document(raw, source=FROZEN[version])
    assert valid.schema_version == version
    answer = service.restore(valid, safety=False)
    assert answer["restored"] is True
    assert Camera.select().count() == 3 and User.get(User.username == "alice").is_2fa_enabled
    now = export_document()
    assert now["schema_version"] == SCHEMA_VERSION and set(SECTIONS) <= set(now)
    assert validate_document(json.dumps(now)).counts["cameras"] == 3


def test_a_version_2_file_is_read_as_the_current_version_step_by_step_and_says_so(ctx):
    valid = validate_document((DATA / FROZEN[2]).read_bytes(), source=FROZEN[2])
    assert valid.doc["schema_version"] == SCHEMA_VERSION
    assert valid.doc["backup_recipients"] == [] and valid.doc["backup_locations"] == []
    assert valid.counts["backup_recipients"] == valid.counts["backup_locations"] == 0
    assert valid.report == [
        "schema_version 2 file read as version 3: a version-2 file predates the admins' recipients, so it has none.",
        "schema_version 3 file read as version 4: a version-3 file predates backup locations, so it has none.",
    ]


def test_a_version_3_file_brings_its_recipients_back(ctx):
    valid = validate_document((DATA / FROZEN[3]).read_bytes(), source=FROZEN[3])
    assert len(valid.report) == 1 and valid.doc["backup_locations"] == []
    service.restore(valid, safety=False)
    assert [r.name for r in BackupRecipient.select()] == ["Anna's laptop"]

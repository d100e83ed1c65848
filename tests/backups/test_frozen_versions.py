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
from vibenvr.models import Camera, User

DATA = Path(__file__).parent / "data"
FROZEN = {2: "backup_schema_v2.json"}  # 1.x files (no schema_version) are tests/backups/test_legacy.py's


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

"""Restore: replace is exact (ids included), all or nothing, refuses to lock everyone out, then reloads."""

import json
import os

import pytest
from flask import g

from vibenvr.auth.tokens import user_for_token
from vibenvr.backups import service
from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.backups.errors import RestoreFailed, RestoreRefused
from vibenvr.backups.restore import resolve_sections, restore_document
from vibenvr.cameras.service import create_camera, delete_camera
from vibenvr.models import Camera, User
from vibenvr.settings.service import get_setting, get_settings, update_settings
from vibenvr.signals import config_restored

from .helpers import backup_files, recount, refusing_inserts, sections, signed, snapshot
from builders import camera_data, make_camera, make_token, make_user


def _valid(doc):
    return validate_document(signed(doc))


def _scramble():
    """Change every section, so a restore has something to undo."""
    for camera in Camera.select():
        delete_camera(camera)
    make_camera(name="Intruder")
    User.delete().where(User.username == "zoë").execute()
    make_user("mallory", role="admin")
    update_settings({"system_name": "Changed", "backup_auto_enabled": False})


def test_replace_makes_the_configuration_exactly_the_backup_s_ids_included(rich):
    backup = export_document()
    _scramble()
    assert snapshot() != sections(backup)
    result = restore_document(_valid(backup))
    assert sections(export_document()) == sections(backup)
    assert result.counts == {s: len(backup[s]) for s in result.sections}
    assert result.to_dict()["mode"] == "replace"


def test_ids_with_gaps_are_kept_and_new_rows_get_fresh_ids(rich):
    doc = export_document()
    doc["cameras"][0]["id"] = 40
    for link in doc["associations"]:
        if link["camera_id"] == 1:
            link["camera_id"] = 40
    for user in doc["users"]:
        user["allowed_camera_ids"] = [40 if i == 1 else i for i in user["allowed_camera_ids"]]
    restore_document(_valid(doc))
    assert Camera.get_by_id(40).name == "Garage 🚗"
    assert create_camera(camera_data()).id == 41


def test_a_restore_that_leaves_no_active_admin_is_refused_unless_forced(rich):
    doc = export_document()
    for user in doc["users"]:
        user["is_active"] = user["role"] != "admin"
    before = snapshot()
    with pytest.raises(RestoreRefused, match="no active administrator"):
        restore_document(_valid(doc))
    assert snapshot() == before
    restore_document(_valid(doc), force=True)
    assert not User.select().where(User.role == "admin", User.is_active_user).exists()


def test_a_failure_in_the_middle_of_a_restore_leaves_the_database_exactly_as_before(rich):
    backup = export_document()
    _scramble()
    before = snapshot()
    # A real database failure after most tables are already replaced: the last table refuses inserts.
    with refusing_inserts("trusted_device"), pytest.raises(RestoreFailed, match="injected failure.*rolled back"):
        restore_document(_valid(backup))
    assert snapshot() == before


def test_sections_bring_their_dependants_along():
    assert resolve_sections(["settings"]) == ("settings",)
    assert resolve_sections(["groups"]) == (
        "groups",
        "associations",
        "users",
        "api_tokens",
        "recovery_codes",
        "trusted_devices",
    )
    with pytest.raises(RestoreRefused, match="unknown section"):
        resolve_sections(["cameras", "weather"])


def test_restoring_only_settings_leaves_everything_else_alone(rich):
    doc = export_document()
    doc["settings"]["system_name"] = "From the backup"
    make_camera(name="Kept")
    before = snapshot()
    result = restore_document(_valid(doc), sections=["settings"])
    after = snapshot()
    assert result.counts == {"settings": len(doc["settings"])}
    assert after["settings"]["system_name"] == "From the backup"
    assert {k: v for k, v in after.items() if k != "settings"} == {k: v for k, v in before.items() if k != "settings"}


def test_an_unknown_mode_is_refused(rich):
    with pytest.raises(RestoreRefused, match="mode must be one of replace, merge"):
        restore_document(_valid(export_document()), mode="overwrite")


def test_restored_users_keep_their_passwords_and_tokens(ctx):
    admin = make_user("root", role="admin")
    plain = make_token(admin, name="script")
    backup = export_document()
    User.delete().execute()
    restore_document(_valid(backup), force=True)
    assert user_for_token(plain).username == "root"
    assert User.get(User.username == "root").hashed_password == admin.hashed_password


def test_the_service_writes_a_safety_backup_first_and_reloads(app, rich, clock):
    backup = export_document()
    _scramble()
    scrambled = export_document()
    received = []

    def listener(sender, result):
        received.append(result)

    g._settings = {**get_settings(), "system_name": "stale cache"}
    with config_restored.connected_to(listener):
        answer = service.restore(_valid(backup))
    assert answer["restored"] is True and answer["reload"] is True
    assert answer["counts"]["cameras"] == 3
    assert answer["safety_backup"] == "vibe_backup_safety_20261129_224000.json"
    assert "_settings" not in g and get_setting("system_name") == "Home NVR"
    assert [r.counts for r in received] == [answer["counts"]]
    safety = validate_document((app.config["BACKUP_DIR"] / answer["safety_backup"]).read_bytes())
    assert safety.kind == "safety" and sections(safety.doc) == sections(scrambled)


def test_safety_backups_are_pruned_to_five(app, rich, clock):
    valid = _valid(export_document())
    for _ in range(7):
        service.restore(valid)
        clock.advance(seconds=1)
    assert [e.name for e in service.get_store().list()] == [
        f"vibe_backup_safety_20261129_2240{s:02d}.json" for s in (6, 5, 4, 3, 2)
    ]


def test_the_zero_trace_path_writes_no_file(app, rich):
    answer = service.restore(_valid(export_document()), safety=False)
    assert answer["safety_backup"] is None
    assert backup_files(app) == []


def test_a_refused_restore_writes_no_safety_backup(app, rich):
    doc = export_document()
    for user in doc["users"]:
        user["role"] = "viewer"
    with pytest.raises(RestoreRefused):
        service.restore(_valid(doc))
    assert backup_files(app) == []


def test_a_restore_from_a_file_on_disk_is_the_same_as_by_name(app, rich, tmp_path):
    path = tmp_path / "elsewhere.json"
    doc = export_document()
    path.write_text(json.dumps(doc))
    assert service.load_backup(str(path), allow_path=True).counts == recount(dict(doc))["counts"]


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL")
def test_postgres_sequences_move_past_the_restored_ids(rich):
    doc = export_document()
    doc["cameras"][2]["id"] = 500
    restore_document(_valid(doc))
    assert create_camera(camera_data()).id == 501
    assert make_user("after-restore").id > max(u["id"] for u in doc["users"])

"""``flask --app app backup …``: every command, its output and its exit code."""

import json

import pytest

from vibenvr.backups import service
from vibenvr.backups.document.canonical import SCHEMA_VERSION, encode
from vibenvr.backups.document.export import export_document

from .helpers import backup_files, build_rich_config, snapshot

NAME = "vibe_backup_manual_20261129_224000.json"


@pytest.fixture
def cli(app, runner, clock):
    build_rich_config()

    def invoke(*args, input=None):
        return runner.invoke(args=["backup", *args], input=input)

    return invoke


def _change_something(app):
    from vibenvr.settings.service import update_settings

    update_settings({"system_name": "Changed"})


def test_create_prints_the_new_file_s_name(app, cli):
    result = cli("create")
    assert result.exit_code == 0
    assert result.output == f"{NAME}\n"
    assert backup_files(app) == [NAME]


def test_list_shows_name_kind_time_and_size(app, cli, clock):
    assert cli("list").output.startswith("No backups in ")
    cli("create")
    clock.advance(minutes=1)
    cli("create")
    lines = cli("list").output.splitlines()
    assert lines[0].startswith("vibe_backup_manual_20261129_224100.json  manual    2026-11-29 22:41:00 UTC")
    assert lines[1].startswith(NAME) and lines[1].endswith("KB")


def test_list_json_is_the_api_s_shape(app, cli, api):
    cli("create")
    result = cli("list", "--json")
    assert result.exit_code == 0
    assert json.loads(result.output) == api.get("/api/backups").get_json()


def test_verify_exits_0_for_a_valid_backup_by_name_or_path(app, cli, tmp_path):
    cli("create")
    result = cli("verify", NAME)
    assert result.exit_code == 0
    assert result.output.startswith(
        f"OK: {NAME} is a valid manual backup, schema {SCHEMA_VERSION}, made 2026-11-29 22:40:00 UTC"
    )
    assert "3 cameras" in result.output
    outside = tmp_path / "copy.json"
    outside.write_bytes((app.config["BACKUP_DIR"] / NAME).read_bytes())
    assert cli("verify", str(outside)).exit_code == 0


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"{not json", "is not valid JSON"),
        (b'{"format": "vibenvr-backup", "schema_version": 7}', "schema_version is 7"),
    ],
)
def test_verify_exits_1_with_the_reason(cli, tmp_path, content, reason):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    result = cli("verify", str(path))
    assert result.exit_code == 1
    assert reason in result.stderr and "Traceback" not in result.output + result.stderr


def test_verify_lists_every_problem(cli, tmp_path):
    doc = export_document()
    doc.pop("checksum")
    doc["cameras"][0]["framerate"] = 0
    doc["cameras"][1]["rotation"] = 45
    path = tmp_path / "two.json"
    path.write_bytes(encode(doc))
    result = cli("verify", str(path))
    assert result.exit_code == 1
    assert "The backup has 2 problems" in result.stderr
    assert '  - cameras[1] "Nursery": rotation must be one of 0, 90, 180, 270' in result.stderr


def test_verify_of_a_missing_file_exits_1(cli):
    result = cli("verify", "nothing-here.json")
    assert result.exit_code == 1 and "no backup named nothing-here.json" in result.stderr
    result = cli("verify", "/no/such/dir/backup.json")
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_restore_yes_from_a_path_outside_the_data_folder(app, cli, tmp_path, clock):
    before = snapshot()
    outside = tmp_path / "elsewhere" / "rescue.json"
    outside.parent.mkdir()
    outside.write_bytes(encode(export_document()))
    _change_something(app)
    result = cli("restore", str(outside), "--yes")
    assert result.exit_code == 0, result.output + result.stderr
    assert "Restored: " in result.output and "3 cameras" in result.output
    assert "Safety backup of the previous configuration: vibe_backup_safety_20261129_224000.json" in result.output
    assert snapshot() == before


def test_restore_asks_first_and_a_no_changes_nothing(app, cli):
    cli("create")
    _change_something(app)
    before = snapshot()
    result = cli("restore", NAME, input="n\n")
    assert result.exit_code == 1
    assert "Replace the current configuration with this backup?" in result.output
    assert "cancelled; nothing was changed" in result.stderr
    assert snapshot() == before and backup_files(app) == [NAME]
    assert cli("restore", NAME, input="y\n").exit_code == 0
    assert snapshot()["settings"]["system_name"] == "Home NVR"


def test_restore_of_a_file_without_admin_needs_force(app, cli, tmp_path):
    doc = export_document()
    for user in doc["users"]:
        user["role"] = "viewer"
    path = tmp_path / "viewers.json"
    path.write_bytes(encode(doc))
    refused = cli("restore", str(path), "--yes")
    assert refused.exit_code == 1 and "--force" in refused.stderr
    assert backup_files(app) == []
    forced = cli("restore", str(path), "--yes", "--force")
    assert forced.exit_code == 0


def test_restore_one_section(app, cli):
    cli("create")
    _change_something(app)
    result = cli("restore", NAME, "--yes", "--section", "settings")
    assert result.exit_code == 0 and "Restored: 24 settings.\n" in result.output
    assert snapshot()["settings"]["system_name"] == "Home NVR"


def test_restore_of_an_invalid_file_exits_1_and_changes_nothing(app, cli, tmp_path):
    path = tmp_path / "broken.json"
    path.write_bytes(encode(export_document())[:-40])
    before = snapshot()
    result = cli("restore", str(path), "--yes")
    assert result.exit_code == 1 and "truncated" in result.stderr
    assert snapshot() == before and backup_files(app) == []


def test_delete(app, cli):
    cli("create")
    result = cli("delete", NAME)
    assert result.exit_code == 0 and result.output == f"Deleted {NAME}\n"
    assert backup_files(app) == []
    missing = cli("delete", NAME)
    assert missing.exit_code == 1 and "no backup named" in missing.stderr
    bad = cli("delete", "../secret_key")
    assert bad.exit_code == 1 and "is not a backup name" in bad.stderr


def test_prune_applies_retention_and_the_safety_limit(app, cli, clock):
    from vibenvr.settings.service import update_settings

    update_settings({"backup_auto_retention": 2})
    with app.app_context():
        for _ in range(4):
            service.create_backup("manual")
            clock.advance(seconds=1)
    folder = app.config["BACKUP_DIR"]
    for day in range(1, 5):
        (folder / f"vibe_backup_auto_202611{day:02d}_000000.json").write_bytes(b"{}")
    for second in range(7):
        (folder / f"vibe_backup_safety_20261101_0000{second:02d}.json").write_bytes(b"{}")
    result = cli("prune")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "Deleted vibe_backup_auto_20261102_000000.json",
        "Deleted vibe_backup_auto_20261101_000000.json",
        "Deleted vibe_backup_safety_20261101_000001.json",
        "Deleted vibe_backup_safety_20261101_000000.json",
    ]
    assert cli("prune").output == "Nothing to delete.\n"
    assert sum(name.startswith("vibe_backup_manual") for name in backup_files(app)) == 4


def test_an_unreadable_file_is_a_message_not_a_traceback(cli, tmp_path):
    folder = tmp_path / "a-folder.json"
    folder.mkdir()
    result = cli("verify", str(folder))
    assert result.exit_code == 1 and "is a folder, not a backup file" in result.stderr


def test_a_database_failure_is_a_message_not_a_traceback(app, cli, monkeypatch):
    from peewee import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(service, "export_bytes", broken)
    result = cli("create")
    assert result.exit_code == 1 and "The database is busy" in result.stderr and "Try again" in result.stderr
    assert backup_files(app) == []

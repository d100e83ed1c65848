"""Numbered database migrations (SPEC §12), tested from a database made by the previous release."""

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from vibenvr.backups.document.canonical import SECTIONS
from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.backups.store import BackupStore
from vibenvr.db import db
from vibenvr.migrations import MIGRATIONS, applied
from vibenvr.models import ID_MODELS
from vibenvr.runtime import STATE_MODELS

from builders import make_camera, make_recipient
from conftest import connected_app

RELEASE_2_0_0 = Path(__file__).parent / "data" / "release_2_0_0.sql"
MIGRATION_3 = Path(__file__).parent / "data" / "migration_3.sql"  # the database the code before migration 4 made
NEW_SETTINGS = {"backup_encrypt"}  # settings the registry gained after 2.0.0
TABLES = [
    "setting",
    "storage_profile",
    "camera",
    "group",
    "camera_group",
    "user",
    "api_token",
    "recovery_code",
    "trusted_device",
]

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")), reason="the frozen databases of earlier releases are SQLite files"
)


def release_data_dir(tmp_path, dump=RELEASE_2_0_0):
    """A data folder holding the 2.0.0 release's database (or another frozen one), as an upgrade finds it."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    con = sqlite3.connect(data / "vibenvr.db")
    con.executescript(dump.read_text(encoding="utf-8"))
    con.close()
    os.chmod(data / "vibenvr.db", 0o600)
    return data


def table_rows(path):
    con = sqlite3.connect(path)
    try:
        return {
            table: sorted(con.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)  # noqa: S608
            for table in TABLES
        }
    finally:
        con.close()


def table_sql(path):
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
    finally:
        con.close()


def test_the_previous_release_database_is_migrated_with_every_row_kept(tmp_path):
    data = release_data_dir(tmp_path)
    before = table_rows(data / "vibenvr.db")
    assert "AUTOINCREMENT" not in table_sql(data / "vibenvr.db")["camera"]
    with connected_app(data):
        assert [number for number, _name, _at in applied()] == [n for n, _, _ in MIGRATIONS]
        now = export_document()
    after = table_rows(data / "vibenvr.db")
    added = {key for key, _value in after["setting"]} - {key for key, _value in before["setting"]}
    assert added <= NEW_SETTINGS  # settings newer than 2.0.0 get their default row; nothing else changes
    assert {**after, "setting": [row for row in after["setting"] if row[0] not in added]} == before
    schema = table_sql(data / "vibenvr.db")
    for model in ID_MODELS:
        assert "AUTOINCREMENT" in schema[model._meta.table_name], model.__name__
    con = sqlite3.connect(data / "vibenvr.db")
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    indexes = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    con.close()
    assert {"camera_name", "user_username", "group_name", "api_token_token_hash"} <= indexes
    assert len(now["cameras"]) == 3
    assert {m._meta.table_name for m in STATE_MODELS} <= set(schema)  # the service's state, outside backups


def test_the_configuration_is_saved_before_the_first_migration(tmp_path):
    data = release_data_dir(tmp_path)
    before = table_rows(data / "vibenvr.db")
    with connected_app(data):
        entries = BackupStore(data / "backups").list()
        assert [e.kind for e in entries] == ["manual"]
        saved = validate_document((data / "backups" / entries[0].name).read_bytes())
        now = export_document()
    assert {s: saved.doc[s] for s in SECTIONS} == {s: now[s] for s in SECTIONS}
    copy = data / "vibenvr.db.before-migration-1"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert table_rows(copy) == before
    assert "AUTOINCREMENT" not in table_sql(copy)["camera"]  # the file as the release left it


def test_a_migrated_database_never_hands_out_a_deleted_id_again(tmp_path):
    data = release_data_dir(tmp_path)
    with connected_app(data):
        first = make_camera(name="New one")
        first.delete_instance()
        second = make_camera(name="Newer one")
        assert second.id > first.id


def test_migrations_run_once(tmp_path):
    data = release_data_dir(tmp_path)
    with connected_app(data):
        pass
    backups = sorted(p.name for p in (data / "backups").iterdir())
    with connected_app(data):
        assert len(applied()) == len(MIGRATIONS)
    assert sorted(p.name for p in (data / "backups").iterdir()) == backups


def test_a_fresh_install_records_every_migration_and_saves_nothing(tmp_path):
    data = tmp_path / "data"
    with connected_app(data):
        assert [n for n, _name, _at in applied()] == [n for n, _, _ in MIGRATIONS]
        camera = make_camera()
        camera.delete_instance()
        assert make_camera().id == camera.id + 1
        assert db.obj.execute_sql("SELECT count(*) FROM camera").fetchone() == (1,)
    assert list((data / "backups").iterdir()) == []
    assert not list(data.glob("vibenvr.db.before-migration-*"))
    for model in ID_MODELS:
        assert "AUTOINCREMENT" in table_sql(data / "vibenvr.db")[model._meta.table_name]


def test_a_database_of_the_release_before_server_sessions_gets_their_table(tmp_path):
    """The release before migration 3 had migrations 1 and 2: its database has no user_session table."""
    data = tmp_path / "data"
    with connected_app(data):
        make_camera(name="Kept")
    con = sqlite3.connect(data / "vibenvr.db")
    con.execute('DROP TABLE "user_session"')
    con.execute("DELETE FROM schema_migration WHERE number >= 3")
    con.commit()
    con.close()
    with connected_app(data):
        assert [n for n, _name, _at in applied()] == [n for n, _, _ in MIGRATIONS]
        assert "user_session" in db.obj.get_tables()
        assert db.obj.execute_sql("SELECT name FROM camera").fetchall() == [("Kept",)]
    assert [e.kind for e in BackupStore(data / "backups").list()] == ["manual"]  # saved before migration 3


def test_the_frozen_release_database_is_what_that_release_wrote():
    """The fixture itself: the 2.0.0 tables (no AUTOINCREMENT, no migration table) with data in them."""
    text = RELEASE_2_0_0.read_text(encoding="utf-8")
    assert "schema_migration" not in text and "AUTOINCREMENT" not in text
    assert "Garage 🚗" in text


def test_a_database_at_migration_3_gains_the_backup_recipients_table_and_keeps_every_row(tmp_path):
    data = release_data_dir(tmp_path, MIGRATION_3)
    before = table_rows(data / "vibenvr.db")
    assert "backup_recipient" not in table_sql(data / "vibenvr.db")
    with connected_app(data):
        assert [n for n, _name, _at in applied()] == [n for n, _, _ in MIGRATIONS]
        now = export_document()
        entries = BackupStore(data / "backups").list()
        saved = validate_document((data / "backups" / entries[0].name).read_bytes())
        make_recipient(name="Laptop")
    assert table_rows(data / "vibenvr.db") == before  # nothing of the configuration changed
    assert "AUTOINCREMENT" in table_sql(data / "vibenvr.db")["backup_recipient"]
    assert now["backup_recipients"] == [] and len(now["cameras"]) == 3
    assert [e.kind for e in entries] == ["manual"]  # the backup before migration 4, with every section
    assert {s: saved.doc[s] for s in SECTIONS} == {s: now[s] for s in SECTIONS}
    assert (data / "vibenvr.db.before-migration-4").exists()

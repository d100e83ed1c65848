"""A full disk (SPEC §12) on a real, small file system: 507 with the message of §5 for the API (JSON), the pages
(the htmx message or the page) and an exit 1 from the terminal; nothing is deleted and nothing half-written
stays. The test mounts a tmpfs of a few MB (root only; skipped where mounting is impossible)."""

import errno
import io
import os
from pathlib import Path

import pytest

from vibenvr.backups.document.canonical import encode
from vibenvr.backups.document.export import export_document
from vibenvr.models import Group
from vibenvr.settings.service import get_setting, update_settings

from .helpers import build_rich_config
from conftest import connected_app
from support.backups import BACKUPS_T0
from support.clock import FakeClock
from support.smalldisk import small_disk as mounted_small_disk

HTMX = {"HX-Request": "true"}


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs mounted for this test, unmounted after it."""
    with mounted_small_disk(tmp_path, size="4m", mode="0700") as point:
        yield point


def fill(disk):
    """Write a filler file until not one more byte fits; return its path (delete it to free the space)."""
    filler = Path(disk) / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1):
            while True:
                try:
                    os.write(fd, bytes(size))
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)
    return filler


def folder_state(folder):
    return {p.name: p.read_bytes() for p in Path(folder).iterdir()}


@pytest.fixture
def app(tmp_path, small_disk):
    """The app with its database on the ordinary disk and its backup folder on the small one."""
    with connected_app(tmp_path / "data", BACKUP_DIR=small_disk / "backups", CLOCK=FakeClock(BACKUPS_T0)) as app:
        yield app


@pytest.fixture
def full(app, small_disk):
    """A rich configuration, one backup of it, a changed setting, then a full disk."""
    build_rich_config()
    with app.app_context():
        from vibenvr.backups import service

        name = service.create_backup("manual").name
        update_settings({"system_name": "Changed after the backup"})
    filler = fill(small_disk)
    return {"name": name, "filler": filler, "before": folder_state(app.config["BACKUP_DIR"])}


def _message(app):
    return (
        f"Could not write a backup to {app.config['BACKUP_DIR']}: the disk is full. No backup was written and "
        "none was deleted. Free some space there and try again."
    )


def test_the_api_answers_507_for_create_import_and_restore_and_deletes_nothing(app, api, full):
    created = api.post("/api/backups")
    assert created.status_code == 507 and created.get_json() == {"error": _message(app)}
    with app.app_context():
        data = encode(export_document("manual"))
    imported = api.post(
        "/api/backups/import", data={"file": (io.BytesIO(data), "backup.json")}, content_type="multipart/form-data"
    )
    assert imported.status_code == 507 and imported.get_json() == {"error": _message(app)}
    restored = api.post(f"/api/backups/{full['name']}/restore")
    assert restored.status_code == 507
    assert restored.get_json()["error"] == (
        f"Nothing was restored: the safety backup of the current configuration could not be written. {_message(app)}"
    )
    with app.app_context():
        assert get_setting("system_name") == "Changed after the backup"
    assert folder_state(app.config["BACKUP_DIR"]) == full["before"]  # no temporary, nothing deleted
    assert api.get("/api/backups").status_code == 200  # listing needs no space

    full["filler"].unlink()
    assert api.post("/api/backups").status_code == 201
    assert api.post(f"/api/backups/{full['name']}/restore").status_code == 200


def test_the_pages_answer_507_with_the_message_where_the_action_was(app, admin_client, full):
    page = admin_client.get("/settings/backups")
    assert page.status_code == 200 and full["name"] in page.text

    fragment = admin_client.post("/settings/backups/create", headers=HTMX)
    assert fragment.status_code == 507 and fragment.headers["HX-Retarget"] == "#messages"
    assert "The backup failed" in fragment.text and _message(app) in fragment.text
    plain = admin_client.post("/settings/backups/create")
    assert plain.status_code == 507 and plain.text.lstrip().lower().startswith("<!doctype html")
    assert _message(app) in plain.text

    with app.app_context():
        data = encode(export_document("manual"))
    panel = admin_client.post(
        "/settings/backups/import",
        data={"file": (io.BytesIO(data), "backup.json")},
        content_type="multipart/form-data",
        headers=HTMX,
    )
    assert panel.status_code == 507 and 'id="import-panel"' in panel.text and _message(app) in panel.text

    dialog = admin_client.post(f"/settings/backups/{full['name']}/restore", headers=HTMX)
    assert dialog.status_code == 507 and "The restore did not happen; nothing was changed." in dialog.text
    assert "the disk is full" in dialog.text
    assert folder_state(app.config["BACKUP_DIR"]) == full["before"]


def test_the_terminal_says_the_disk_is_full_and_exits_1(app, runner, full):
    created = runner.invoke(args=["backup", "create"])
    assert created.exit_code == 1 and _message(app) in created.output and "Traceback" not in created.output
    restored = runner.invoke(args=["backup", "restore", full["name"], "--yes"])
    assert restored.exit_code == 1 and "Nothing was restored" in restored.output
    assert folder_state(app.config["BACKUP_DIR"]) == full["before"]


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="the database is not on the small disk")
def test_a_database_on_a_full_disk_answers_507_for_api_and_page_writes(tmp_path, small_disk):
    from builders import make_token, make_user
    from conftest import Api, sign_in

    with connected_app(small_disk / "data") as app:
        admin = make_user("admin", role="admin")
        api = Api(app.test_client(), make_token(admin))
        pages = sign_in(app.test_client(), admin)
        filler = fill(small_disk)
        message = (
            f"Could not write to {app.config['DATA_DIR']}: the disk is full. Nothing was saved and nothing "
            "was deleted. Free some space there and try again."
        )

        answer = api.post("/api/cameras", json={"name": "Porch", "rtsp_url": "rtsp://cam/stream"})
        assert answer.status_code == 507 and answer.get_json() == {"error": message}
        fragment = pages.post("/groups/new", data={"name": "Outside"}, headers=HTMX)
        assert fragment.status_code == 507 and fragment.headers["HX-Retarget"] == "#messages"
        assert "The disk is full" in fragment.text and message in fragment.text
        assert Group.select().count() == 0

        filler.unlink()
        assert api.post("/api/cameras", json={"name": "Porch", "rtsp_url": "rtsp://cam/stream"}).status_code == 201
        assert pages.post("/groups/new", data={"name": "Outside"}).status_code == 303

"""Encrypted backups across a real restart (SPEC §7, §13): gunicorn with ``backup_encrypt = all`` makes an
age-encrypted startup backup and retention counts the encrypted files; started again on the same data
folder, startup protection opens that backup with the server key, takes no second one, and the backup
restores through the API to the configuration it was made of."""

import datetime as dt
import time

import pytest

from vibenvr.backups import service
from vibenvr.backups.document import envelope
from vibenvr.backups.document.canonical import SECTIONS
from vibenvr.db import db
from vibenvr.settings.service import update_settings
from vibenvr.timeutil import utcnow

from builders import make_camera, make_token, make_user
from conftest import make_app
from support.clock import FakeClock
from support.gunicorn import Gunicorn, call


def _prepare(data_dir):
    """In process, before any server: an admin with a token, a camera, automatic backups on and encrypted
    (``all``), and two encrypted automatic backups of three and two days ago (on a clock set back); then
    retention 2, so a third automatic backup is one too many."""
    clock = FakeClock(utcnow() - dt.timedelta(days=3))
    app = make_app(data_dir, CLOCK=clock)
    with app.app_context(), db.connection_context():
        token = make_token(make_user("admin", role="admin"), name="restart test")
        make_camera(name="Porch")
        update_settings({"backup_auto_enabled": True, "backup_encrypt": "all"})
        old = [service.create_backup("auto").name]
        clock.advance(days=1)
        old.append(service.create_backup("auto").name)
        update_settings({"backup_auto_retention": 2})
    return app.config["BACKUP_DIR"], token, old


def _wait_for(server, what, timeout=60):
    deadline = time.monotonic() + timeout
    while what not in server.log():
        assert server.process.poll() is None, f"gunicorn exited:\n{server.log()}"
        assert time.monotonic() < deadline, f"{what!r} not logged in {timeout} s:\n{server.log()}"
        time.sleep(0.1)  # bounded polling of a real server, not a sleep standing in for a clock
    return server.log()


def _configuration(server, token):
    """The configuration as the server exports it, less usage stamps (this test's token is used)."""
    status, doc = call("GET", f"{server.url}/api/config/export", token)
    assert status == 200, doc
    state = {key: doc[key] for key in SECTIONS}
    for entry in state["api_tokens"]:
        entry["last_used_at"] = None
    return state


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.slow
def test_an_encrypted_startup_backup_survives_a_restart_counts_for_protection_and_restores(tmp_path):
    data_dir = tmp_path / "data"
    backups, token, (oldest, older) = _prepare(data_dir)
    assert oldest.endswith(".json.age") and older.endswith(".json.age")

    with Gunicorn(data_dir, tmp_path / "first.log", workers=1, scheduler=True) as server:
        text = _wait_for(server, "automatic backup vibe_backup_auto_")
        assert "startup protection: the newest valid automatic backup " + older in text  # older than 24 h
        status, answer = call("GET", f"{server.url}/api/backups/status", token)
        assert status == 200, answer
        made = answer["last_success"]["name"]
        assert made.endswith(".json.age") and (backups / made).read_bytes().startswith(envelope.MAGIC)
        assert b"Porch" not in (backups / made).read_bytes()
        assert _files(backups) == sorted([older, made])  # retention 2 counted the encrypted files
        assert f"retention deleted {oldest}" in text
        before = _configuration(server, token)
    assert "backup scheduler stopped in process" in server.log()

    with Gunicorn(data_dir, tmp_path / "second.log", workers=1, scheduler=True) as server:
        text = _wait_for(server, "startup protection: ")
        assert f"startup protection: {made} (" in text and "no startup backup" in text, text
        assert "does not count" not in text  # opened with the server key made before the first start
        assert _files(backups) == sorted([older, made])

        status, listed = call("GET", f"{server.url}/api/cameras", token)
        assert status == 200 and [c["name"] for c in listed["cameras"]] == ["Porch"], listed
        for camera in listed["cameras"]:  # the configuration changes, then the backup brings it back
            assert call("DELETE", f"{server.url}/api/cameras/{camera['id']}", token)[0] == 204
        assert call("PATCH", f"{server.url}/api/settings", token, {"system_name": "Changed"})[0] == 200
        assert _configuration(server, token) != before

        status, answer = call("POST", f"{server.url}/api/backups/{made}/restore", token, {})
        assert status == 200, answer
        assert answer["restored"] is True and answer["safety_backup"].endswith(".json.age")
        assert _configuration(server, token) == before
        assert _files(backups) == sorted([older, made, answer["safety_backup"]])

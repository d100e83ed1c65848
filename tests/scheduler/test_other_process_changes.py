"""A change made in another process reaches the running scheduler within 2 seconds (SPEC §12): the
other process bumps the change mark in the data folder and the scheduler reads it every second. The
other process is a real one (no signal of this process reaches it): a script saving settings as a
second worker does, and the terminal's ``flask backup restore``."""

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from vibenvr.backups.automation.changes import mark_path, read_mark
from vibenvr.backups.document.canonical import encode
from vibenvr.backups.document.export import export_document
from vibenvr.settings.service import get_setting, update_settings
from vibenvr.timeutil import iso

from .conftest import T0, leading, names, settings, status
from builders import make_user

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))
H = dt.timedelta(hours=1)
LIMIT = 2.0  # seconds, SPEC §12

SAVE_SETTINGS = """
import json, sys, time
from vibenvr import create_app
from vibenvr.db import db
from vibenvr.settings.service import get_setting, update_settings

app = create_app({"TESTING": True, "SCHEDULER_ENABLED": False, "SECRET_KEY": "other process",
                  "DATA_DIR": sys.argv[1]})
with app.app_context(), db.connection_context():
    update_settings(json.loads(sys.argv[2]))
print(time.monotonic())
"""


def _env(app):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "WERKZEUG_", "VIBENVR_"))}
    env.update(VIBENVR_DATA_DIR=str(app.config["DATA_DIR"]), VIBENVR_SCHEDULER="off", PYTHONPATH=str(ROOT))
    if os.environ.get("TEST_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    return env


def save_in_another_process(app, values):
    """Save settings from a separate Python process on the same data folder; when it finished saving."""
    done = subprocess.run(
        [sys.executable, "-c", SAVE_SETTINGS, str(app.config["DATA_DIR"]), json.dumps(values)],
        cwd=ROOT,
        env=_env(app),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout.strip().splitlines()[-1])


def seconds_until(condition, since, limit=10.0):
    """Poll ``condition`` (a real thread works meanwhile) until it holds; seconds elapsed since ``since``."""
    while not condition():
        assert time.monotonic() - since < limit, "the scheduler did not see the change"
        time.sleep(0.02)  # polling a real thread with a deadline, not a sleep standing in for a clock
    return time.monotonic() - since


def test_enabling_in_another_process_starts_backups_within_two_seconds(app, start_scheduler):
    scheduler = leading(start_scheduler())
    assert status(app)["next_run"] is None and names(app) == []
    saved = save_in_another_process(app, {"backup_auto_enabled": True})
    elapsed = seconds_until(lambda: status(app)["next_run"] is not None, saved)
    assert elapsed < LIMIT, elapsed
    assert names(app, "auto") == ["vibe_backup_auto_20261129_120000.json"]  # no recent one: taken at once
    assert status(app)["next_run"] == iso(T0 + 24 * H)

    saved = save_in_another_process(app, {"backup_auto_frequency_hours": 6})
    assert seconds_until(lambda: status(app)["next_run"] == iso(T0 + 6 * H), saved) < LIMIT
    saved = save_in_another_process(app, {"backup_auto_enabled": False})
    assert seconds_until(lambda: status(app)["next_run"] is None, saved) < LIMIT
    assert scheduler.running and len(names(app, "auto")) == 1


def test_a_restore_from_the_terminal_reschedules_within_two_seconds(app, start_scheduler, tmp_path):
    make_user("admin", role="admin")  # a restore needs an active administrator in the file
    settings(app, backup_auto_enabled=True, backup_auto_frequency_hours=3)
    every_three_hours = tmp_path / "three-hours.json"
    every_three_hours.write_bytes(encode(export_document("manual", now=T0)))
    settings(app, backup_auto_frequency_hours=24)
    leading(start_scheduler())
    assert status(app)["next_run"] == iso(T0 + 24 * H)

    done = subprocess.run(
        [FLASK, "--app", "app", "backup", "restore", str(every_three_hours), "--yes"],
        cwd=ROOT,
        env=_env(app),
        capture_output=True,
        text=True,
        timeout=120,
    )
    finished = time.monotonic()
    assert done.returncode == 0, done.stderr
    assert seconds_until(lambda: status(app)["next_run"] == iso(T0 + 3 * H), finished) < LIMIT


def test_only_backup_settings_and_restores_bump_the_mark(app):
    with app.app_context():
        update_settings({"system_name": "Garage NVR"})
        assert read_mark(app.config["DATA_DIR"]) is None
        update_settings({"backup_auto_retention": 4})
    first = read_mark(app.config["DATA_DIR"])
    assert first is not None and len(first) == 33
    assert oct(mark_path(app.config["DATA_DIR"]).stat().st_mode & 0o777) == "0o600"
    settings(app, backup_auto_enabled=True)
    assert read_mark(app.config["DATA_DIR"]) not in (None, first)


def test_a_mark_that_cannot_be_written_does_not_stop_the_save(app, caplog):
    mark_path(app.config["DATA_DIR"]).mkdir()  # a folder where the file should be: writing it fails
    with caplog.at_level(logging.WARNING, logger="vibenvr.backups.scheduler"), app.app_context():
        assert update_settings({"backup_auto_enabled": True}) == ["backup_auto_enabled"]
    assert "could not write the change mark" in caplog.text and "within a minute instead" in caplog.text
    with app.app_context():
        assert get_setting("backup_auto_enabled") is True

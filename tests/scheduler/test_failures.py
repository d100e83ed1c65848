"""Failures (disk, database, folder) are logged, recorded as the last failure, retried at the next run,
and never stop the scheduler thread."""

import datetime as dt
import logging
import shutil

from vibenvr.backups.automation.rules import AutoBackups
from vibenvr.backups.automation.status import status_path
from vibenvr.models import Setting
from vibenvr.timeutil import iso

from .conftest import T0, backup_at, leading, names, settings, status, tick

H = dt.timedelta(hours=1)


def block_backup_folder(app):
    """Put a plain file where the backup folder should be: no backup can be written (even as root)."""
    folder = app.config["BACKUP_DIR"]
    shutil.rmtree(folder)
    folder.write_text("not a folder")


def unblock_backup_folder(app):
    folder = app.config["BACKUP_DIR"]
    folder.unlink()
    folder.mkdir(mode=0o700)


def test_an_unwritable_folder_is_recorded_and_retried_at_the_next_run(app, rules, clock, caplog):
    settings(app, backup_auto_enabled=True, backup_auto_frequency_hours=6)
    block_backup_folder(app)
    with caplog.at_level(logging.INFO, logger="vibenvr.backups.scheduler"):
        tick(rules)
    failure = status(app)["last_failure"]
    assert failure["at"] == iso(T0)
    assert str(app.config["BACKUP_DIR"]) in failure["reason"]
    assert "automatic backup failed" in caplog.text and failure["reason"] in caplog.text
    assert status(app)["next_run"] == iso(T0 + 6 * H)

    unblock_backup_folder(app)
    clock.advance(hours=5)
    tick(rules)
    assert names(app) == []  # retried at the next run, not in a tight loop
    clock.advance(hours=1)
    tick(rules)
    assert names(app) == ["vibe_backup_auto_20261129_180000.json"]
    assert status(app)["last_success"] == {"name": names(app)[0], "at": iso(T0 + 6 * H)}
    assert status(app)["last_failure"] == failure  # the last failure stays on record


def test_an_unexpected_error_is_recorded_and_does_not_escape(app, clock):
    def explode(kind):
        raise RuntimeError("the backup function exploded")

    rules = AutoBackups(app, create_backup=explode)
    settings(app, backup_auto_enabled=True)
    tick(rules)
    assert status(app)["last_failure"] == {"at": iso(T0), "reason": "the backup function exploded"}
    assert rules.next_run == T0 + 24 * H


def test_a_database_error_when_a_run_is_due_counts_as_a_failed_run(app, rules, clock):
    backup_at(app, T0 - 2 * H)
    settings(app, backup_auto_enabled=True)
    tick(rules)
    assert rules.next_run == T0 + 22 * H
    with app.app_context():
        app.extensions["peewee"].drop_tables([Setting])  # even the settings cannot be read now
    clock.advance(hours=22)
    tick(rules)
    failure = status(app)["last_failure"]
    assert failure == {"at": iso(T0 + 22 * H), "reason": "database error: no such table: setting"}
    assert rules.next_run == T0 + 46 * H


def test_an_unwritable_status_file_does_not_stop_backups(app, rules, clock, caplog):
    status_path(app.config["DATA_DIR"]).mkdir()  # os.replace cannot put a file there
    settings(app, backup_auto_enabled=True)
    with caplog.at_level(logging.ERROR, logger="vibenvr.backups.scheduler"):
        tick(rules)
    assert "could not write the backup status file" in caplog.text
    assert len(names(app, "auto")) == 1
    status_path(app.config["DATA_DIR"]).rmdir()
    tick(rules)  # written as soon as it can be
    assert status(app)["last_success"]["name"] == names(app, "auto")[0]


def test_the_thread_survives_a_failed_job_and_the_status_shows_the_failure(app, clock, start_scheduler):
    settings(app, backup_auto_enabled=True)
    block_backup_folder(app)
    scheduler = leading(start_scheduler())
    assert status(app)["last_failure"]["at"] == iso(T0)
    assert scheduler.running

    unblock_backup_folder(app)
    clock.advance(hours=24)
    ticks = scheduler.ticks
    scheduler.wake()
    assert scheduler.wait_for_ticks(ticks + 1)
    assert scheduler.running
    assert names(app) == ["vibe_backup_auto_20261130_120000.json"]
    assert status(app)["last_success"]["name"] == "vibe_backup_auto_20261130_120000.json"

"""Scheduler fixtures: an app whose backup clock is a FakeClock, backups made at chosen times, ticks
run in a thread of their own (as the scheduler thread runs them, with their own connection)."""

import threading

import pytest

from vibenvr.backups.automation.rules import AutoBackups
from vibenvr.backups.automation.status import read_status
from vibenvr.backups.store import BackupStore
from vibenvr.settings.service import update_settings

from support import clocked_app
from support.backups import backup_at  # noqa: F401  (for the tests)
from support.clock import T0  # noqa: F401

clock, app = clocked_app.clock, clocked_app.app  # the fixtures: a FakeClock at T0, the app on it


def settings(app, **values):
    """Save settings as the Global Settings page does (the settings_changed signal is sent)."""
    with app.app_context():
        update_settings(values)


def corrupt(app, name):
    """Change one byte of a value inside the file, so it still parses but its checksum fails."""
    path = app.config["BACKUP_DIR"] / name
    text = path.read_text()
    path.write_text(text.replace('"system_name":"VibeNVR"', '"system_name":"VibeNVX"', 1))
    assert path.read_text() != text


def names(app, kind=None):
    """Backup file names in the folder, newest first, optionally of one kind."""
    store = BackupStore(app.config["BACKUP_DIR"])
    return [e.name for e in store.list() if kind is None or e.kind == kind]


def in_thread(func):
    """Run ``func`` in a new thread and wait: ticks get their own database connection, as in production."""
    errors = []

    def target():
        try:
            func()
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the tick did not finish"
    if errors:
        raise errors[0]


def tick(rules):
    in_thread(rules.tick)
    return rules


@pytest.fixture
def rules(app):
    """The automatic-backup rules of ``app`` (no thread): call ``tick(rules)`` to run one pass."""
    return AutoBackups(app)


def status(app):
    return read_status(app.config["DATA_DIR"])


@pytest.fixture
def start_scheduler(app):
    """Start real scheduler threads (``start_scheduler(app2)`` for another app); all are stopped afterwards."""
    started = []

    def start(target=None, **options):
        from vibenvr.backups.automation.scheduler import BackupScheduler

        scheduler = BackupScheduler(target or app, **options).start()
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        scheduler.stop(timeout=30)
        assert not scheduler.running


def leading(scheduler):
    """Wait until ``scheduler`` holds the lock and has run its boot tick."""
    assert scheduler.leading.wait(10), "the scheduler did not take the lock"
    assert scheduler.wait_for_ticks(1), "the boot tick did not run"
    return scheduler

"""Scheduler fixtures: an app whose backup clock is a FakeClock, backups made at chosen times, ticks
run in a thread of their own (as the scheduler thread runs them, with their own connection)."""

import datetime as dt
import threading

import pytest

from vibenvr.backups.autobackup import AutoBackups
from vibenvr.backups.format import export_document
from vibenvr.backups.status import read_status
from vibenvr.backups.store import BackupStore
from vibenvr.db import db
from vibenvr.settings.service import update_settings

from conftest import make_app

T0 = dt.datetime(2026, 11, 29, 12, 0, 0)


class FakeClock:
    """Naive UTC time that moves only when a test moves it."""

    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def app(tmp_path, clock):
    """The app on a fresh data folder with the fake clock as its backup clock."""
    app = make_app(tmp_path / "data", BACKUP_CLOCK=clock)
    db.connect(reuse_if_open=True)
    try:
        yield app
    finally:
        db.close()


def settings(app, **values):
    """Save settings as the Global Settings page does (the settings_changed signal is sent)."""
    with app.app_context():
        update_settings(values)


def backup_at(app, when, kind="auto"):
    """Write a real ``kind`` backup of the current configuration dated ``when``; return its name."""
    store = BackupStore(app.config["BACKUP_DIR"])
    return store.write(export_document(kind, now=when), kind).name


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
        from vibenvr.backups.scheduler import BackupScheduler

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

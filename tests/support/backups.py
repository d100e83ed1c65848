"""Backup fixtures and helpers shared by the backup, page, sanity and scheduler tests."""

import pytest

from vibenvr.backups.document.export import export_document
from vibenvr.backups.store import BackupStore

from .clock import FakeClock

BACKUPS_T0 = FakeClock().now.replace(hour=22, minute=40)  # the backup tests' start: 2026-11-29 22:40:00 UTC


def backup_at(app, when, kind="auto"):
    """Write a real ``kind`` backup of the current configuration dated ``when``; return its name."""
    store = BackupStore(app.config["BACKUP_DIR"])
    return store.write(export_document(kind, now=when), kind).name


@pytest.fixture
def clock(app):
    """A fake clock injected as the app's clock (``CLOCK``; import into a conftest to use)."""
    fake = FakeClock(BACKUPS_T0)
    app.config["CLOCK"] = fake
    return fake


@pytest.fixture
def store(app, clock):
    """The app's backup folder, on the injected clock."""
    return BackupStore(app.config["BACKUP_DIR"], clock=clock)

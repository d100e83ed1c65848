"""Fixtures for the System Backups page tests: an injected clock, the backup folder, backups made by the engine."""

import pytest
from backups.helpers import FakeClock

from vibenvr.backups import service
from vibenvr.backups.store import BackupStore


@pytest.fixture
def clock(app):
    fake = FakeClock()  # 2026-11-29 22:40:00 UTC
    app.config["BACKUP_CLOCK"] = fake
    return fake


@pytest.fixture
def store(app, clock):
    return BackupStore(app.config["BACKUP_DIR"], clock=clock)


@pytest.fixture
def backup(app, clock):
    """Back up the current configuration through the engine; return the file's entry."""

    def make(kind="manual"):
        with app.app_context():
            return service.create_backup(kind)

    return make

"""Backup fixtures: an app context, an injected clock, a store on the app's folder, a rich configuration."""

import pytest

from vibenvr.backups.store import BackupStore

from .helpers import FakeClock, build_rich_config


@pytest.fixture
def ctx(app):
    """Run the test body inside an app context (the database connection is the app fixture's)."""
    with app.app_context():
        yield app


@pytest.fixture
def clock(app):
    fake = FakeClock()
    app.config["BACKUP_CLOCK"] = fake
    return fake


@pytest.fixture
def store(app, clock):
    return BackupStore(app.config["BACKUP_DIR"], clock=clock)


@pytest.fixture
def rich(ctx):
    return build_rich_config()

"""Fixtures for the System Backups page tests: an injected clock, the backup folder, backups made by the engine."""

import pytest

from vibenvr.backups import service

from support import backups as shared

clock, store = shared.clock, shared.store  # fixtures: the app's backup clock (2026-11-29 22:40:00 UTC), its store


@pytest.fixture
def backup(app, clock):
    """Back up the current configuration through the engine; return the file's entry."""

    def make(kind="manual"):
        with app.app_context():
            return service.create_backup(kind)

    return make

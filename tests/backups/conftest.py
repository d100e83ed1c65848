"""Backup fixtures: an app context, an injected clock, a store on the app's folder, a rich configuration."""

import pytest

from .helpers import build_rich_config
from support import backups as shared

clock, store = shared.clock, shared.store  # fixtures: the app's backup clock (2026-11-29 22:40:00 UTC), its store


@pytest.fixture
def ctx(app):
    """Run the test body inside an app context (the database connection is the app fixture's)."""
    with app.app_context():
        yield app


@pytest.fixture
def rich(ctx):
    return build_rich_config()

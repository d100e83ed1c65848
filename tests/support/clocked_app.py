"""Fixtures for tests that create the app around a fake clock (import both into a conftest)."""

import pytest

from .clock import FakeClock
from conftest import connected_app


@pytest.fixture
def clock():
    """Starts at 2026-11-29 12:00:00 UTC (``support.clock.T0``)."""
    return FakeClock()


@pytest.fixture
def app(tmp_path, clock):
    """The app on a fresh data folder with the fake clock as its clock (``CLOCK``)."""
    with connected_app(tmp_path / "data", CLOCK=clock) as app:
        yield app

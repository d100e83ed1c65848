"""Startup protection (SPEC §7): at boot, a recent valid automatic backup means no startup backup."""

import datetime as dt
import logging

import pytest

from vibenvr.timeutil import iso

from .conftest import T0, backup_at, corrupt, names, settings, status, tick

H = dt.timedelta(hours=1)

# (files to place: (hours from now, kind, corrupt?)), frequency hours, backup expected, next run in hours
CASES = {
    "no backup yet: backup now": ([], 24, True, 24),
    "recent valid automatic backup: skip": ([(-2, "auto", False)], 24, False, 22),
    "recent corrupt, older valid beyond the interval: backup": (
        [(-1, "auto", True), (-30, "auto", False)],
        24,
        True,
        24,
    ),
    "recent corrupt, older valid within the interval: skip": ([(-1, "auto", True), (-5, "auto", False)], 24, False, 19),
    "future-dated automatic backup: backup": ([(3, "auto", False)], 24, True, 24),
    "frequency below the newest backup's age: backup": ([(-5, "auto", False)], 4, True, 4),
    "an interval just over: backup": ([(-24, "auto", False)], 24, True, 24),
    "recent manual, imported and safety backups do not count": (
        [(-1, "manual", False), (-1, "imported", False), (-1, "safety", False)],
        24,
        True,
        24,
    ),
}


@pytest.mark.parametrize("files, hours, expect_backup, next_in", CASES.values(), ids=CASES.keys())
def test_startup_protection(app, rules, files, hours, expect_backup, next_in):
    for offset, kind, damaged in files:
        name = backup_at(app, T0 + offset * H, kind)
        if damaged:
            corrupt(app, name)
    settings(app, backup_auto_enabled=True, backup_auto_frequency_hours=hours)
    before = set(names(app))

    tick(rules)

    made = set(names(app)) - before
    if expect_backup:
        assert made == {"vibe_backup_auto_20261129_120000.json"}
        assert status(app)["last_success"] == {"name": "vibe_backup_auto_20261129_120000.json", "at": iso(T0)}
    else:
        assert made == set()
        assert status(app)["last_success"] is None
    assert rules.next_run == T0 + next_in * H
    assert status(app)["next_run"] == iso(T0 + next_in * H)
    assert status(app)["last_failure"] is None


def test_disabled_takes_no_backup(app, rules, clock):
    tick(rules)
    clock.advance(days=30)
    tick(rules)
    assert names(app) == []
    assert rules.next_run is None
    assert status(app)["next_run"] is None


def test_future_dated_backup_is_logged_with_the_reason(app, rules, caplog):
    backup_at(app, T0 + 48 * H)
    settings(app, backup_auto_enabled=True)
    with caplog.at_level(logging.INFO, logger="vibenvr.backups.scheduler"):
        tick(rules)
    assert "in the future" in caplog.text
    assert "does not count as recent" in caplog.text
    assert "vibe_backup_auto_20261201_120000.json" in caplog.text
    assert len(names(app, "auto")) == 2


def test_corrupt_backup_is_logged_and_skipped(app, rules, caplog):
    name = backup_at(app, T0 - H)
    corrupt(app, name)
    settings(app, backup_auto_enabled=True)
    with caplog.at_level(logging.INFO, logger="vibenvr.backups.scheduler"):
        tick(rules)
    assert f"automatic backup {name} does not count" in caplog.text
    assert "checksum" in caplog.text
    assert len(names(app, "auto")) == 2


def test_skip_is_explained_in_the_log(app, rules, caplog):
    name = backup_at(app, T0 - 2 * H)
    settings(app, backup_auto_enabled=True)
    with caplog.at_level(logging.INFO, logger="vibenvr.backups.scheduler"):
        tick(rules)
    assert f"startup protection: {name}" in caplog.text
    assert "no startup backup" in caplog.text


def test_the_skipped_startup_backup_runs_when_its_interval_ends(app, rules, clock):
    backup_at(app, T0 - 2 * H)
    settings(app, backup_auto_enabled=True)
    tick(rules)
    clock.advance(hours=21, minutes=59)
    tick(rules)
    assert len(names(app, "auto")) == 1
    clock.advance(minutes=1)
    tick(rules)
    assert names(app, "auto")[0] == "vibe_backup_auto_20261130_100000.json"
    assert rules.next_run == T0 + 46 * H

"""Retention (SPEC §5): after a successful automatic backup only the newest N automatic ones stay."""

import datetime as dt

from vibenvr.models import TrustedDevice

from .conftest import T0, backup_at, names, settings, status, tick

DAY = dt.timedelta(days=1)


def place_mixture(app):
    """Twelve automatic backups a day apart plus every other kind, older than all of them."""
    autos = [backup_at(app, T0 - (n + 1) * DAY) for n in range(12)]
    old = T0 - 400 * DAY
    others = [backup_at(app, old, kind) for kind in ("manual", "imported", "safety")]
    folder = app.config["BACKUP_DIR"]
    legacy = "vibenvr_auto_backup_20250101_000000.json"  # a VibeNVR 1.x automatic backup: counts as automatic
    (folder / legacy).write_text((folder / autos[-1]).read_text())
    hand_placed = ["my-config.json", "vibe_backup_auto_copy.json", "before-upgrade.json"]
    for name in hand_placed:
        (folder / name).write_text("{}")
    return autos, others + hand_placed, legacy


def test_retention_keeps_the_newest_automatic_backups_and_nothing_else_is_touched(app, rules):
    autos, untouchable, legacy = place_mixture(app)
    settings(app, backup_auto_enabled=True, backup_auto_retention=3)

    tick(rules)  # the newest automatic backup is a day old: a backup is due at once

    new = "vibe_backup_auto_20261129_120000.json"
    assert names(app, "auto") == [new, autos[0], autos[1]]
    assert set(names(app)) == {new, autos[0], autos[1], *untouchable}
    assert legacy not in names(app)
    assert status(app)["last_success"]["name"] == new


def test_lowering_retention_deletes_only_after_the_next_successful_backup(app, rules, clock):
    autos = [backup_at(app, T0 - (n + 1) * dt.timedelta(hours=1)) for n in range(5)]
    settings(app, backup_auto_enabled=True, backup_auto_frequency_hours=24)
    tick(rules)
    assert names(app, "auto") == autos  # startup protection: the newest is an hour old

    settings(app, backup_auto_retention=2)
    tick(rules)
    assert names(app, "auto") == autos  # nothing is deleted without a fresh backup to replace it

    clock.advance(hours=23)
    tick(rules)
    assert names(app, "auto") == ["vibe_backup_auto_20261130_110000.json", autos[0]]


def test_a_failed_backup_deletes_nothing(app, rules):
    autos, untouchable, legacy = place_mixture(app)
    before = sorted(names(app))
    settings(app, backup_auto_enabled=True, backup_auto_retention=1)
    with app.app_context():
        app.extensions["peewee"].drop_tables([TrustedDevice])  # the export cannot read this table now

    tick(rules)

    assert sorted(names(app)) == before
    assert status(app)["last_success"] is None
    assert "database error" in status(app)["last_failure"]["reason"]


def test_a_new_backup_is_never_pushed_out_by_future_dated_ones(app, rules):
    backup_at(app, T0 + 30 * DAY)  # made while the clock was a month ahead
    settings(app, backup_auto_enabled=True, backup_auto_retention=1)
    tick(rules)
    new = status(app)["last_success"]["name"]
    assert names(app, "auto") == [new] and new.startswith("vibe_backup_auto_20261129_")
    assert status(app)["last_failure"] is None

"""Live rescheduling: Global Settings, PATCH /api/settings and restores take effect without a restart."""

import datetime as dt

from vibenvr.backups.document.canonical import encode
from vibenvr.backups.document.export import export_document
from vibenvr.models import Setting
from vibenvr.timeutil import iso

from .conftest import T0, backup_at, leading, names, settings, status, tick

H = dt.timedelta(hours=1)


def patch(api, **values):
    response = api.patch("/api/settings", json=values)
    assert response.status_code == 200, response.get_json()


def test_a_frequency_change_reschedules(app, rules, clock, api):
    settings(app, backup_auto_enabled=True)
    tick(rules)
    clock.advance(hours=2)
    patch(api, backup_auto_frequency_hours=6)
    tick(rules)
    assert rules.next_run == T0 + 6 * H
    assert status(app)["next_run"] == iso(T0 + 6 * H)
    clock.advance(hours=4)
    tick(rules)
    assert names(app, "auto")[0] == "vibe_backup_auto_20261129_180000.json"


def test_a_frequency_below_the_age_of_the_last_backup_backs_up_at_once(app, rules, clock, api):
    settings(app, backup_auto_enabled=True)
    tick(rules)
    clock.advance(hours=5)
    patch(api, backup_auto_frequency_hours=4)
    tick(rules)
    assert names(app, "auto") == ["vibe_backup_auto_20261129_170000.json", "vibe_backup_auto_20261129_120000.json"]
    assert rules.next_run == T0 + 9 * H


def test_disabling_stops_runs(app, rules, clock, api):
    settings(app, backup_auto_enabled=True, backup_auto_frequency_hours=1)
    tick(rules)
    patch(api, backup_auto_enabled=False)
    tick(rules)
    assert status(app)["next_run"] is None
    for _ in range(5):
        clock.advance(hours=3)
        tick(rules)
    assert len(names(app, "auto")) == 1


def test_enabling_starts_runs(app, rules, clock, api):
    tick(rules)
    clock.advance(days=3)
    tick(rules)
    assert names(app) == []
    patch(api, backup_auto_enabled=True)
    tick(rules)
    assert names(app, "auto") == ["vibe_backup_auto_20261202_120000.json"]
    assert status(app)["next_run"] == iso(clock() + 24 * H)


def test_enabling_respects_a_recent_automatic_backup(app, rules, api):
    backup_at(app, T0 - H)
    tick(rules)
    patch(api, backup_auto_enabled=True)
    tick(rules)
    assert len(names(app, "auto")) == 1
    assert rules.next_run == T0 + 23 * H


def test_a_change_made_by_another_process_applies_at_the_next_tick(app, rules, clock):
    settings(app, backup_auto_enabled=True)
    tick(rules)
    # Another worker saved the setting: this process gets no signal, only the database changed.
    Setting.update(value=3).where(Setting.key == "backup_auto_frequency_hours").execute()
    tick(rules)  # the holder's once-a-minute tick
    assert rules.next_run == T0 + 3 * H


def test_a_settings_change_reschedules_the_running_scheduler_at_once(app, api, start_scheduler):
    settings(app, backup_auto_enabled=True)
    scheduler = leading(start_scheduler())
    assert status(app)["next_run"] == iso(T0 + 24 * H)
    ticks = scheduler.ticks
    patch(api, backup_auto_frequency_hours=6)
    assert scheduler.wait_for_ticks(ticks + 1)  # woken by the signal, not a minute later
    assert status(app)["next_run"] == iso(T0 + 6 * H)

    ticks = scheduler.ticks
    patch(api, backup_auto_enabled=False)
    assert scheduler.wait_for_ticks(ticks + 1)
    assert status(app)["next_run"] is None


def test_enabling_through_the_api_backs_up_in_the_running_scheduler(app, api, start_scheduler):
    scheduler = leading(start_scheduler())
    assert names(app) == []
    ticks = scheduler.ticks
    patch(api, backup_auto_enabled=True)
    assert scheduler.wait_for_ticks(ticks + 1)
    assert names(app, "auto") == ["vibe_backup_auto_20261129_120000.json"]


def test_a_restore_reschedules_the_running_scheduler(app, api, start_scheduler):
    settings(app, backup_auto_enabled=True, backup_auto_frequency_hours=2)
    every_two_hours = encode(export_document("manual", now=T0))
    settings(app, backup_auto_frequency_hours=24)
    scheduler = leading(start_scheduler())
    assert status(app)["next_run"] == iso(T0 + 24 * H)

    ticks = scheduler.ticks
    response = api.post(
        "/api/config/restore?safety=false", data=every_two_hours, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.get_json()
    assert scheduler.wait_for_ticks(ticks + 1)
    assert status(app)["next_run"] == iso(T0 + 2 * H)

"""The pause of automatic backups: a file with its own end time, the scheduler honouring it, the API
the HTTP script uses, and ``flask --app app sanity resume``."""

import datetime as dt
import json
import re
import threading

import pytest

from vibenvr.backups.automation.pause import PauseBusy, current_pause, end_pause, pause_path, paused_until, start_pause
from vibenvr.backups.automation.rules import AutoBackups
from vibenvr.backups.automation.status import read_status
from vibenvr.settings.service import update_settings
from vibenvr.timeutil import iso

from .conftest import T0, backup_at, files

MIN = dt.timedelta(minutes=1)


def test_a_pause_ends_by_itself(tmp_path):
    pause = start_pause(tmp_path, T0, "test", minutes=30)
    assert pause.until == T0 + 30 * MIN and pause.by == "test"
    assert paused_until(tmp_path, T0 + 29 * MIN) == T0 + 30 * MIN
    assert paused_until(tmp_path, T0 + 30 * MIN) is None
    assert oct(pause_path(tmp_path).stat().st_mode & 0o777) == "0o600"


def test_a_second_pause_is_refused_until_the_first_ends(tmp_path):
    start_pause(tmp_path, T0, "first run")
    with pytest.raises(PauseBusy, match="already paused until 2026-11-29T13:00:00Z by first run"):
        start_pause(tmp_path, T0 + MIN, "second run")
    start_pause(tmp_path, T0 + 61 * MIN, "second run")  # the first one has ended
    assert end_pause(tmp_path) and not end_pause(tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "{}",
        '{"until": "tomorrow", "since": "now"}',
        json.dumps({"until": iso(T0 + dt.timedelta(days=2)), "since": iso(T0)}),
    ],
)
def test_a_damaged_or_implausible_pause_file_pauses_nothing(tmp_path, content):
    pause_path(tmp_path).write_text(content)
    assert current_pause(tmp_path, T0) is None


def test_a_pause_lasts_one_to_120_minutes(tmp_path):
    for minutes in (0, 121):
        with pytest.raises(ValueError, match="1 to 120 minutes"):
            start_pause(tmp_path, T0, "x", minutes=minutes)


def in_thread(func):
    """Ticks open their own connection, as in the scheduler thread."""
    thread = threading.Thread(target=func)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()


def test_the_scheduler_does_nothing_while_paused_and_drops_the_replans_of_the_run(app, config, clock):
    update_settings({"backup_auto_enabled": True})
    backup_at(app, T0 - 2 * 60 * MIN)
    rules = AutoBackups(app)
    in_thread(rules.tick)
    planned, status = rules.next_run, read_status(app.config["DATA_DIR"])
    assert planned == T0 + 22 * 60 * MIN
    start_pause(app.config["DATA_DIR"], clock(), "test")
    update_settings({"backup_auto_frequency_hours": 1})  # a backup would be due at once
    rules.replan = True  # as the settings_changed signal asks
    in_thread(rules.tick)
    assert len(files(app)) == 1 and rules.next_run == planned
    update_settings({"backup_auto_frequency_hours": 24})  # the run puts it back
    rules.replan = True  # as its restore's config_restored signal asks
    end_pause(app.config["DATA_DIR"])
    in_thread(rules.tick)
    assert len(files(app)) == 1 and rules.next_run == planned
    assert read_status(app.config["DATA_DIR"]) == status


def test_a_real_settings_change_made_during_a_pause_is_seen_afterwards(app, config, clock):
    update_settings({"backup_auto_enabled": True})
    backup_at(app, T0 - 2 * 60 * MIN)
    rules = AutoBackups(app)
    in_thread(rules.tick)
    start_pause(app.config["DATA_DIR"], clock(), "test")
    update_settings({"backup_auto_frequency_hours": 6})  # someone else's change, not undone
    in_thread(rules.tick)
    assert rules.next_run == T0 + 22 * 60 * MIN
    end_pause(app.config["DATA_DIR"])
    in_thread(rules.tick)
    assert rules.next_run == T0 + 4 * 60 * MIN


def test_the_pause_api_is_what_the_http_script_uses(app, api, clock):
    answer = api.post("/api/sanity/pause", json={"minutes": 30, "by": "script"})
    assert answer.status_code == 201
    assert answer.get_json() == {"paused": True, "paused_until": iso(T0 + 30 * MIN), "since": iso(T0), "by": "script"}
    busy = api.post("/api/sanity/pause", json={})
    assert busy.status_code == 409 and "already paused" in busy.get_json()["error"]
    assert api.get("/api/sanity/pause").get_json()["paused"] is True
    assert api.delete("/api/sanity/pause").status_code == 204
    assert api.get("/api/sanity/pause").get_json() == {"paused": False, "paused_until": None}


@pytest.mark.parametrize("body", [{"minutes": 0}, {"minutes": 121}, {"minutes": "ten"}, {"by": 5}, {"color": "red"}])
def test_the_pause_api_refuses_bad_bodies(api, body):
    answer = api.post("/api/sanity/pause", json=body)
    assert answer.status_code == 422 and "error" in answer.get_json()


def test_viewers_cannot_pause(app, viewer_api):
    for method in ("get", "post", "delete"):
        assert getattr(viewer_api, method)("/api/sanity/pause").status_code == 403


def test_sanity_resume_ends_a_pause(app, runner, clock):
    assert "were not paused" in runner.invoke(args=["sanity", "resume"]).output
    start_pause(app.config["DATA_DIR"], clock(), "a failed run")
    result = runner.invoke(args=["sanity", "resume"])
    assert (
        result.exit_code == 0
        and "resumed (they were paused until 2026-11-29T13:00:00Z by a failed run)" in result.output
    )
    assert paused_until(app.config["DATA_DIR"], clock()) is None


def test_the_backup_status_api_shows_an_active_pause_and_who_set_it(app, api, clock):
    answer = api.get("/api/backups/status").get_json()
    assert answer["paused_until"] is None and answer["paused_by"] is None
    assert api.post("/api/sanity/pause", json={"minutes": 30, "by": "refactoring_sanity.py on nvr1"}).status_code == 201
    answer = api.get("/api/backups/status").get_json()
    assert answer["paused_until"] == iso(T0 + 30 * MIN) and answer["paused_by"] == "refactoring_sanity.py on nvr1"
    clock.advance(minutes=30)  # the pause has ended by itself
    answer = api.get("/api/backups/status").get_json()
    assert answer["paused_until"] is None and answer["paused_by"] is None


def test_system_backups_shows_an_active_pause_until_when_and_by_whom(app, admin_client, clock):
    update_settings({"backup_auto_enabled": True})
    html = admin_client.get("/settings/backups").text
    assert 'data-status="paused"' not in html and '<span class="badge badge-green">On</span>' in html
    start_pause(app.config["DATA_DIR"], clock(), "flask sanity run")
    html = admin_client.get("/settings/backups/status", headers={"HX-Request": "true"}).text
    assert '<span class="badge badge-amber">Paused</span>' in html
    notice = html[html.index('data-status="paused"') :]
    notice = " ".join(re.sub(r"<[^>]+>", "", notice[notice.index(">") + 1 : notice.index("</p>")]).split())
    assert notice == (
        "Automatic backups are paused until 2026-11-29 13:00 (in 1 hour) by flask sanity run, for a "
        "zero-trace sanity check: none is taken while it runs. They resume by themselves then, or at "
        "once with flask --app app sanity resume."
    )
    end_pause(app.config["DATA_DIR"])
    assert 'data-status="paused"' not in admin_client.get("/settings/backups").text

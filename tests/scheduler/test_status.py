"""The durable status: last success, last failure and next run, in the data folder, through the API."""

import datetime as dt

from vibenvr.backups.automation.rules import AutoBackups
from vibenvr.backups.automation.status import status_path
from vibenvr.backups.document.canonical import encode
from vibenvr.backups.document.export import export_document
from vibenvr.timeutil import iso

from .conftest import T0, leading, names, settings, status, tick

H = dt.timedelta(hours=1)


def test_the_api_reports_the_status(app, rules, api):
    settings(app, backup_auto_enabled=True, backup_auto_frequency_hours=12, backup_auto_retention=4)
    tick(rules)
    response = api.get("/api/backups/status")
    assert response.status_code == 200
    assert response.get_json() == {
        "enabled": True,
        "frequency_hours": 12,
        "retention": 4,
        "last_success": {"name": "vibe_backup_auto_20261129_120000.json", "at": iso(T0)},
        "last_failure": None,
        "next_run": iso(T0 + 12 * H),
        "paused_until": None,
        "paused_by": None,
        "damaged": [],
        "locations": [],  # no backup location (SPEC §14; tests/locations covers their status)
    }


def test_the_status_is_admin_only(app, client, viewer_api):
    assert client.get("/api/backups/status").status_code == 401
    assert viewer_api.get("/api/backups/status").status_code == 403


def test_the_status_survives_a_restart(app, rules, clock):
    settings(app, backup_auto_enabled=True)
    tick(rules)
    before = status(app)
    clock.advance(hours=1)
    restarted = tick(AutoBackups(app))  # a new process: startup protection, nothing is lost
    assert status(app) == before
    assert restarted.next_run == T0 + 24 * H
    assert len(names(app, "auto")) == 1


def test_a_restore_does_not_reset_the_status(app, rules, clock, api):
    settings(app, backup_auto_enabled=True)
    tick(rules)
    old = encode(export_document("manual", now=T0 - 48 * H))
    response = api.post("/api/config/restore", data=old, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.get_json()
    tick(rules)
    assert status(app)["last_success"]["name"] == "vibe_backup_auto_20261129_120000.json"
    assert status(app)["next_run"] == iso(T0 + 24 * H)


def test_restoring_the_same_configuration_leaves_the_status_file_untouched(app, api, start_scheduler):
    """What a zero-trace run relies on: snapshot, restore from memory, and the status file is as before."""
    settings(app, backup_auto_enabled=True)
    scheduler = leading(start_scheduler())
    path = status_path(app.config["DATA_DIR"])
    before = (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_ino)

    snapshot = api.get("/api/config/export").get_data()
    ticks = scheduler.ticks
    response = api.post("/api/config/restore?safety=false", data=snapshot, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.get_json()
    assert scheduler.wait_for_ticks(ticks + 1)

    assert (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_ino) == before

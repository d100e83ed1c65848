"""``scripts/refactoring_sanity.py`` against a live server on 127.0.0.1 (werkzeug in this process, the
automatic-backup scheduler running, its clock injected): a clean run leaves zero trace, and the fallback
follows the 60-minute rule by the server's clock."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from vibenvr.backups.automation.pause import end_pause, paused_until
from vibenvr.backups.automation.scheduler import BackupScheduler
from vibenvr.backups.automation.status import record
from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.timeutil import iso

from .conftest import (
    T0,
    LiveServer,
    backup_at,
    build_config,
    corrupt,
    files,
    fingerprint,
    refusing_camera,
    status_bytes,
    trace,
)
from builders import make_camera, make_token, make_user

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "refactoring_sanity.py"
MIN = dt.timedelta(minutes=1)


@pytest.fixture
def server(app, ctx):
    """The app served on 127.0.0.1 with its scheduler running; ``.token`` is an admin's API token."""
    token = build_config()
    record(
        app.config["DATA_DIR"],
        last_success={"name": "vibe_backup_auto_20261128_120000.json", "at": iso(T0 - 24 * 60 * MIN)},
        next_run=None,
    )
    scheduler = BackupScheduler(app).start()
    assert scheduler.leading.wait(10) and scheduler.wait_for_ticks(1)
    with LiveServer(app) as live:
        live.token, live.scheduler = token, scheduler
        yield live
    scheduler.stop(timeout=30)


def run_script(server, *args, token=None):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--url", server.url, "--token", token or server.token, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    return result.returncode, result.stdout + result.stderr


def settle(scheduler):
    ticks = scheduler.ticks
    scheduler.wake()
    assert scheduler.wait_for_ticks(ticks + 1)


def test_a_clean_run_over_http_leaves_zero_trace(app, server):
    """Automatic backups are off and none exists: switching them on, as the settings check does, would take
    one at once if the scheduler were not paused."""
    backup_at(app, T0 - 2 * 60 * MIN, "manual")
    before = trace(app)
    code, out = run_script(server)
    assert code == 0, out
    for name in (
        "storage_profiles",
        "cameras",
        "groups",
        "users",
        "tokens",
        "settings",
        "backup_round_trip",
        "viewer_denied",
        "hostile_imports",
    ):
        assert f"  ok    {name}: " in out
    assert "Outcome: clean (exit code 0)" in out
    settle(server.scheduler)
    assert trace(app) == before
    assert paused_until(app.config["DATA_DIR"], T0) is None


def test_a_viewer_token_does_not_start(app, server):
    viewer = make_user("watcher", role="viewer")
    token = make_token(viewer)
    before = trace(app)
    code, out = run_script(server, token=token)
    assert code == 5
    assert "Not started: the token is not an admin's" in out and "Nothing was run and nothing was changed" in out
    assert trace(app) == before


def test_an_unreachable_server_does_not_start():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--url", "http://127.0.0.1:9", "--token", "x"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 5
    assert "Not started: GET /api/health answered nothing: cannot reach http://127.0.0.1:9" in result.stdout


def test_a_missing_token_is_a_usage_error():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--url", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert (
        result.returncode == 2
        and "an admin's API token is required: --token-file PATH, the VIBENVR_TOKEN environment" in result.stderr
    )


def failing_run(app, server):
    """Run one check while a trigger makes restoring the snapshot fail (it holds the camera "Doomed")."""
    make_camera(name="Doomed")
    with refusing_camera("Doomed"):
        return run_script(server, "--only", "storage_profiles")


def test_over_http_a_59_minute_old_automatic_backup_is_restored(app, server, clock):
    name = backup_at(app, clock() - 59 * MIN)
    before_files, before_status = files(app), status_bytes(app)
    code, out = failing_run(app, server)
    assert code == 3, out
    assert f"Fallback: restored the automatic backup {name} (59 minutes old, within the 60-minute limit)." in out
    safety = [f for f in files(app) if f not in before_files]
    assert len(safety) == 1 and f"kept as the safety backup {safety[0]}" in out  # written by the restore endpoint
    doc = validate_document((app.config["BACKUP_DIR"] / name).read_bytes()).doc
    assert fingerprint(export_document()) == fingerprint(doc)
    assert status_bytes(app) == before_status
    assert paused_until(app.config["DATA_DIR"], clock()) is None


def test_over_http_a_corrupt_newest_backup_is_skipped(app, server, clock):
    valid = backup_at(app, clock() - 30 * MIN)
    damaged = backup_at(app, clock() - 5 * MIN)
    corrupt(app, damaged)
    code, out = failing_run(app, server)
    assert code == 3, out
    assert f"Skipped {damaged}" in out and f"restored the automatic backup {valid} (30 minutes old" in out


REFUSED = {
    "61 minutes old": (-61, "auto", "61 minutes old"),
    "future-dated": (15, "auto", "15 minutes in the future"),
    "only manual ones": (-3, "manual", "3 minutes old"),
    "none": (None, None, "There is no valid backup in the backup folder of http://127.0.0.1:"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_over_http_the_fallback_is_refused_and_nothing_more_changes(app, server, clock, case):
    minutes, kind, says = REFUSED[case]
    name = backup_at(app, clock() + minutes * MIN, kind) if kind else None
    before_files, before_status = files(app), status_bytes(app)
    code, out = failing_run(app, server)
    left = fingerprint(export_document())
    assert code == 4, out
    assert "Fallback refused:" in out and "A manual restore is needed." in out and says in out
    if name:
        assert f"The newest backup is {name} ({kind}, {says}" in out
        assert f"flask --app app backup restore {name}" in out and f"/api/backups/{name}/restore" in out
    assert files(app) == before_files and status_bytes(app) == before_status
    assert fingerprint(export_document()) == left
    assert paused_until(app.config["DATA_DIR"], clock()) is not None
    end_pause(app.config["DATA_DIR"])

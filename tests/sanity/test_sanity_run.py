"""``flask --app app sanity run`` in process: every check passes and leaves zero trace, even with the
automatic-backup scheduler running and the checks toggling the backup settings."""

import datetime as dt

import pytest

from vibenvr.backups.automation.pause import pause_path
from vibenvr.backups.automation.scheduler import BackupScheduler
from vibenvr.backups.automation.status import record
from vibenvr.sanity.checks import CHECKS
from vibenvr.sanity.local import run_guarded
from vibenvr.settings.service import update_settings
from vibenvr.timeutil import iso

from .conftest import T0, backup_at, files, trace

H = dt.timedelta(hours=1)
NAMES = [name for name, _check in CHECKS]


@pytest.fixture
def history(app, config, clock):
    """Backups of every kind and a status file, as a system that has been running a while has them."""
    backup_at(app, T0 - 3 * H)
    backup_at(app, T0 - 2 * H, "manual")
    backup_at(app, T0 - 5 * H, "safety")
    (app.config["BACKUP_DIR"] / "my-copy.json").write_bytes((app.config["BACKUP_DIR"] / files(app)[0]).read_bytes())
    record(
        app.config["DATA_DIR"],
        last_success={"name": files(app)[0], "at": iso(T0 - 3 * H)},
        last_failure={"at": iso(T0 - 27 * H), "reason": "the disk is full"},
        next_run=None,
    )


@pytest.fixture
def scheduler(app):
    started = []

    def start():
        scheduler = BackupScheduler(app).start()
        started.append(scheduler)
        assert scheduler.leading.wait(10) and scheduler.wait_for_ticks(1), "the scheduler did not start"
        return scheduler

    yield start
    for scheduler in started:
        scheduler.stop(timeout=30)


def settle(scheduler):
    """Let the scheduler look once more (after the pause): it must find nothing to do."""
    ticks = scheduler.ticks
    scheduler.wake()
    assert scheduler.wait_for_ticks(ticks + 1)


def test_a_clean_run_through_the_command_leaves_zero_trace(app, history, runner):
    before = trace(app)
    result = runner.invoke(args=["sanity", "run"])
    assert result.exit_code == 0, result.output
    for name in NAMES:
        assert f"  ok    {name}: " in result.output
    assert "Outcome: clean (exit code 0)" in result.output
    assert "Zero trace: the configuration, the 4 file(s) in" in result.output
    assert trace(app) == before
    assert not pause_path(app.config["DATA_DIR"]).exists()


def test_a_clean_run_with_the_scheduler_running_takes_no_backup(app, history, runner, scheduler):
    update_settings({"backup_auto_enabled": True})  # the newest automatic backup is 3 h old: next one in 21 h
    running = scheduler()
    before = trace(app)
    result = runner.invoke(args=["sanity", "run"])
    assert result.exit_code == 0, result.output
    settle(running)
    assert trace(app) == before


def _dangerous_settings(running):
    """Lower the frequency below the newest backup's age and the retention to 1, then let the scheduler look:
    unpaused, that takes a backup at once and deletes every other automatic backup."""

    def check(ctx):
        ticks = running.ticks
        update_settings({"backup_auto_frequency_hours": 1, "backup_auto_retention": 1})
        assert running.wait_for_ticks(ticks + 1), "the settings change did not wake the scheduler"
        return "lowered the frequency and the retention"

    return check


def test_the_guard_pauses_the_scheduler_while_backup_settings_change(app, history, scheduler):
    update_settings({"backup_auto_enabled": True})
    backup_at(app, T0 - 4 * H)
    running = scheduler()
    before = trace(app)
    code, report, _results = run_guarded([("dangerous", _dangerous_settings(running))], echo=lambda line: None)
    assert code == 0, report.lines()
    settle(running)
    assert trace(app) == before


def test_without_the_guard_the_same_change_takes_a_backup_and_prunes(app, history, scheduler, ctx):
    """The control experiment: what the pause prevents."""
    update_settings({"backup_auto_enabled": True})
    old = backup_at(app, T0 - 4 * H)
    running = scheduler()
    before = files(app)
    _dangerous_settings(running)(None)
    after = files(app)
    assert "vibe_backup_auto_20261129_120000.json" in after and old not in after and after != before


def test_only_runs_the_named_checks(app, config, runner):
    result = runner.invoke(args=["sanity", "run", "--only", "settings", "--only", "tokens"])
    assert result.exit_code == 0, result.output
    assert "2 check(s)" in result.output and "ok    settings" in result.output and "cameras" not in result.output
    assert runner.invoke(args=["sanity", "run", "--only", "nope"]).exit_code == 2


def test_a_run_on_a_fresh_system_without_users_is_clean(app, runner):
    result = runner.invoke(args=["sanity", "run"])
    assert result.exit_code == 0, result.output
    assert not (app.config["DATA_DIR"] / "installed").exists()  # the run's own admin marks no install

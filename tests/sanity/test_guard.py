"""The guard in process: checks that raise or are interrupted are still undone exactly; what a run leaves
in the backup folder is swept; a pause in force or a missing snapshot means nothing runs."""

import datetime as dt
import os
import signal

from vibenvr.auth.tokens import user_for_token
from vibenvr.backups.automation.pause import start_pause
from vibenvr.backups.service import create_backup, get_store
from vibenvr.models import ApiToken
from vibenvr.sanity.guard import Outcome, _signals_held
from vibenvr.sanity.local import local_target, run_guarded
from vibenvr.settings.service import update_settings

from .conftest import T0, backup_at, files, trace
from builders import make_camera, make_user


def run(checks):
    lines = []
    code, report, results = run_guarded(checks, echo=lines.append)
    return code, report, "\n".join(lines)


def test_checks_that_raise_are_undone_exactly(app, config, clock):
    backup_at(app, T0 - dt.timedelta(hours=3))
    before = trace(app)

    def breaks(ctx):
        make_camera(name="Left behind")
        make_user("intruder", role="admin")
        update_settings({"system_name": "Changed", "backup_auto_enabled": True})
        raise RuntimeError("boom")

    code, report, out = run([("breaks", breaks)])
    assert code == Outcome.CHECKS_FAILED == 1
    assert "FAIL  breaks: RuntimeError: boom" in out
    assert "The checks failed: ChecksFailed: 1 of 1 checks failed (breaks)" in out
    assert "restored from the in-memory snapshot and verified by checksum" in out
    assert trace(app) == before


def test_ctrl_c_in_the_checks_is_undone_too(app, config):
    before = trace(app)

    def interrupted(ctx):
        make_camera(name="Half done")
        raise KeyboardInterrupt

    code, report, out = run([("interrupted", interrupted)])
    assert code == Outcome.CHECKS_FAILED
    assert report.error == "interrupted (Ctrl-C)"
    assert trace(app) == before


def test_sigterm_in_the_checks_is_undone_too(app, config):
    before = trace(app)
    previous = signal.getsignal(signal.SIGTERM)

    def stopped(ctx):
        make_camera(name="Half done")
        os.kill(os.getpid(), signal.SIGTERM)  # docker stop, systemd

    code, report, out = run([("stopped", stopped)])
    assert code == Outcome.CHECKS_FAILED and report.error == "stopped (SIGTERM)"
    assert trace(app) == before
    assert signal.getsignal(signal.SIGTERM) is previous


def test_ctrl_c_and_sigterm_are_held_back_while_the_guard_restores():
    with _signals_held() as held:
        os.kill(os.getpid(), signal.SIGINT)  # would raise KeyboardInterrupt here without the guard
        os.kill(os.getpid(), signal.SIGTERM)  # would end the process
    assert held == [signal.SIGINT, signal.SIGTERM]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_backups_the_checks_leave_are_swept(app, config):
    kept = backup_at(app, T0 - dt.timedelta(hours=1), "manual")
    before = trace(app)

    def leaves_files(ctx):
        return ", ".join([create_backup("manual").name, create_backup("safety").name])

    code, report, out = run([("leaves_files", leaves_files)])
    assert code == Outcome.CLEAN
    assert len(report.swept) == 2 and "Deleted backup files the run left behind" in out
    assert trace(app) == before and kept in files(app)


def test_a_backup_deleted_by_the_checks_is_a_trace(app, config):
    name = backup_at(app, T0 - dt.timedelta(hours=1), "manual")

    code, report, out = run([("deletes", lambda ctx: get_store().delete(name))])
    assert code == Outcome.CHECKS_FAILED
    assert f"Trace left: the backup {name}, there before the run, is gone" in out


def test_nothing_runs_while_another_run_holds_the_pause(app, config, clock):
    start_pause(app.config["DATA_DIR"], clock(), "another run")
    before = trace(app)
    ran = []

    code, report, out = run([("never", lambda ctx: ran.append(1))])
    assert code == 5 and report is None and not ran
    assert "Not started: automatic backups are already paused" in out and "by another run" in out
    assert trace(app) == before


def exporting_with(app, before_export):
    """The in-process target, but each export first runs ``before_export()``: over HTTP the guard's own
    ``GET /api/config/export`` uses its API token, so the token's ``last_used_at`` moves at each one."""
    target = local_target(app)
    export = target.export

    def export_after():
        before_export()
        return export()

    target.export = export_after
    return target


def test_the_guard_using_its_token_leaves_no_trace(app, config):
    minutes = iter(range(1, 60))
    used = []

    def use_token():
        used.append(T0 + dt.timedelta(minutes=next(minutes)))
        assert user_for_token(config, now=used[-1]) is not None

    before = trace(app)
    code, report, out = run_guarded(
        [("noop", lambda ctx: "nothing")], echo=lambda line: None, target=exporting_with(app, use_token)
    )
    assert code == Outcome.CLEAN and report.mismatch == [], report.lines()
    assert ApiToken.get().last_used_at == used[-1] != used[0]  # not the snapshot's stamp: moved after the restore
    assert trace(app) == before


def test_a_token_changed_after_the_restore_is_a_difference(app, config):
    exports = []

    def rename_after_the_snapshot():
        if exports:
            ApiToken.update(name=f"renamed {len(exports)}").execute()
        exports.append(1)

    code, report, out = run_guarded(
        [("noop", lambda ctx: "nothing")], echo=lambda line: None, target=exporting_with(app, rename_after_the_snapshot)
    )
    assert report.mismatch == ["api_tokens"]
    assert code == Outcome.FALLBACK_REFUSED  # no automatic backup to fall back to

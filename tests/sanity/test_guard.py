"""The guard in process: checks that raise or are interrupted are still undone exactly; what a run leaves
in the backup folder is swept; a pause in force or a missing snapshot means nothing runs."""

import datetime as dt
import os
import signal

from vibenvr.backups.automation.pause import start_pause
from vibenvr.backups.service import create_backup, get_store
from vibenvr.sanity.guard import Outcome, _signals_held, comparable, differing_sections, fingerprint
from vibenvr.sanity.local import run_guarded
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


def test_usage_stamps_are_not_compared():
    doc = {"api_tokens": [{"name": "ci", "last_used_at": "2026-11-29T12:00:00Z"}],
           "trusted_devices": [{"name": "Laptop", "last_used": None}], "settings": {}}
    used = {**doc, "api_tokens": [{"name": "ci", "last_used_at": "2026-11-29T12:05:00Z"}],
            "trusted_devices": [{"name": "Laptop", "last_used": "2026-11-29T12:05:00Z"}]}
    renamed = {**doc, "api_tokens": [{"name": "renamed", "last_used_at": None}]}
    assert fingerprint(doc) == fingerprint(used)
    assert fingerprint(doc) != fingerprint(renamed)
    assert differing_sections(doc, renamed) == ["api_tokens"]
    assert comparable(doc)["api_tokens"] == [{"name": "ci", "last_used_at": None}]

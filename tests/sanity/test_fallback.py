"""The fallback when the snapshot cannot be restored: the newest valid automatic backup, only when the time
written in it is at most 60 minutes ago; otherwise nothing more changes and the report says what to do.

The restore fails for real: a trigger refuses to re-insert the camera "Doomed", which existed when the
snapshot was taken (the automatic backups were made before it, so they restore fine).
"""

import contextlib
import datetime as dt

import pytest

from vibenvr.backups.automation.pause import paused_until
from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.db import db
from vibenvr.sanity.guard import Outcome
from vibenvr.sanity.local import run_guarded

from .conftest import backup_at, corrupt, files, fingerprint, refusing_camera, status_bytes, trace
from builders import make_camera

MIN = dt.timedelta(minutes=1)


def doc_of(app, name):
    return validate_document((app.config["BACKUP_DIR"] / name).read_bytes()).doc


def run_with_a_failing_restore(app, trigger=refusing_camera):
    """Create "Doomed", then run a check that leaves a camera behind and installs ``trigger``."""
    make_camera(name="Doomed")
    left = {}
    lines = []

    def breaks_the_restore(ctx):
        make_camera(name="Left by the checks")
        stack.enter_context(trigger("Doomed"))
        left["config"] = fingerprint(export_document())
        return "left a camera behind; re-inserting Doomed will fail"

    with contextlib.ExitStack() as stack:
        code, report, _results = run_guarded([("breaks_the_restore", breaks_the_restore)], echo=lines.append)
    return code, report, "\n".join(lines), left["config"]


def test_a_59_minute_old_automatic_backup_is_restored(app, config, clock):
    name = backup_at(app, clock() - 59 * MIN)
    before_files, before_status = files(app), status_bytes(app)

    code, report, out = run_with_a_failing_restore(app)[:3]
    assert code == Outcome.RESTORED_BY_FALLBACK == 3
    assert (
        "Restoring the snapshot from memory failed, so the configuration is as the checks left it: the database refused the restore (injected failure)"
        in out
    )
    assert f"Fallback: restored the automatic backup {name} (59 minutes old, within the 60-minute limit)." in out
    safety = report.fallback["safety_backup"]
    assert f"kept as the safety backup {safety}" in out
    assert fingerprint(export_document()) == fingerprint(doc_of(app, name))  # "Doomed" and the leftover are gone
    assert files(app) == sorted([*before_files, safety])  # the safety file holds what the run left
    assert status_bytes(app) == before_status
    assert paused_until(app.config["DATA_DIR"], clock()) is None


def test_exactly_60_minutes_still_qualifies(app, config, clock):
    backup_at(app, clock() - 60 * MIN)
    assert run_with_a_failing_restore(app)[0] == Outcome.RESTORED_BY_FALLBACK


def _auto(minutes):
    return lambda app, clock: backup_at(app, clock() + minutes * MIN)


REFUSED = {
    "61 minutes old": ([_auto(-61)], "61 minutes old", "is 61 minutes old"),
    "future-dated": ([_auto(10)], "10 minutes in the future", "a clock went wrong"),
    "only manual ones": (
        [lambda app, clock: backup_at(app, clock() - 5 * MIN, "manual")],
        "5 minutes old",
        "no valid automatic backup in the backup folder (only manual backups)",
    ),
    "an old automatic one behind a newer manual one": (
        [_auto(-90), lambda app, clock: backup_at(app, clock() - 2 * MIN, "manual")],
        "2 minutes old",
        "is 90 minutes old",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_the_fallback_is_refused_and_nothing_more_changes(app, config, clock, case):
    makers, age, why = REFUSED[case]
    names = [make(app, clock) for make in makers]
    newest = names[-1] if "behind" in case else names[0]
    before_files, before_status = files(app), status_bytes(app)

    code, report, out, left = run_with_a_failing_restore(app)
    assert code == Outcome.FALLBACK_REFUSED == 4
    assert "Restoring the snapshot from memory failed" in out
    assert "Fallback refused:" in out and why in out
    assert "Nothing more was changed. A manual restore is needed." in out
    assert f"The newest backup is {newest} (" in out and age in out
    assert f"    flask --app app backup restore {newest}" in out
    assert fingerprint(export_document()) == left  # what the checks left, exactly: no restore happened
    assert files(app) == before_files and status_bytes(app) == before_status
    assert paused_until(app.config["DATA_DIR"], clock()) is not None  # no backup of this configuration meanwhile
    assert "sanity resume" in out


def test_no_backup_at_all_is_refused_with_the_command_for_a_file_kept_elsewhere(app, config, clock):
    code, report, out, left = run_with_a_failing_restore(app)
    assert code == Outcome.FALLBACK_REFUSED
    assert "there is no backup at all in the backup folder" in out
    assert f"There is no valid backup in {app.config['BACKUP_DIR']}" in out
    assert "flask --app app backup restore /path/to/backup.json" in out
    assert files(app) == [] and fingerprint(export_document()) == left


def test_a_corrupt_newest_automatic_backup_is_skipped_for_a_valid_one(app, config, clock):
    valid = backup_at(app, clock() - 30 * MIN)
    damaged = backup_at(app, clock() - 10 * MIN)
    corrupt(app, damaged)

    code, report, out = run_with_a_failing_restore(app)[:3]
    assert code == Outcome.RESTORED_BY_FALLBACK
    assert f"Skipped {damaged}: it is not a valid backup (checksum does not match" in out
    assert f"restored the automatic backup {valid} (30 minutes old" in out
    assert fingerprint(export_document()) == fingerprint(doc_of(app, valid))


def test_a_backup_made_during_the_run_is_never_a_candidate(app, config, clock):
    old = backup_at(app, clock() - 2 * 60 * MIN)
    make_camera(name="Doomed")
    lines = []

    def backs_up_mid_run(ctx):
        backup_at(app, clock())  # an automatic file holding the run's half-done state
        stack.enter_context(refusing_camera("Doomed"))

    with contextlib.ExitStack() as stack:
        code, report, _ = run_guarded([("mid_run", backs_up_mid_run)], echo=lines.append)
    assert code == Outcome.FALLBACK_REFUSED
    assert f"the newest valid automatic backup, {old}, is 2 hours old" in report.refusal


@contextlib.contextmanager
def altering_camera(name):
    """A restore that succeeds but does not give back what it was given: the camera's location changes."""
    if type(db.obj).__name__.startswith("Postgres"):
        db.execute_sql(
            "CREATE FUNCTION sanity_alter() RETURNS trigger AS $$ BEGIN NEW.location := 'altered'; "
            "RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        db.execute_sql(
            f"CREATE TRIGGER sanity_alter BEFORE INSERT ON camera FOR EACH ROW WHEN (NEW.name = '{name}') "
            "EXECUTE FUNCTION sanity_alter()"
        )
        drop = ["DROP TRIGGER sanity_alter ON camera", "DROP FUNCTION sanity_alter()"]
    else:
        sql = (
            f"CREATE TRIGGER sanity_alter AFTER INSERT ON camera WHEN NEW.name = '{name}' "  # noqa: S608 - a test constant
            "BEGIN UPDATE camera SET location = 'altered' WHERE id = NEW.id; END"
        )
        db.execute_sql(sql)
        drop = ["DROP TRIGGER sanity_alter"]
    try:
        yield
    finally:
        for sql in drop:
            db.execute_sql(sql)


def test_a_restore_that_does_not_match_the_snapshot_falls_back(app, config, clock):
    name = backup_at(app, clock() - 15 * MIN)
    code, report, out = run_with_a_failing_restore(app, trigger=altering_camera)[:3]
    assert code == Outcome.RESTORED_BY_FALLBACK
    assert "After restoring the snapshot the configuration still differs in: cameras" in out
    assert report.fallback["name"] == name


def test_a_fallback_that_fails_too_is_reported_and_leaves_no_file(app, config, clock):
    make_camera(name="Doomed")
    name = backup_at(app, clock() - 20 * MIN)  # holds "Doomed" too, so it cannot be restored either
    before_files = files(app)
    lines = []

    def breaks(ctx):
        stack.enter_context(refusing_camera("Doomed"))

    with contextlib.ExitStack() as stack:
        code, report, _ = run_guarded([("breaks", breaks)], echo=lines.append)
    assert code == Outcome.FALLBACK_REFUSED
    assert report.refusal.startswith(f"restoring {name} (20 minutes old) failed too: the database refused")
    assert files(app) == before_files  # the safety file written before the failed restore was removed


def test_the_trace_helper_sees_a_real_difference(app, config):
    before = trace(app)
    make_camera(name="New")
    assert trace(app) != before


def test_a_fallback_that_does_not_match_its_backup_says_so(app, config, clock):
    make_camera(name="Doomed")
    name = backup_at(app, clock() - 5 * MIN)  # holds "Doomed", which the trigger alters on every insert
    lines = []

    def alters(ctx):
        stack.enter_context(altering_camera("Doomed"))

    with contextlib.ExitStack() as stack:
        code, report, _ = run_guarded([("alters", alters)], echo=lines.append)
    out = "\n".join(lines)
    assert code == Outcome.FALLBACK_REFUSED
    assert f"Fallback refused: after restoring {name} the configuration differs from it in cameras" in out
    assert "A manual restore is needed." in out and "Nothing more was changed" not in out

"""The zero-trace guard (SPEC §11): run intrusive checks, then put the configuration back exactly.

``with ZeroTraceGuard(target) as guard: run_checks()`` pauses automatic backups, snapshots the whole
configuration in memory (the export document; no file is written), runs the block, and then, whatever
happened in it (an exception, Ctrl-C), restores the snapshot in ``replace`` mode with no safety file in
one transaction and compares the result with the snapshot section by section, usage stamps aside. When that
restore fails or the result differs, it falls back to the newest valid automatic backup that existed
before the run, but only if that backup is at most 60 minutes old by the time written in it; otherwise it
changes nothing more and says what to restore by hand. No Flask here: the *target* (``LocalTarget`` for
this process's database, ``vibenvr.sanity.remote.HttpTarget`` for a server) does the work.
"""

import contextlib
import signal
import threading

from ..backups.automation.pause import PauseBusy
from ..backups.document.canonical import SECTIONS
from ..timeutil import how_long, iso, utcnow
from .fallback import FALLBACK_LIMIT, choose_fallback
from .guard_report import NOT_STARTED, GuardReport, Outcome, Terminated, describe

__all__ = [
    "NOT_STARTED",
    "GuardNotStarted",
    "GuardReport",
    "Outcome",
    "ZeroTraceGuard",
    "describe",
    "differing_sections",
    "comparable",
]


#: Usage stamps: moved by merely using the system (the run's own API token), so never compared.
USAGE_STAMPS = {"api_tokens": ("last_used_at",), "trusted_devices": ("last_used",)}


class GuardNotStarted(RuntimeError):
    """The guard could not pause automatic backups or take its snapshot; the checks did not run."""


def comparable(doc):
    """The sections of a backup document with the usage stamps blanked out."""
    sections = {section: doc.get(section) for section in SECTIONS}
    for section, keys in USAGE_STAMPS.items():
        sections[section] = [{**item, **dict.fromkeys(keys)} for item in sections[section] or ()]
    return sections


def differing_sections(expected, actual):
    """The sections in which two documents differ, usage stamps aside."""
    left, right = comparable(expected), comparable(actual)
    return [section for section in SECTIONS if left[section] != right[section]]


class ZeroTraceGuard:
    """A context manager that runs its block inside a snapshot and always restores it (see the module)."""

    def __init__(self, target, clock=utcnow, limit=FALLBACK_LIMIT, pause_minutes=60, by="sanity run"):
        self.target = target
        self.clock = clock
        self.limit = limit
        self.pause_minutes = pause_minutes
        self.by = by
        self.report = GuardReport(limit_minutes=int(limit.total_seconds() // 60))
        self.snapshot = None
        self.before_files = []
        self.before_status = None
        self._previous_term = None

    # --- entering ----------------------------------------------------------------------------------

    def __enter__(self):
        try:
            self.target.pause(self.pause_minutes, self.by)  # waits for a backup in progress to finish
        except PauseBusy as exc:
            raise GuardNotStarted(str(exc)) from exc
        except Exception as exc:
            raise GuardNotStarted(f"could not pause automatic backups: {describe(exc)}") from exc
        try:
            self.before_files = list(self.target.list_backups())
            self.before_status = self.target.status()
            self.snapshot = self.target.export()
        except BaseException as exc:
            self._resume()
            raise GuardNotStarted(f"could not take the snapshot: {describe(exc)}") from exc
        self._previous_term = _on_main_thread(signal.SIGTERM, _terminate)
        return self

    # --- leaving -----------------------------------------------------------------------------------

    def __exit__(self, exc_type, exc, tb):
        with _signals_held() as held:  # first: from here on, a signal cannot stop the restore
            if exc is not None:
                self.report.error = describe(exc)
            if self._restore_snapshot():
                self._finish_clean()
            else:
                self._fall_back()
        if self._previous_term is not None:
            signal.signal(signal.SIGTERM, self._previous_term)
        if held:
            self.report.notes.append("Ctrl-C (or SIGTERM) during the restore was held back until it had finished.")
        return isinstance(exc, Exception | KeyboardInterrupt)  # recorded in the report, not raised

    def _restore_snapshot(self):
        """Restore the snapshot and read it back; True when the configuration equals it again."""
        try:
            self.target.restore(self.snapshot)
        except Exception as exc:
            self.report.restore_error = describe(exc)
            return False
        try:
            self.report.mismatch = differing_sections(self.snapshot, self.target.export())
        except Exception as exc:
            self.report.restore_error = f"the restored configuration could not be read back ({describe(exc)})"
            return False
        return not self.report.mismatch

    def _finish_clean(self):
        report = self.report
        self._sweep(keep=())
        now_names = self._names()
        before = {e.name for e in self.before_files}
        report.traces += [f"the backup {name}, there before the run, is gone" for name in sorted(before - now_names)]
        try:
            status = self.target.status()
        except Exception as exc:
            report.traces.append(f"the backup status could not be read again ({describe(exc)})")
        else:
            if status != self.before_status:
                report.traces.append(f"the backup status changed: before {self.before_status}, after {status}")
        self._resume()
        report.outcome = Outcome.CHECKS_FAILED if report.error or report.traces else Outcome.CLEAN
        if report.outcome == Outcome.CLEAN:
            where = getattr(self.target, "where", "the backup folder")
            report.notes.append(
                f"Zero trace: the configuration, the {len(before)} file(s) in {where} and the backup "
                "status are as they were before the run."
            )

    def _fall_back(self):
        report = self.report
        now = self.clock()
        choice = choose_fallback(self.before_files, self.target.read_backup, now, self.limit)
        report.notes += choice.skipped
        if choice.refusal:
            self._refuse(choice.refusal, choice, now)
            return
        entry, valid, age = choice.entry, choice.valid, choice.age
        try:
            safety = self.target.restore_backup(entry.name, valid)
        except Exception as exc:
            self._refuse(
                f"restoring {entry.name} ({how_long(age, exact=True)}) failed too: {describe(exc)}", choice, now
            )
            return
        try:
            differs = differing_sections(valid.doc, self.target.export())
        except Exception as exc:  # e.g. the run's own API token is not in that backup
            differs = None
            report.notes.append(f"The restored configuration could not be read back to verify it ({describe(exc)}).")
        if differs:
            report.fallback_applied = True
            self._refuse(
                f"after restoring {entry.name} the configuration differs from it in {', '.join(differs)}", choice, now
            )
            return
        report.outcome = Outcome.RESTORED_BY_FALLBACK
        report.fallback = {
            "name": entry.name,
            "age": how_long(age, exact=True),
            "created_at": iso(valid.created_at),
            "safety_backup": safety,
        }
        self._sweep(keep={safety})
        self._resume()

    def _refuse(self, reason, choice, now):
        self.report.outcome = Outcome.FALLBACK_REFUSED
        self.report.refusal = reason
        self.report.advice = self._advice(choice, now)

    def _advice(self, choice, now):
        """The manual-restore lines: the newest backup, its age, and the command that restores it."""
        lines = []
        newest = choice.newest_valid
        if newest is None:
            where = getattr(self.target, "where", "the backup folder")
            lines.append(f"There is no valid backup in {where}. Restore one you keep elsewhere with:")
            lines.append(f"    {self.target.restore_command('/path/to/backup.json')}")
        else:
            entry, valid = newest
            lines.append(
                f"The newest backup is {entry.name} ({entry.kind}, {how_long(now - valid.created_at, exact=True)}, "
                f"made {iso(valid.created_at)}). Check that it is the configuration you want, then restore it:"
            )
            lines.append(f"    {self.target.restore_command(entry.name)}")
        until = self._pause_until()
        if until:
            lines.append(
                f"Automatic backups stay paused until {iso(until)}, so none is taken of this configuration "
                "in the meantime; `flask --app app sanity resume` resumes them after your restore."
            )
        return lines

    # --- helpers -----------------------------------------------------------------------------------

    def _names(self):
        try:
            return {e.name for e in self.target.list_backups()}
        except Exception as exc:
            self.report.traces.append(f"the backup folder could not be listed again ({describe(exc)})")
            return {e.name for e in self.before_files}

    def _sweep(self, keep):
        """Delete the backup files made during the run (by the checks, or a backup the pause raced)."""
        before = {e.name for e in self.before_files}
        for name in sorted(self._names() - before - set(keep)):
            try:
                self.target.delete_backup(name)
            except Exception as exc:
                self.report.traces.append(f"the run left {name}, which could not be deleted ({describe(exc)})")
            else:
                self.report.swept.append(name)

    def _resume(self):
        try:
            self.target.resume()
        except Exception as exc:
            self.report.traces.append(
                f"automatic backups could not be resumed ({describe(exc)}); the pause ends by itself within the hour"
            )

    def _pause_until(self):
        getter = getattr(self.target, "paused_until", None)
        with contextlib.suppress(Exception):
            return getter() if getter else None
        return None


def _terminate(signum, frame):
    raise Terminated


def _on_main_thread(signum, handler):
    """Install ``handler`` for ``signum`` and return the previous one; None off the main thread (no signals there)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signum, handler)


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM back while the guard restores: the restore runs to its end, then we report."""
    caught = []
    previous = {
        signum: _on_main_thread(signum, lambda number, frame: caught.append(number))
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield caught
    finally:
        for signum, handler in previous.items():
            if handler is not None:
                signal.signal(signum, handler)

"""What the zero-trace guard reports: the outcome (the exit code) and the lines a person reads."""

from dataclasses import dataclass, field
from enum import IntEnum

from ..backups.automation.pause import PauseBusy
from ..backups.errors import (
    BackupError,
    BackupNotFound,
    BackupWriteError,
    InvalidBackupName,
    RestoreFailed,
    RestoreRefused,
)


class Outcome(IntEnum):
    """How a guarded run ended; the value is the exit code of ``sanity run`` and the HTTP script."""

    CLEAN = 0  # the checks passed and left no trace
    CHECKS_FAILED = 1  # the checks failed, were interrupted or left a trace; the snapshot was restored
    RESTORED_BY_FALLBACK = 3  # restoring the snapshot failed; a recent automatic backup was restored
    FALLBACK_REFUSED = 4  # restoring the snapshot failed and no backup qualified: restore by hand


NOT_STARTED = 5  # exit code when the guard could not start: nothing ran, nothing changed

#: Errors whose message already says what went wrong; others are shown with their type.
READABLE = (BackupError, BackupNotFound, BackupWriteError, InvalidBackupName, RestoreFailed, RestoreRefused, PauseBusy)


class Terminated(KeyboardInterrupt):
    """SIGTERM (``docker stop``, systemd) during the checks: handled like Ctrl-C, so the guard restores first."""


def describe(exc):
    """One line for an exception: its message, or its type when it has none."""
    if isinstance(exc, Terminated):
        return "stopped (SIGTERM)"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    message = getattr(exc, "summary", None) if isinstance(exc, BackupError) else None
    message = message or (str(exc).strip().splitlines() or [""])[0]
    if isinstance(exc, READABLE):
        return message or type(exc).__name__
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


@dataclass
class GuardReport:
    """What the guard did, for people (``lines``) and programs (``outcome``)."""

    outcome: Outcome = Outcome.CLEAN
    error: str | None = None  # what the checks raised
    restore_error: str | None = None  # why restoring the snapshot failed
    mismatch: list = field(default_factory=list)  # sections that differed after the restore
    fallback: dict | None = None  # {"name", "age", "safety_backup"} when the fallback restored a backup
    refusal: str | None = None  # why the fallback did not happen
    advice: list = field(default_factory=list)  # what to do by hand
    swept: list = field(default_factory=list)  # backup files the run left, deleted by the guard
    traces: list = field(default_factory=list)  # what still differs from before the run
    notes: list = field(default_factory=list)
    limit_minutes: int = 60
    fallback_applied: bool = False  # a fallback restore went through but did not match its backup

    def lines(self):
        out = [f"Outcome: {self.outcome.name.lower().replace('_', ' ')} (exit code {int(self.outcome)})"]
        if self.error:
            out.append(f"The checks failed: {self.error}")
        if self.restore_error:
            out.append(
                f"Restoring the snapshot from memory failed, so the configuration is as the checks left it: "
                f"{self.restore_error}"
            )
        elif self.mismatch:
            out.append("After restoring the snapshot the configuration still differs in: " + ", ".join(self.mismatch))
        elif self.outcome in (Outcome.CLEAN, Outcome.CHECKS_FAILED):
            out.append("The configuration was restored from the in-memory snapshot and verified by checksum.")
        if self.fallback:
            safety = self.fallback.get("safety_backup")
            out.append(
                f"Fallback: restored the automatic backup {self.fallback['name']} "
                f"({self.fallback['age']}, within the {self.limit_minutes}-minute limit)."
            )
            if safety:
                out.append(f"The configuration the run left behind was kept as the safety backup {safety}.")
        if self.refusal:
            out.append(f"Fallback refused: {self.refusal}")
            out.append(
                "A manual restore is needed."
                if self.fallback_applied
                else "Nothing more was changed. A manual restore is needed."
            )
        out.extend(self.advice)
        if self.swept:
            out.append("Deleted backup files the run left behind: " + ", ".join(self.swept))
        out.extend(f"Trace left: {trace}" for trace in self.traces)
        out.extend(self.notes)
        return out

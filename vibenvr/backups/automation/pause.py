"""Pausing automatic backups while a zero-trace sanity run is in progress (SPEC §11).

The pause is a small file, ``<data>/autobackup.pause``, so every process on the data folder sees it:
the scheduler in whichever gunicorn worker holds the lock, the terminal and the HTTP API alike. It
carries its own end time, so a run that dies without cleaning up pauses backups for a bounded time.
No Flask here.
"""

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from ...fsutil import atomic_write
from ...timeutil import iso, parse_iso
from ..locking import backup_lock

PAUSE_NAME = "autobackup.pause"
DEFAULT_MINUTES = 60
MAX_MINUTES = 120  # a pause file claiming more (a clock that moved back) is ignored


class PauseBusy(RuntimeError):
    """Automatic backups are already paused, by another sanity run (HTTP 409)."""

    status = 409


@dataclass(frozen=True)
class Pause:
    until: dt.datetime
    since: dt.datetime
    by: str

    def to_dict(self):
        return {"paused_until": iso(self.until), "since": iso(self.since), "by": self.by}


def pause_path(data_dir):
    return Path(data_dir) / PAUSE_NAME


def current_pause(data_dir, now):
    """The pause in force at ``now``, or None (no file, unreadable, ended, or implausibly long)."""
    try:
        data = json.loads(pause_path(data_dir).read_text(encoding="utf-8"))
        pause = Pause(parse_iso(data["until"]), parse_iso(data["since"]), str(data.get("by") or "?"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pause.until <= now or pause.until - now > dt.timedelta(minutes=MAX_MINUTES):
        return None
    return pause


def paused_until(data_dir, now):
    """When automatic backups resume, or None when they are not paused."""
    pause = current_pause(data_dir, now)
    return pause.until if pause else None


def start_pause(data_dir, now, by, minutes=DEFAULT_MINUTES):
    """Pause automatic backups until ``now + minutes``; PauseBusy when a pause is already in force."""
    if not 1 <= minutes <= MAX_MINUTES:
        raise ValueError(f"a pause lasts 1 to {MAX_MINUTES} minutes, not {minutes}")
    with backup_lock(data_dir):  # two runs starting at once: one wins, the other is told
        active = current_pause(data_dir, now)
        if active is not None:
            raise PauseBusy(
                f"automatic backups are already paused until {iso(active.until)} by {active.by} (since "
                f"{iso(active.since)}): another sanity run is in progress. Wait for it to finish; if none "
                "is running, end the pause with `flask --app app sanity resume`"
            )
        pause = Pause(now + dt.timedelta(minutes=minutes), now, by)
        atomic_write(pause_path(data_dir), json.dumps({"until": iso(pause.until), "since": iso(now), "by": by}))
    return pause


def end_pause(data_dir):
    """Resume automatic backups; True when a pause file was removed."""
    try:
        pause_path(data_dir).unlink()
    except FileNotFoundError:
        return False
    return True

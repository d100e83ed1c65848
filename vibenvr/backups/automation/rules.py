"""The rules of automatic backups (SPEC §7), without the thread: plan the next run, run it when due,
record the outcome in the status file.

Every decision reads the injected clock, so each rule is tested by moving a clock instead of waiting.
``tick`` is the one entry point; the scheduler thread calls it inside an app context.
"""

import datetime as dt
import logging

from peewee import PeeweeException

from ... import dbhealth
from ...db import db
from ...settings.service import clear_cache, get_settings
from ...timeutil import iso, utcnow
from .. import service
from ..errors import BackupError
from .pause import paused_until
from .status import read_status, record

log = logging.getLogger("vibenvr.backups.scheduler")

#: The settings that change when automatic backups run.
SCHEDULE_KEYS = frozenset({"backup_auto_enabled", "backup_auto_frequency_hours"})
#: Every setting the status shows; a change to any of them wakes the scheduler.
WATCHED_KEYS = SCHEDULE_KEYS | {"backup_auto_retention"}


def newest_valid_auto(store):
    """``(name, created_at)`` of the newest automatic backup whose content validates, or None.

    Files are tried newest first by the time in their name; a damaged one is logged and skipped.
    """
    try:
        entries = store.list()
    except OSError as exc:
        log.warning(
            "the backup folder %s cannot be read (%s); no automatic backup counts", store.folder, failure_reason(exc)
        )
        return None
    for entry in entries:
        if not entry.is_automatic:
            continue
        try:
            valid = store.open(entry.name)
        except (BackupError, OSError, LookupError, ValueError) as exc:
            log.warning(
                "automatic backup %s does not count: it is not a valid backup (%s)",
                entry.name,
                getattr(exc, "summary", exc),
            )
            continue
        return entry.name, valid.created_at
    return None


def failure_reason(exc):
    """One line a person can act on, for the log and the System Backups page."""
    if isinstance(exc, BackupError):
        return exc.summary
    if isinstance(exc, PeeweeException):
        return f"database error: {exc}"
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.strerror}: {exc.filename}"
    return str(exc) or type(exc).__name__


class AutoBackups:
    """Plans and runs automatic backups for one app; holds the status the scheduler owns."""

    def __init__(self, app, clock=None, store=None, create_backup=None):
        self.app = app
        self.clock = clock or app.config.get("CLOCK") or utcnow
        self._store = store or service.get_store
        self._create_backup = create_backup or service.create_backup
        self.data_dir = app.config["DATA_DIR"]
        self.settings = None  # (enabled, frequency hours) the current plan was made for
        self.next_run = None
        self.last_attempt = None  # start of the last run in this process, successful or not
        self.replan = True  # plan from the files at the next tick (boot, a signal, a takeover)
        self.state = read_status(self.data_dir)  # the outcomes this process knows; next_run: see status()
        self._written = dict(self.state)
        self._last_error = None
        self._last_tick_error = None
        self._paused = None  # until when a sanity run pauses us (SPEC §11)

    # --- the entry point ---------------------------------------------------------------------------

    def tick(self):
        """Re-read the settings, plan again if they changed, back up when due. Never raises.

        Runs inside an app context with its own database connection, whichever thread calls it. A damaged
        database is not opened at all (SPEC §12): no backup, no status change, until it is restored.
        """
        if not dbhealth.usable(self.app):
            return
        try:
            with self.app.app_context(), db.connection_context():
                self._tick()
            self._last_tick_error = None
        except Exception as exc:
            reason = failure_reason(exc)
            if reason != self._last_tick_error:  # a database that stays down is logged once, not every minute
                log.exception("automatic backups: the check failed: %s", reason)
            self._last_tick_error = reason
            if self.due():  # a run was due and could not even start: it counts as a failed run
                self._failed(self.clock(), exc)
        self._save_state()

    def _tick(self):
        clear_cache()
        if self._held_by_pause():
            return
        values = get_settings()
        replan, self.replan = self.replan, False
        settings = (values["backup_auto_enabled"], values["backup_auto_frequency_hours"])
        if replan or settings != self.settings:
            try:
                self._plan(settings, startup=self.settings is None)
            except Exception:
                self.replan = True  # plan again at the next tick
                raise
            self.settings = settings
        if self.due():
            self._run()

    def _held_by_pause(self):
        """While a zero-trace sanity run pauses us: no plan, no backup, no status change. The run puts back
        what it changed, so the replans its changes asked for are dropped; a real change of the settings
        is still seen afterwards, by comparing them with the plan's."""
        until = paused_until(self.data_dir, self.clock())
        if until is not None:
            if self._paused != until:
                log.info("automatic backups paused until %s: a sanity run is in progress", iso(until))
            self._paused, self.replan = until, False
            return True
        if self._paused is not None:
            log.info("automatic backups resumed after the pause")
            self._paused, self.replan = None, False
        return False

    def due(self):
        return self.next_run is not None and self.clock() >= self.next_run

    def seconds_until_due(self):
        """Seconds until the next run (0 when due), or None when no run is planned."""
        if self.next_run is None:
            return None
        return max((self.next_run - self.clock()).total_seconds(), 0.0)

    # --- planning ----------------------------------------------------------------------------------

    def _plan(self, settings, startup=False):
        enabled, hours = settings
        if not enabled:
            if self.next_run is not None or startup:
                log.info("automatic backups are off (backup_auto_enabled is false)")
            self.next_run = None
            return
        interval = dt.timedelta(hours=hours)
        now = self.clock()
        anchor = self._last_valid_backup(now, interval, startup)
        if self.last_attempt and (anchor is None or self.last_attempt > anchor):
            anchor = self.last_attempt  # a failed run is retried one interval later, not at once
        self.next_run = max(anchor + interval, now) if anchor else now
        if not startup:  # at startup, the protection message says when
            when = "one is due now" if self.next_run <= now else f"next at {iso(self.next_run)}"
            log.info("automatic backups every %d h; %s", hours, when)

    def _last_valid_backup(self, now, interval, startup):
        """The time the interval counts from: the newest valid automatic backup, unless it is in the future."""
        found = newest_valid_auto(self._store())
        if found is None:
            if startup:
                log.info("startup protection: no valid automatic backup yet; taking one now")
            return None
        name, created = found
        if created > now:
            log.warning(
                "%s: the newest valid automatic backup %s is dated %s, in the future (now %s; has the "
                "system clock changed?). A future time does not count as recent%s",
                "startup protection" if startup else "rescheduling",
                name,
                iso(created),
                iso(now),
                "; taking a backup now" if startup else "",
            )
            return None
        if now - created < interval:
            if startup:
                log.info(
                    "startup protection: %s (%s) is younger than the %s interval; no startup backup, next at %s",
                    name,
                    iso(created),
                    _hours(interval),
                    iso(created + interval),
                )
        elif startup:
            log.info(
                "startup protection: the newest valid automatic backup %s (%s) is older than the %s interval; "
                "taking a backup now",
                name,
                iso(created),
                _hours(interval),
            )
        return created

    # --- running -----------------------------------------------------------------------------------

    def _run(self):
        started = self.clock()
        self.last_attempt = started
        self.next_run = started + dt.timedelta(hours=self.settings[1])
        try:
            entry = self._create_backup("auto")
        except Exception as exc:
            self._failed(started, exc)
            return
        self.state["last_success"] = {"name": entry.name, "at": iso(entry.created_at)}
        log.info("automatic backup %s written; next at %s", entry.name, iso(self.next_run))

    def _failed(self, started, exc):
        reason = failure_reason(exc)
        if self.next_run is None or self.next_run <= started:
            hours = self.settings[1] if self.settings else 1
            self.next_run = started + dt.timedelta(hours=hours)
        self.state["last_failure"] = {"at": iso(started), "reason": reason}
        log.error(
            "automatic backup failed: %s; next attempt at %s",
            reason,
            iso(self.next_run),
            exc_info=not isinstance(exc, BackupError | OSError | PeeweeException),
        )

    # --- status ------------------------------------------------------------------------------------

    def status(self):
        """The status file's fields: the outcomes recorded and, once this process has planned, its ``next_run``
        (until then the file's own, so a tick that plans nothing changes nothing)."""
        if self.settings is None:  # no plan made yet
            return dict(self.state)
        return {**self.state, "next_run": iso(self.next_run)}

    def _save_state(self):
        """Write the status file when it changed (a zero-trace run must find it byte for byte as before)."""
        status = self.status()
        if status == self._written:
            return
        try:
            record(self.data_dir, **status)
        except OSError as exc:
            message = failure_reason(exc)
            if message != self._last_error:
                log.error("could not write the backup status file in %s: %s", self.data_dir, message)
            self._last_error = message
            return
        self._written = status
        self._last_error = None


def _hours(interval):
    return f"{int(interval.total_seconds() // 3600)} h"

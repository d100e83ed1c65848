"""The automatic-backup scheduler (SPEC §7): a dedicated ``schedule.Scheduler`` in a daemon thread.

One scheduler per data folder: the process holding ``<data>/scheduler.lock`` (a non-blocking fcntl
lock) runs the job; the others retry every 30 seconds, so when the holder dies another process takes
over within a minute. The job runs once a minute, and at once when the settings or the whole
configuration changed: a signal in this process, or the change mark (``changes.py``) that every process,
terminal commands included, bumps and the holder reads every second. ``AutoBackups.tick`` decides
whether a backup is due.

Over 300 lines: the thread, its folder lock and the rules of which process starts it are one mechanism,
read together; the lock leaves once it shares ``backups/locking.py`` (issue 12 item 6).
"""

import atexit
import datetime as dt
import logging
import os
import threading
import time
import weakref
from pathlib import Path

import click
import schedule
from flask import current_app, has_app_context
from flask.cli import get_debug_flag
from werkzeug.serving import is_running_from_reloader

from ... import dbhealth
from ...db import db
from ...signals import config_restored, settings_changed
from ..locking import FolderLock, backup_lock
from ..service import copy_locations
from ..store import BackupStore
from .changes import bump, read_mark
from .rules import WATCHED_KEYS, AutoBackups

log = logging.getLogger("vibenvr.backups.scheduler")

LOCK_NAME = "scheduler.lock"
TICK_SECONDS = 60  # the holder re-reads the settings at least this often (a change written straight in SQL)
CHECK_SECONDS = 1  # the holder reads the change mark this often
RETRY_SECONDS = 30  # a process without the lock tries again this often
STOP_TIMEOUT = 30  # how long shutdown waits for a backup in progress


class BackupScheduler:
    """The thread that runs automatic backups for one app while this process holds the folder lock."""

    def __init__(self, app, clock=None, tick_seconds=None, retry_seconds=None, check_seconds=None, **rule_options):
        self.app = app
        self.clock = clock
        self.rule_options = rule_options  # extra AutoBackups arguments (tests inject a store or a backup function)
        self.tick_seconds = tick_seconds or app.config.get("SCHEDULER_TICK_SECONDS", TICK_SECONDS)
        self.retry_seconds = retry_seconds or app.config.get("SCHEDULER_RETRY_SECONDS", RETRY_SECONDS)
        self.check_seconds = check_seconds or app.config.get("SCHEDULER_CHECK_SECONDS", CHECK_SECONDS)
        self.data_dir = app.config["DATA_DIR"]
        self._mark = None  # the change mark last seen
        self.lock = FolderLock(Path(app.config["DATA_DIR"]) / LOCK_NAME)
        self.scheduler = schedule.Scheduler()  # our own, never the module-global one
        self.rules = None  # AutoBackups, made each time this process takes the lock
        self.thread = None
        self.leading = threading.Event()
        self.attempted = threading.Event()  # set once this process has tried the lock
        self._job = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._ticked = threading.Condition()
        self.ticks = 0
        self._last_notice = None

    # --- life cycle --------------------------------------------------------------------------------

    def start(self):
        settings_changed.connect(self._on_settings_changed)
        config_restored.connect(self._on_config_restored)
        self.thread = threading.Thread(target=self._main, name="vibenvr-backup-scheduler", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout=STOP_TIMEOUT):
        """Ask the thread to finish (after a backup in progress), wait for it, release the lock."""
        self._stop.set()
        self._wake.set()
        settings_changed.disconnect(self._on_settings_changed)
        config_restored.disconnect(self._on_config_restored)
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout)
            if self.thread.is_alive():
                log.warning("the backup scheduler did not stop within %s s; leaving it to the process exit", timeout)
                return
        self.scheduler.clear()
        self.lock.release()
        self.leading.clear()

    @property
    def running(self):
        return self.thread is not None and self.thread.is_alive()

    def wake(self):
        """Check now instead of at the next minute (a non-holder retries the lock at once)."""
        self._wake.set()

    def wait_for_ticks(self, count, timeout=10):
        """Block until ``count`` ticks have run in total; False on timeout (for tests and tools)."""
        with self._ticked:
            return self._ticked.wait_for(lambda: self.ticks >= count, timeout)

    # --- the thread --------------------------------------------------------------------------------

    def _main(self):
        log.info("backup scheduler started in process %d for %s", os.getpid(), self.app.config["DATA_DIR"])
        while not self._stop.is_set():
            try:
                if not self.leading.is_set():
                    lead = self._lead()
                    self.attempted.set()
                    if not lead:
                        self._wait(self.retry_seconds)
                        continue
                woken = self._wait(self._idle_seconds())
                if self._stop.is_set():
                    break
                if woken:
                    self.scheduler.run_all()
                else:
                    self.scheduler.run_pending()
                self._align()
            except Exception:  # the thread must outlive any surprise; AutoBackups records job failures
                log.exception("backup scheduler: unexpected error; carrying on")
                self._stop.wait(self.retry_seconds)
        log.info("backup scheduler stopped in process %d", os.getpid())

    def _lead(self):
        """Take the folder lock if it is free; on success plan from the files (startup protection)."""
        try:
            acquired = self.lock.acquire()
        except OSError as exc:  # an unwritable data folder: say so once, keep trying
            self._notice(
                str(exc),
                logging.ERROR,
                "automatic backups cannot start: the lock %s cannot be opened (%s); retrying every %s s",
                self.lock.path,
                exc,
                self.retry_seconds,
            )
            return False
        if not acquired:
            self._notice(
                "waiting",
                logging.INFO,
                "automatic backups run in process %s (it holds %s); this process takes over if it stops",
                self.lock.holder_pid() or "?",
                self.lock.path,
            )
            return False
        log.info("process %d runs the automatic backups of %s", os.getpid(), self.app.config["DATA_DIR"])
        self._mark = read_mark(self.data_dir)  # the boot tick reads the settings as they are now
        sweep_temporaries(self.app)
        self.rules = AutoBackups(self.app, clock=self.clock, **self.rule_options)
        self.scheduler.clear()
        self._job = self.scheduler.every(self.tick_seconds).seconds.do(self._tick)
        self.leading.set()
        self._tick()
        self._align()
        return True

    def _notice(self, key, level, message, *args):
        """Log a waiting or error message once, not at every retry."""
        if self._last_notice != key:
            log.log(level, message, *args)
            self._last_notice = key

    def _tick(self):
        self.rules.tick()
        self._copy()
        with self._ticked:
            self.ticks += 1
            self._ticked.notify_all()

    def _copy(self):
        """Send the due copies to the backup locations (SPEC §14), after any backup this tick made."""
        if not dbhealth.usable(self.app):
            return
        try:
            with self.app.app_context(), db.connection_context():
                copy_locations(self.clock() if self.clock else None)
        except Exception:  # a location's failure is recorded per copy; this is anything else
            log.exception("backup locations: sending the copies failed; retrying at the next tick")

    def _wait(self, seconds):
        """Sleep until ``seconds`` pass, a signal wakes us, we are stopped, or (while we hold the lock)
        another process marks a change, seen within ``check_seconds``; True when woken."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = max(deadline - time.monotonic(), 0)
            watching = self.leading.is_set()
            step = min(remaining, self.check_seconds) if watching else remaining
            if self._wake.wait(step):
                self._wake.clear()
                return True
            if watching and self._marked():
                if self.rules is not None:
                    self.rules.replan = True  # as the signals ask in the process that made the change
                return True
            if step >= remaining:
                return False

    def _marked(self):
        """Whether the change mark differs from the one last seen (one small read)."""
        mark = read_mark(self.data_dir)
        if mark == self._mark:
            return False
        self._mark = mark
        return True

    def _idle_seconds(self):
        idle = self.scheduler.idle_seconds
        return self.tick_seconds if idle is None else min(max(idle, 0), self.tick_seconds)

    def _align(self):
        """Bring the next tick forward to the moment a backup is due, so it runs on time, not up to a minute late."""
        due = self.rules.seconds_until_due() if self.rules else None
        now = dt.datetime.now()
        if due is not None and self._job.next_run and now + dt.timedelta(seconds=due) < self._job.next_run:
            self._job.next_run = now + dt.timedelta(seconds=max(due, 1))

    # --- signals -----------------------------------------------------------------------------------

    def _on_settings_changed(self, sender, keys=(), **extra):
        if WATCHED_KEYS & set(keys or ()):
            self._replan()

    def _on_config_restored(self, sender, **extra):
        self._replan()

    def _replan(self):
        if self.rules is not None:
            self.rules.replan = True
        self._mark = read_mark(self.data_dir)  # this process's own mark (bumped first) needs no second pass
        self._wake.set()


def sweep_temporaries(app):
    """Start-up (the scheduler-lock holder's first step): remove the temporary files crashed writes left.

    Every write of the app holds the backup lock from its temporary's creation to its removal, so once
    this holds the lock too, no temporary belongs to a write in progress, however young. Returns the names.
    """
    store = BackupStore(app.config["BACKUP_DIR"])
    try:
        with backup_lock(app.config["DATA_DIR"]):
            removed = store.cleanup_temp(older_than=None)
    except OSError as exc:  # an unreadable folder: the backup itself will say why
        log.warning("could not sweep temporary files in %s: %s", store.folder, exc)
        return []
    if removed:
        log.info(
            "removed %d temporary file(s) left in %s by an interrupted backup: %s",
            len(removed),
            store.folder,
            ", ".join(removed),
        )
    return removed


def should_start(app):
    """Whether this process runs a scheduler: enabled, not under tests (unless a test asks), serving."""
    if not app.config.get("SCHEDULER_ENABLED"):
        return False
    if app.config.get("TESTING"):
        return bool(app.config.get("SCHEDULER_IN_TESTS"))
    return is_serving_process()


def is_serving_process():
    """False for terminal commands (``flask backup …``, ``flask shell``) and the reloader's watcher process.

    gunicorn and other WSGI servers load the app outside the Flask command line: they serve. Under
    ``flask run`` with the reloader, only the child (``WERKZEUG_RUN_MAIN``) serves.
    """
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        return True
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.command.name != "run":
        return False
    reload = ctx.params.get("reload")
    if reload is None:
        reload = get_debug_flag()
    return not reload or is_running_from_reloader()


def init_app(app):
    """Mark changes for the scheduler in every process; start the scheduler when this process should run
    one; stop it cleanly at exit."""
    settings_changed.connect(_mark_settings_changed)  # once: connecting the same function again is a no-op
    config_restored.connect(_mark_config_restored)
    app.extensions["backup_scheduler"] = None
    if not should_start(app):
        return None
    scheduler = BackupScheduler(app).start()
    app.extensions["backup_scheduler"] = scheduler
    atexit.register(_stop_at_exit, weakref.ref(scheduler))
    return scheduler


def _mark_settings_changed(sender, keys=(), **extra):
    if WATCHED_KEYS & set(keys or ()) and has_app_context():
        _mark(current_app.config["DATA_DIR"])


def _mark_config_restored(sender, **extra):
    config = getattr(sender, "config", None) or (current_app.config if has_app_context() else None)
    if config is not None:
        _mark(config["DATA_DIR"])


def _mark(data_dir):
    """Tell the scheduler of this data folder, in whichever process it runs; a failure only delays it."""
    try:
        bump(data_dir)
    except OSError as exc:
        log.warning(
            "could not write the change mark in %s (%s); the scheduler sees the change within a minute instead",
            data_dir,
            exc.strerror or exc,
        )


def _stop_at_exit(ref):
    scheduler = ref()
    if scheduler is not None and scheduler.running:
        scheduler.stop()

"""Is the configuration database usable? (SPEC §12 "Failures of the machine")

At start the app checks its database: SQLite with ``PRAGMA quick_check`` (about 12 ms on the benchmark's
4.7 MB database, 75 ms with a cold page cache), PostgreSQL by connecting. A damaged or unreadable database
does not stop the app: every page answers 503 naming the command that rebuilds it, and ``backup restore
FILE --yes`` moves a damaged SQLite file aside and restores into a fresh one (``backups/rebuild.py``). A
process answering 503 checks again every few seconds, so it serves again once the database is restored.
"""

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from peewee import PeeweeException, SqliteDatabase

from .backups.errors import BackupError
from .backups.keys import server_identities
from .backups.store import BackupStore

log = logging.getLogger(__name__)

RECHECK_SECONDS = 2  # how often a process answering 503 looks at the database again
DOCKER_SERVICE = "vibenvr-config"  # the service name in docker-compose.yml
DAMAGE_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
TRANSIENT_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED: another process is writing, nothing is wrong


@dataclass(frozen=True)
class Problem:
    """What is wrong with the database: ``damaged`` (SQLite says so) or ``unreadable`` (cannot be opened)."""

    kind: str
    reason: str
    path: Path | None = None  # the SQLite file; None for PostgreSQL

    @property
    def damaged(self):
        return self.kind == "damaged"

    def headline(self):
        if self.path is None:
            return f"the PostgreSQL database cannot be read ({self.reason})"
        if self.damaged:
            return f"the database {self.path} is damaged (SQLite reports: {self.reason})"
        return f"the database {self.path} cannot be opened ({self.reason})"


def _sqlite_problem(exc, path):
    code = getattr(exc, "sqlite_errorcode", None)
    code = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if code in DAMAGE_CODES or "malformed" in text or "not a database" in text:
        return Problem("damaged", text, path)
    if code in TRANSIENT_CODES or "locked" in text:
        return None
    return Problem("unreadable", text, path)


def problem_from(exc, database):
    """The Problem an exception of ``database`` shows, or None when it says nothing about the database's health."""
    orig = getattr(exc, "orig", exc)
    if isinstance(database, SqliteDatabase):
        if isinstance(orig, sqlite3.DatabaseError) and not isinstance(orig, sqlite3.IntegrityError):
            return _sqlite_problem(orig, sqlite_path(database))
        return None
    if "OperationalError" in (type(orig).__name__, type(exc).__name__):  # psycopg2: no server, no connection
        lines = str(orig).strip().splitlines()
        return Problem("unreadable", lines[0] if lines else type(orig).__name__)
    return None


def sqlite_path(database):
    """The file of a SQLite database, or None (PostgreSQL, ``:memory:``)."""
    if not isinstance(database, SqliteDatabase) or database.database in ("", ":memory:"):
        return None
    return Path(database.database)


def check(database):
    """None when ``database`` can be read; otherwise the Problem. Opens its own short connection."""
    path = sqlite_path(database)
    if path is not None:
        try:
            # Read-only: never creates a missing file, and never tidies away the -wal of a damaged one (a
            # writable connection deletes one it cannot use when it closes); the restore keeps it.
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
            try:
                rows = connection.execute("PRAGMA quick_check").fetchall()
            finally:
                connection.close()
        except sqlite3.Error as exc:
            return _sqlite_problem(exc, path)
        if rows != [("ok",)]:
            found = [str(row[0]) for row in rows if not str(row[0]).startswith("***")]
            return Problem("damaged", "; ".join(found[:2]) or "PRAGMA quick_check failed", path)
        return None
    if isinstance(database, SqliteDatabase):
        return None
    probe = type(database)(database.database, **database.connect_params)  # not the caller's connection
    try:
        probe.connect()
        probe.execute_sql("SELECT 1")
    except PeeweeException as exc:
        return problem_from(exc, database) or Problem("unreadable", str(exc))
    finally:
        if not probe.is_closed():
            probe.close()
    return None


_newest = {}  # (folder, its listing) -> the newest valid backup's name


def newest_valid_backup(folder, keys=list):
    """The name of the newest backup in ``folder`` that validates (encrypted ones opened with ``keys()``),
    or None; cached until the folder changes."""
    store = BackupStore(folder, keys=keys)
    try:
        entries = store.list()
    except OSError:
        return None
    key = (str(folder), tuple((e.name, e.size_bytes, e.modified_ns) for e in entries))
    if key not in _newest:
        found = None
        for entry in entries:
            try:
                store.open(entry.name)
            except (BackupError, OSError, LookupError, ValueError):
                continue
            found = entry.name
            break
        _newest.clear()
        _newest[key] = found
    return _newest[key]


def restore_commands(backup_name):
    """The terminal command that rebuilds the database, on the machine and in Docker Compose."""
    command = f"flask --app app backup restore {backup_name or 'FILE'} --yes"
    return command, f"docker compose exec {DOCKER_SERVICE} {command}"


class DatabaseHealth:
    """The database's health for one app: checked at start, again every few seconds while it is bad.

    ``prepare`` creates the tables and default settings; it runs once the database can be read.
    """

    def __init__(self, app, database, prepare):
        self.app = app
        self.database = database
        self.prepare = prepare
        self.problem = None
        self.recheck_seconds = app.config.get("DATABASE_RECHECK_SECONDS", RECHECK_SECONDS)
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def start(self, log_problem=True):
        """Check (and prepare) now; ``log_problem``: log a problem found (a serving process does, a terminal
        command says it in its own words)."""
        self.problem = self._check_and_prepare()
        self._checked_at = time.monotonic()
        if self.problem and log_problem:
            log.error(
                "%s. Every page answers 503 until it is restored: %s",
                sentence(self.problem.headline()),
                restore_commands(self.newest_backup())[0] if self.problem.damaged else "see the page",
            )

    def _check_and_prepare(self):
        problem = check(self.database)
        if problem is None:
            try:
                self.prepare()
            except PeeweeException as exc:
                problem = problem_from(exc, self.database)
                if problem is None:
                    raise
        return problem

    def newest_backup(self):
        return newest_valid_backup(
            self.app.config["BACKUP_DIR"], lambda: server_identities(self.app.config["DATA_DIR"])
        )

    def recheck(self):
        """While there is a problem, look again (at most every few seconds); True once the database is usable."""
        if self.problem is None:
            return True
        with self._lock:
            if self.problem is not None and time.monotonic() - self._checked_at >= self.recheck_seconds:
                self.problem = self._check_and_prepare()
                self._checked_at = time.monotonic()
                if self.problem is None:
                    log.info("the database can be read again; serving")
        return self.problem is None

    def found(self, exc):
        """An exception raised while serving: when it shows a damaged or unreadable database (looked at
        again, so a passing hiccup does not count), record and return the Problem; otherwise None."""
        problem = problem_from(exc, self.database)
        if problem is not None and not problem.damaged:
            problem = check(self.database)
        if problem is not None:
            with self._lock:
                self.problem, self._checked_at = problem, time.monotonic()
        return problem

    def advice(self):
        """What a terminal command says after ``Error: <headline>``: the lines that tell what to do."""
        problem = self.problem
        if problem.path is None:
            return ["Check that the PostgreSQL server is running and that DATABASE_URL is right."]
        if not problem.damaged:
            return [f"Check that {problem.path} and its folder exist and belong to the user running this command."]
        backup = self.newest_backup()
        command = restore_commands(backup)[0]
        if backup:
            return [
                f"Rebuild it from the newest valid backup, {backup} (the damaged file is kept aside):",
                f"  {command}",
            ]
        return [
            f"There is no valid backup in {self.app.config['BACKUP_DIR']}. Rebuild it from a backup file "
            "anywhere on disk (the damaged file is kept aside):",
            f"  {command}",
        ]


def sentence(text):
    return text[:1].upper() + text[1:]


def usable(app):
    """False while ``app``'s database is known to be damaged, after looking again: code outside requests
    (the scheduler) then leaves the file alone, as the web app and the terminal do."""
    state = app.extensions.get("dbhealth")
    return state is None or state.recheck() or not state.problem.damaged


def init_app(app, database, prepare, log_problem=True):
    """Check ``database`` now (running ``prepare`` when it is usable); ``dbpage`` answers 503 while it is not."""
    state = DatabaseHealth(app, database, prepare)
    app.extensions["dbhealth"] = state
    state.start(log_problem)
    return state

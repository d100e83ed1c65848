"""The one-time setup code of a first run after data loss (SPEC §12).

An empty database in a data folder that shows an earlier install (backup files in ``<data>/backups``, or
the marker ``<data>/installed`` written when the first administrator was created) is a lost or truncated
database, not a new server: whoever reached /setup first would become admin. There /setup asks for a code
only the people who run the server can read: the server's log, or ``flask --app app users setup-code``.

The code is kept in plain in ``<data>/setup_code`` (JSON, 0600, written atomically), as the secret key
beside it is: whoever can read the private data folder can read the database and forge sessions anyway,
and every worker and the terminal command must read the same code. It is valid for 24 hours, made anew
when it has expired or was used, and compared in constant time. The functions take the folders and the
time, so the terminal, the pages and the tests share them; only ``announce`` and ``here`` need an app.
"""

import datetime as dt
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..backups.automation.scheduler import is_serving_process
from ..backups.store import BackupStore
from ..db import db
from ..fsutil import atomic_write, create_once, read_regular_file
from ..models import User
from ..timeutil import iso, parse_iso, utcnow

MARKER_NAME = "installed"
CODE_NAME = "setup_code"
LOCK_NAME = "setup_code.lock"
VALID_FOR = dt.timedelta(hours=24)
ANNOUNCE_EVERY = dt.timedelta(minutes=1)
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read from a log and typed by hand
GROUPS, GROUP_LENGTH = 4, 4
LIMIT_KEY = "(setup code)"  # the sign-in limiter's account bucket for wrong codes; no username looks like it
COMMAND = "flask --app app users setup-code"
DOCKER_COMMAND = "docker compose exec vibenvr-config flask --app app users setup-code"

log = logging.getLogger("vibenvr.setup")


@dataclass(frozen=True)
class EarlierInstall:
    """What shows that this data folder was set up before."""

    backup_dir: Path
    backups: int  # files in the backup folder
    marker: Path | None  # the marker file, when there is one

    def reason(self):
        """'3 backup files are in /data/backups and /data/installed marks …': for the page and the log."""
        parts = []
        if self.backups:
            parts.append(f"{self.backups} backup file{'s are' if self.backups != 1 else ' is'} in {self.backup_dir}")
        if self.marker:
            parts.append(f"the file {self.marker} marks a first setup")
        return " and ".join(parts)


@dataclass(frozen=True)
class SetupCode:
    code: str
    created_at: dt.datetime

    @property
    def expires_at(self):
        return self.created_at + VALID_FOR

    def valid_at(self, moment):
        return self.created_at <= moment + dt.timedelta(minutes=5) and moment < self.expires_at


def earlier_install(data_dir, backup_dir):
    """The EarlierInstall when the folder shows one (backups, or the marker), else None (a fresh folder)."""
    marker = Path(data_dir) / MARKER_NAME
    backups = len(BackupStore(backup_dir).list(unusable=True))  # names only: nothing is opened
    has_marker = os.path.lexists(marker)
    if not backups and not has_marker:
        return None
    return EarlierInstall(Path(backup_dir), backups, marker if has_marker else None)


def mark_installed(data_dir, moment, how):
    """Write ``<data>/installed`` (0600, atomically) unless it exists; True when this call wrote it."""
    body = {
        "installed_at": iso(moment),
        "how": how,
        "about": "VibeNVR Config was set up in this data folder. While this file exists, /setup on an empty "
        f"database asks for the one-time setup code that the server logs and `{COMMAND}` prints.",
    }
    return create_once(Path(data_dir) / MARKER_NAME, json.dumps(body, indent=2) + "\n")


@contextmanager
def _locked(data_dir):
    """Workers and the terminal take turns to read, make or spend the code, so all of them agree on one."""
    fd = os.open(Path(data_dir) / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read(data_dir):
    """The stored code, or None when there is none or it cannot be read as one."""
    try:
        stored = json.loads(read_regular_file(Path(data_dir) / CODE_NAME))
        code, created = stored["code"], parse_iso(stored["created_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return SetupCode(code, created) if isinstance(code, str) and normalise(code) else None


def current_code(data_dir, moment):
    """``(SetupCode, made)``: the valid code, or a new one (``made`` True) when none is valid."""
    with _locked(data_dir):
        stored = _read(data_dir)
        if stored is not None and stored.valid_at(moment):
            return stored, False
        code = "-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS))
        made = SetupCode(code, moment)
        atomic_write(Path(data_dir) / CODE_NAME, json.dumps({"code": code, "created_at": iso(moment)}) + "\n")
        return made, True


def normalise(text):
    """What was typed, as compared: upper case, without spaces and dashes."""
    return "".join(c for c in str(text or "").upper() if not c.isspace() and c != "-")


def accept(data_dir, entered, moment):
    """Whether ``entered`` is the valid code (constant-time comparison); an expired code is never accepted."""
    stored = _read(data_dir)
    if stored is None or not stored.valid_at(moment):
        return False
    return hmac.compare_digest(normalise(entered).encode(), normalise(stored.code).encode())


def proof(data_dir, moment):
    """A digest of the valid code, or None without one. The restore on /setup asks for the code once and keeps
    this in the browser's (signed) session for its later steps; it stops matching once the code is spent,
    expires or is made anew. A SHA-256 of a code of about 79 random bits: the cookie does not reveal it."""
    stored = _read(data_dir)
    if stored is None or not stored.valid_at(moment):
        return None
    material = f"vibenvr setup code\0{normalise(stored.code)}\0{iso(stored.created_at)}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def spend(data_dir):
    """The code was used (or is no longer needed): the next time one is needed it is a new one."""
    with _locked(data_dir):
        (Path(data_dir) / CODE_NAME).unlink(missing_ok=True)


def first_admin_created(data_dir, moment, how):
    """After the first administrator exists: the marker is written and the code is spent."""
    try:
        mark_installed(data_dir, moment, how)
        spend(data_dir)
    except OSError as exc:
        log.warning(
            "could not write the marker %s (%s): after a data loss /setup will ask for a setup code "
            "only while backups are in the backup folder",
            Path(data_dir) / MARKER_NAME,
            exc.strerror or exc,
        )


# --- in the app ---------------------------------------------------------------------------------------


def here(app):
    """The EarlierInstall of the app's data folder, or None."""
    return earlier_install(app.config["DATA_DIR"], app.config["BACKUP_DIR"])


def announce(app, earlier, moment, force=False):
    """Log the code /setup wants (making one when none is valid): when asked, when it is new, and otherwise
    at most once a minute per process. Returns the SetupCode."""
    code, made = current_code(app.config["DATA_DIR"], moment)
    last = app.extensions.get("vibenvr_setup_code_logged")
    if force or made or last is None or not (last <= moment < last + ANNOUNCE_EVERY):
        app.extensions["vibenvr_setup_code_logged"] = moment
        log.warning(
            "The database has no user, but this server has been set up before (%s). /setup asks for the "
            "setup code %s (valid until %s) before it creates an administrator or restores a backup. `%s` "
            "prints it too. To get the old accounts back, choose Restore from a backup on /setup, or run "
            "flask --app app backup restore NAME --yes",
            earlier.reason(),
            code.code,
            iso(code.expires_at),
            COMMAND,
        )
    return code


def announce_at_start(app):
    """At start, in a serving process: log the code when /setup needs one. Never stops the app from starting."""
    moment = (app.config.get("CLOCK") or utcnow)()

    health = app.extensions.get("dbhealth")
    if not is_serving_process() or (health is not None and health.problem is not None):
        return
    try:
        earlier = here(app)
        if earlier is None:
            return
        opened = db.connect(reuse_if_open=True)
        try:
            if User.select().exists():
                return
        finally:
            if opened:
                db.close()
        announce(app, earlier, moment, force=True)
    except Exception as exc:  # /setup says it again, and refuses without a code
        log.warning("could not check whether /setup needs a setup code at start: %s", exc)

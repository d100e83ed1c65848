"""Configuration: defaults, then the environment, then a test mapping, in that order and in one place."""

import logging
import os
import pwd
import secrets
import stat
from pathlib import Path

from .fsutil import create_once

APP_VERSION = "2.0.0"

log = logging.getLogger("vibenvr.config")


class DataFolderError(RuntimeError):
    """The data folder (or a secret in it) is readable by others and this process cannot make it private."""


def _env_flag(name, default):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name, default):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, got {value!r}") from None


def build_config(test_config=None):
    """Return the app's configuration mapping: defaults < environment < ``test_config``."""
    test_config = dict(test_config or {})
    data_dir = Path(test_config.get("DATA_DIR") or os.environ.get("VIBENVR_DATA_DIR") or "data").resolve()
    config = {
        "APP_VERSION": APP_VERSION,
        "DATA_DIR": data_dir,
        "BACKUP_DIR": data_dir / "backups",
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'vibenvr.db'}",
        "HOST": os.environ.get("VIBENVR_HOST", "127.0.0.1"),
        "PORT": _env_int("VIBENVR_PORT", 8000),
        "SCHEDULER_ENABLED": _env_flag("VIBENVR_SCHEDULER", True),
        "MAX_UPLOAD_MB": _env_int("VIBENVR_MAX_UPLOAD_MB", 10),
        "SESSION_COOKIE_SECURE": _env_flag("VIBENVR_SECURE_COOKIES", False),
        "TRUSTED_PROXIES": _env_int("VIBENVR_TRUSTED_PROXIES", 0),
        # A signed-in session ends on the server after this many days, or after this many days unused.
        "SESSION_MAX_DAYS": _env_int("VIBENVR_SESSION_MAX_DAYS", 30),
        "SESSION_IDLE_DAYS": _env_int("VIBENVR_SESSION_IDLE_DAYS", 14),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "TESTING": False,
    }
    config.update(test_config)
    config["DATA_DIR"] = Path(config["DATA_DIR"]).resolve()
    if "BACKUP_DIR" not in test_config:
        config["BACKUP_DIR"] = config["DATA_DIR"] / "backups"
    if "DATABASE_URL" not in test_config and not os.environ.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{config['DATA_DIR'] / 'vibenvr.db'}"
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    # Requests carry at most the upload limit plus room for the multipart envelope.
    config["MAX_CONTENT_LENGTH"] = config["MAX_UPLOAD_MB"] * 1024 * 1024 + 64 * 1024
    return config


def prepare_data_dir(data_dir, backup_dir, database_url=None):
    """Create the data folder (private when we create it), the private backups folder, and an empty
    SQLite file with mode 0600: the database holds password hashes and 2FA secrets, and SQLite gives its
    -wal and -shm files the database file's mode. An existing folder or SQLite file open to other users
    is tightened (and the log says so); DataFolderError when this process cannot (not the owner)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    make_private(data_dir, 0o700, "data folder")
    backup_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(backup_dir, 0o700)
    if database_url and database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        if str(path) != ":memory:" and not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        if str(path) != ":memory:":
            for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                make_private(companion, 0o600, "database file")


def make_private(path, mode, what):
    """Give ``path`` exactly ``mode`` when it is looser (group or others may read it); log the change.

    A missing file is left alone. DataFolderError, naming the file and the command to run, when the
    mode cannot be changed (another user owns it, a read-only file system)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    current = stat.S_IMODE(info.st_mode)
    if not current & 0o077:
        return
    try:
        os.chmod(path, mode)
    except OSError as exc:
        raise DataFolderError(_cannot_tighten(path, current, mode, what, info, exc)) from None
    log.warning(
        "the %s %s had mode %04o, open to other users; tightened it to %04o (the data folder holds "
        "password hashes, 2FA secrets and the session key)",
        what,
        path,
        current,
        mode,
    )


def _cannot_tighten(path, current, mode, what, info, exc):
    me = os.geteuid()
    if info.st_uid != me:
        how = (
            f"it belongs to {_user(info.st_uid)}, and this process runs as {_user(me)}. As its owner or root, "
            f"run `chmod {mode:o} {path}` (or `chown -R {me} {path.parent if path.is_file() else path}` so that "
            "this user owns the data folder), then start again"
        )
    else:
        how = f"{exc.strerror or exc}. Run `chmod {mode:o} {path}` where that is possible, then start again"
    return (
        f"The {what} {path} has mode {current:04o}, open to other users, and cannot be made private "
        f"({mode:04o}): {how}. VibeNVR Config does not start with its secrets readable by others."
    )


def _user(uid):
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def load_secret_key(data_dir):
    """Read ``<data>/secret_key``, generating it (mode 0600) on first start."""
    path = data_dir / "secret_key"
    if not path.exists():
        # Link a finished temporary file into place: two workers starting at once
        # agree on one key, and nobody ever reads a half-written one.
        create_once(path, secrets.token_hex(32))
    make_private(path, 0o600, "secret key file")
    return path.read_text().strip()

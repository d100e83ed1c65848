"""Configuration: defaults, then the environment, then a test mapping, in that order and in one place."""

import os
import secrets
from pathlib import Path

from .fsutil import create_once

APP_VERSION = "2.0.0"


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
    data_dir = Path(
        test_config.get("DATA_DIR") or os.environ.get("VIBENVR_DATA_DIR") or "data"
    ).resolve()
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
    -wal and -shm files the database file's mode."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    backup_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(backup_dir, 0o700)
    if database_url and database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        if str(path) != ":memory:" and not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def load_secret_key(data_dir):
    """Read ``<data>/secret_key``, generating it (mode 0600) on first start."""
    path = data_dir / "secret_key"
    if not path.exists():
        # Link a finished temporary file into place: two workers starting at once
        # agree on one key, and nobody ever reads a half-written one.
        create_once(path, secrets.token_hex(32))
    os.chmod(path, 0o600)
    return path.read_text().strip()

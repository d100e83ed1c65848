"""The automatic-backup status the System Backups page and ``GET /api/backups/status`` show.

The scheduler records ``last_success``, ``last_failure`` and ``next_run`` in ``<data>/backup_status.json``
with ``record``; everything else reads it with ``read_status``. No Flask here.
"""

import json
import os
import secrets
from pathlib import Path

STATUS_NAME = "backup_status.json"
FIELDS = ("last_success", "last_failure", "next_run")


def status_path(data_dir):
    return Path(data_dir) / STATUS_NAME


def read_status(data_dir):
    """``{"last_success": {"name", "at"}|None, "last_failure": {"at", "reason"}|None, "next_run": iso|None}``."""
    empty = dict.fromkeys(FIELDS)
    try:
        data = json.loads(status_path(data_dir).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, OSError):
        return empty
    if not isinstance(data, dict):
        return empty
    return {key: data.get(key) for key in FIELDS}


def record(data_dir, **changes):
    """Update some of the fields atomically (temp file and rename); return the new status."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown status fields: {sorted(unknown)}")
    status = {**read_status(data_dir), **changes}
    path = status_path(data_dir)
    temp = path.with_name(f".{STATUS_NAME}.{secrets.token_hex(6)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(status, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)  # only left when writing failed (a full disk): never leave it behind
    _fsync_dir(path.parent)  # the rename survives a power cut
    return status


def _fsync_dir(folder):
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

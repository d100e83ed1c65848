"""The automatic-backup status the System Backups page and ``GET /api/backups/status`` show.

The scheduler records ``last_success``, ``last_failure`` and ``next_run`` in ``<data>/backup_status.json``
with ``record``; everything else reads it with ``read_status``. No Flask here.
"""

import json
from pathlib import Path

from ...fsutil import atomic_write

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
    """Update some of the fields atomically (temp file, fsync, rename); return the new status."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown status fields: {sorted(unknown)}")
    status = {**read_status(data_dir), **changes}
    atomic_write(status_path(data_dir), json.dumps(status))
    return status

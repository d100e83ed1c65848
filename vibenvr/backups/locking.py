"""One backup operation at a time per data folder, across threads and processes (an fcntl lock file)."""

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "backups.lock"
_local = threading.local()


@contextmanager
def backup_lock(data_dir, blocking=True):
    """Hold ``<data>/backups.lock`` exclusively. Re-entrant within a thread.

    Raises BlockingIOError when ``blocking`` is false and someone else holds it.
    """
    path = str(Path(data_dir) / LOCK_NAME)
    held = getattr(_local, "held", None)
    if held is None:
        held = _local.held = {}
    if held.get(path):
        held[path] += 1
        try:
            yield
        finally:
            held[path] -= 1
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        held[path] = 1
        try:
            yield
        finally:
            held.pop(path, None)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

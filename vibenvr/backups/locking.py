"""Exclusive fcntl locks on files of the data folder, across threads and processes: ``FolderLock`` (the
scheduler's ``scheduler.lock``, taken only if free) and ``backup_lock`` (one backup operation at a time,
waiting by default, re-entrant within a thread). The kernel drops a lock when its process ends."""

import errno
import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "backups.lock"
_local = threading.local()


class FolderLock:
    """An exclusive fcntl lock on one file, held until ``release`` or the end of the process, however it ends.

    The holder writes its process id into the file, for people and logs (the lock itself decides, not
    the file's text), unless ``write_pid`` is false.
    """

    def __init__(self, path, write_pid=True):
        self.path = Path(path)
        self.write_pid = write_pid
        self._fd = None

    @property
    def held(self):
        return self._fd is not None

    def acquire(self, blocking=False):
        """Take the lock; True when this object holds it. Without ``blocking``, False at once when another
        holds it; with it, wait until it is free."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        if self.write_pid:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return True

    def release(self):
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def holder_pid(self):
        """The process id the holder wrote, or None."""
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None


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
    lock = FolderLock(path, write_pid=False)  # the file stays empty, as it always was
    if not lock.acquire(blocking):
        raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
    held[path] = 1
    try:
        yield
    finally:
        held.pop(path, None)
        lock.release()

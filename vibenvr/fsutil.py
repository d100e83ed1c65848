"""Durable file writes: a private temporary file, fsync, then rename or link, then fsync of the folder.

No Flask here, so crash tests can drive the callers from a bare subprocess.
"""

import contextlib
import os
import secrets
from pathlib import Path


def write_all(fd, data):
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def fsync_dir(folder):
    """Flush the folder's entries, so a rename or link in it survives a power cut."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def temp_file(folder, prefix, data, mode=0o600):
    """Yield the path of a new file in ``folder`` holding ``data``, flushed to disk; it is removed on exit.

    Rename or link it into place inside the block; whatever happens (a full disk), no temporary file stays.
    """
    temp = Path(folder) / f"{prefix}{secrets.token_hex(8)}"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            os.fchmod(fd, mode)
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        yield temp
    finally:
        temp.unlink(missing_ok=True)


def atomic_write(path, data, mode=0o600):
    """Replace ``path`` with ``data`` (bytes or text): readers see the old file or the new one, never half."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with temp_file(path.parent, f".{path.name}.", data, mode) as temp:
        os.replace(temp, path)
    fsync_dir(path.parent)


def create_once(path, data, mode=0o600):
    """Create ``path`` with ``data`` unless it exists (linking never replaces); True when this call made it."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with temp_file(path.parent, f".{path.name}.", data, mode) as temp:
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
    fsync_dir(path.parent)
    return True

"""Durable file writes: a private temporary file, fsync, then rename or link, then fsync of the folder.

No Flask here, so crash tests can drive the callers from a bare subprocess.
"""

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

#: What a full disk is called in messages (SPEC §12: a full disk answers 507 with the message of §5).
DISK_FULL = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exhausted"}
_FILE_TYPES = {
    stat.S_IFDIR: "a folder",
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


class NotRegularFile(OSError):
    """``path`` is a FIFO, socket, device, folder or symbolic link: it was not opened (or not read)."""

    def __init__(self, path, what):
        super().__init__(errno.EINVAL, f"{what}, not a regular file", str(path))
        self.what = what


def file_type(mode):
    """None for a regular file; otherwise what it is ("a named pipe (FIFO)", "a symbolic link", …)."""
    if stat.S_ISREG(mode):
        return None
    return _FILE_TYPES.get(stat.S_IFMT(mode), "not a regular file")


def read_regular_file(path, follow_symlinks=False):
    """The bytes of ``path``, which must be a regular file; nothing else is ever opened or read.

    A FIFO would block the reader for ever and opening a device can have effects, so the type is checked
    before opening (without following a link unless asked), and again on the open descriptor, opened
    non-blocking and without following links, in case the file was swapped in between.
    """
    what = file_type(os.stat(path, follow_symlinks=follow_symlinks).st_mode)
    if what:
        raise NotRegularFile(path, what)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | (0 if follow_symlinks else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):  # became a link, or a socket, since the check
            raise NotRegularFile(path, "a symbolic link" if exc.errno == errno.ELOOP else "a socket") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        what = file_type(os.fstat(fd).st_mode)
        if what:
            raise NotRegularFile(path, what)
        os.set_blocking(fd, True)
        return handle.read()


def disk_full_reason(exc):
    """ "the disk is full" (or the quota) when ``exc`` or its cause is a full disk; None otherwise.

    Covers ENOSPC/EDQUOT from any write, SQLite's "database or disk is full" and PostgreSQL's disk_full.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in DISK_FULL:
            return DISK_FULL[exc.errno]
        if "database or disk is full" in str(exc) or "53100" in (
            getattr(exc, "pgcode", None),
            getattr(exc, "sqlstate", None),
        ):
            return "the disk is full"
        exc = exc.__cause__ or exc.__context__
    return None


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

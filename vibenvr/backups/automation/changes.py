"""The change mark: how a settings change or a restore made in any process reaches the scheduler at once.

A process that saves backup settings or restores a configuration rewrites ``<data>/settings.changed``
with a new random token; the process holding the scheduler lock reads that 33-byte file every second
and checks the settings again when the token differs (SPEC §12: within 2 seconds, several workers and
terminal commands included). One file per data folder, nothing in the database. No Flask here.
"""

import os
import secrets
from pathlib import Path

MARK_NAME = "settings.changed"
_SIZE = 33  # 32 hex digits and a newline: every write has the same length, so no truncation is needed


def mark_path(data_dir):
    return Path(data_dir) / MARK_NAME


def bump(data_dir):
    """Write a new token; OSError when the data folder cannot be written."""
    token = (secrets.token_hex(16) + "\n").encode()
    fd = os.open(mark_path(data_dir), os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
    try:
        os.pwrite(fd, token, 0)  # in place: a reader sees the old token, the new one, or (harmlessly) a mix
        if os.fstat(fd).st_size > _SIZE:
            os.ftruncate(fd, _SIZE)
    finally:
        os.close(fd)


def read_mark(data_dir):
    """The current token (bytes), or None when there is no readable mark yet."""
    try:
        fd = os.open(mark_path(data_dir), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        return os.read(fd, _SIZE)
    except OSError:
        return None
    finally:
        os.close(fd)

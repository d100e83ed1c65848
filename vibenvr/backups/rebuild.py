"""Restoring over a damaged SQLite database (SPEC §12): keep the damaged file, restore into a fresh one.

The new database is built beside the old one under a temporary name and renamed into place only when the
restore is complete, so a running app (answering 503) sees either the damaged file or the restored one,
never an empty database. The damaged file is kept as ``vibenvr.db.corrupt-<UTC time>`` (its ``-wal`` and
``-shm`` beside it, named so that ``sqlite3`` opens them together), mode 0600.
"""

import contextlib
import os
import secrets
from pathlib import Path

from ..db import db
from ..fsutil import fsync_dir
from .restore import check_restorable

SIDE_FILES = ("-wal", "-shm")


def kept_name(path, now):
    """A free ``<name>.corrupt-YYYYMMDDTHHMMSSZ`` (``_2``, ``_3`` … for a second one in the same second)."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    for sequence in range(1, 1000):
        kept = path.with_name(f"{path.name}.corrupt-{stamp}{f'_{sequence}' if sequence > 1 else ''}")
        if not any(Path(f"{kept}{suffix}").exists() for suffix in ("", *SIDE_FILES)):
            return kept
    raise FileExistsError(f"too many damaged copies named {path.name}.corrupt-{stamp}")


def _remove(path):
    for suffix in ("", *SIDE_FILES):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _build(temp, prepare, restore):
    """Create ``temp`` (0600), make its tables and defaults, run ``restore`` into it; leave no -wal behind.

    The app's database object is pointed at ``temp`` meanwhile (``prepare`` may hold it, not the proxy).
    """
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    database = db.obj
    original = database.database
    database.init(str(temp))  # same pragmas and options (open_database's), another file
    try:
        prepare()
        with db.connection_context():
            answer = restore()
        with db.connection_context():
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute_sql(
                "PRAGMA journal_mode = delete"
            )  # one self-contained file to rename; WAL again at the next connection
    finally:
        database.init(original)
    return answer


def restore_into_fresh(path, valid, now, prepare, restore, force=False):
    """Replace the damaged database at ``path`` by one holding ``valid``; return (restore's answer, kept path).

    Hold the backup lock around this. ``prepare`` creates the tables; ``restore`` restores ``valid`` into the
    current database and returns its answer. Only a whole ``replace`` rebuilds a lost configuration.
    """
    check_restorable(valid, "replace", None, force)  # refused before anything moves
    path = Path(path)
    temp = path.with_name(f".{path.name}.rebuild-{secrets.token_hex(6)}")
    try:
        answer = _build(temp, prepare, restore)
        kept = kept_name(path, now)
        try:
            os.link(path, kept)  # the damaged file stays at its place until the new one replaces it
        except OSError:
            os.rename(path, kept)
        os.chmod(kept, 0o600)
        for suffix in SIDE_FILES:  # SQLite would apply the damaged file's -wal to the new database
            side = Path(f"{path}{suffix}")
            if side.exists():
                os.chmod(side, 0o600)
                os.rename(side, f"{kept}{suffix}")
        os.replace(temp, path)
        fsync_dir(path.parent)
    finally:
        with contextlib.suppress(OSError):
            _remove(temp)
    return answer, kept

"""Backup files on disk (SPEC §5): names, atomic writes, listing without parsing, retention.

No Flask and no database here, so a crash test can drive it from a bare subprocess.
"""

import datetime as dt
import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..fsutil import fsync_dir, temp_file
from ..timeutil import iso, parse_iso, utcnow
from .errors import BackupNotFound, BackupWriteError, InvalidBackupName

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.json$")
GENERATED_RE = re.compile(r"^vibe_backup_(auto|manual|imported|safety)_(\d{8}_\d{6})(?:_(\d+))?\.json$")
LEGACY_AUTO_RE = re.compile(r"^vibenvr_auto_backup_(\d{8}_\d{6})(?:_(\d+))?\.json$")
STAMP = "%Y%m%d_%H%M%S"
TEMP_PREFIX = ".vibe-tmp-"
SAFETY_KEEP = 5


@dataclass(frozen=True)
class BackupEntry:
    """One file in the backup folder, described from its name and size alone."""

    name: str
    kind: str  # auto, manual, imported, safety, or "other" for files placed by hand
    created_at: dt.datetime  # from the name; the file's mtime when the name has no time
    size_bytes: int
    sequence: int = 1  # the _2, _3 suffix of names made in the same second
    modified_ns: int = field(default=0, compare=False)  # the file's mtime: orders files of the same second

    @property
    def is_automatic(self):
        return self.kind == "auto"

    def to_dict(self):
        return {"name": self.name, "kind": self.kind, "created_at": iso(self.created_at),
                "size_bytes": self.size_bytes}


def parse_name(name):
    """``(kind, created_at, sequence)`` from a generated or legacy name; None for other names."""
    for pattern, kind in ((GENERATED_RE, None), (LEGACY_AUTO_RE, "auto")):
        match = pattern.match(name)
        if match:
            groups = match.groups()
            kind = kind or groups[0]
            stamp, suffix = groups[-2], groups[-1]
            try:
                created = dt.datetime.strptime(stamp, STAMP)
            except ValueError:
                return None
            return kind, created, int(suffix or 1)
    return None


def backup_name(kind, created_at, sequence=1):
    suffix = f"_{sequence}" if sequence > 1 else ""
    return f"vibe_backup_{kind}_{created_at.strftime(STAMP)}{suffix}.json"


class BackupStore:
    """The backup folder: ``<data>/backups`` (mode 0700, every file 0600)."""

    def __init__(self, folder, clock=utcnow):
        self.folder = Path(folder)
        self.clock = clock

    def ensure_folder(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        if stat.S_IMODE(self.folder.stat().st_mode) != 0o700:
            os.chmod(self.folder, 0o700)

    # --- reading --------------------------------------------------------------------------------

    def list(self):
        """Every backup-named regular file, newest first by the time in its name, then by mtime. Nothing is parsed."""
        entries = []
        try:
            scan = list(os.scandir(self.folder))
        except FileNotFoundError:
            return []
        for item in scan:
            if not NAME_RE.match(item.name) or not item.is_file(follow_symlinks=False):
                continue
            try:
                info = item.stat(follow_symlinks=False)
            except FileNotFoundError:  # deleted while we looked
                continue
            entries.append(self._entry(item.name, info))
        return sorted(entries, key=lambda e: (e.created_at, e.modified_ns, e.sequence, e.name), reverse=True)

    def _entry(self, name, info):
        parsed = parse_name(name)
        if parsed:
            kind, created, sequence = parsed
        else:
            kind, sequence = "other", 1
            created = dt.datetime.fromtimestamp(int(info.st_mtime), dt.UTC).replace(tzinfo=None)
        return BackupEntry(name, kind, created, info.st_size, sequence, info.st_mtime_ns)

    def path_for(self, name):
        """The path of backup ``name``, refusing odd names, traversal and symbolic links."""
        if not isinstance(name, str) or not NAME_RE.match(name) or ".." in name:
            raise InvalidBackupName(
                f"{name!r} is not a backup name: use letters, digits, '.', '_' and '-', ending in .json")
        path = self.folder / name
        if path.is_symlink():
            raise InvalidBackupName(f"{name} is a symbolic link; backups are read only from real files")
        if path.parent.resolve() != self.folder.resolve():
            raise InvalidBackupName(f"{name} is outside the backup folder")
        return path

    def entry(self, name):
        path = self.path_for(name)
        try:
            info = path.stat(follow_symlinks=False)
        except FileNotFoundError:
            raise BackupNotFound(f"there is no backup named {name}") from None
        if not stat.S_ISREG(info.st_mode):
            raise BackupNotFound(f"{name} is not a backup file")
        return self._entry(name, info)

    def read_bytes(self, name):
        path = self.path_for(name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise BackupNotFound(f"there is no backup named {name}") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise InvalidBackupName(f"{name} is a symbolic link; backups are read only from real files") from None
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise BackupNotFound(f"{name} is not a backup file")
        with os.fdopen(fd, "rb") as handle:
            return handle.read()

    # --- writing --------------------------------------------------------------------------------

    def write(self, doc, kind):
        """Encode ``doc`` and write it atomically as a ``kind`` backup named for its timestamp."""
        from .format import encode

        created = parse_iso(doc["timestamp"]) if doc.get("timestamp") else self.clock()
        return self.write_bytes(encode(doc), kind, created)

    def write_bytes(self, data, kind, created_at=None):
        """Write ``data`` atomically: temp file, flush, fsync, link to a free name, fsync of the folder.

        Linking never replaces an existing file, so two writers in the same second get ``_2``, ``_3``.
        On failure (a full disk) the temporary file is removed and BackupWriteError says why.
        """
        self.ensure_folder()
        created_at = (created_at or self.clock()).replace(microsecond=0)
        try:
            with temp_file(self.folder, TEMP_PREFIX, data) as temp:
                name = self._link_free_name(temp, kind, created_at)
            fsync_dir(self.folder)
        except OSError as exc:
            raise BackupWriteError(self._explain(exc)) from exc
        return self.entry(name)

    def _link_free_name(self, temp, kind, created_at):
        for sequence in range(1, 10_000):
            name = backup_name(kind, created_at, sequence)
            try:
                os.link(temp, self.folder / name)
            except FileExistsError:
                continue
            return name
        raise OSError(errno.EEXIST, "too many backups in the same second")

    def _explain(self, exc):
        reason = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exhausted",
                  errno.EACCES: "permission denied", errno.EROFS: "the file system is read-only"}
        why = reason.get(exc.errno, exc.strerror or str(exc))
        return f"Could not write a backup to {self.folder}: {why}. No backup was written and none was deleted."

    def delete(self, name):
        path = self.path_for(name)
        self.entry(name)
        path.unlink()
        fsync_dir(self.folder)

    # --- retention ------------------------------------------------------------------------------

    def _prune(self, kind, keep, protect=()):
        """Delete ``kind`` backups beyond the newest ``keep`` (by the time in the name); return their names.

        Names in ``protect`` (the backup just written) are never deleted and count towards ``keep``, so
        files dated in the future by a clock that ran ahead cannot push the new backup out.
        """
        protect = set(protect)
        matching = [e for e in self.list() if e.kind == kind and parse_name(e.name)]
        kept = sum(e.name in protect for e in matching)
        others = [e.name for e in matching if e.name not in protect]
        doomed = others[max(keep - kept, 0):]
        for name in doomed:
            (self.folder / name).unlink(missing_ok=True)
        if doomed:
            fsync_dir(self.folder)
        return doomed

    def apply_retention(self, keep, protect=()):
        """Keep the newest ``keep`` automatic backups (and always ``protect``); other kinds stay."""
        return self._prune("auto", keep, protect)

    def prune_safety(self, keep=SAFETY_KEEP, protect=()):
        return self._prune("safety", keep, protect)

    def cleanup_temp(self, older_than=dt.timedelta(hours=1)):
        """Remove temporary files left by a crash (never a finished backup)."""
        limit = (self.clock() - older_than).replace(tzinfo=dt.UTC).timestamp()
        removed = []
        for item in os.scandir(self.folder):
            if (item.name.startswith(TEMP_PREFIX) and item.is_file(follow_symlinks=False)
                    and item.stat(follow_symlinks=False).st_mtime < limit):
                os.unlink(item.path)
                removed.append(item.name)
        return removed

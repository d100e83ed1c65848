"""Backup files on disk (SPEC §5): atomic writes, listing without parsing, retention (the names: ``names.py``).

Only regular files are ever opened; FIFOs, sockets, devices, folders, symbolic links and names the API
cannot address are listed as unusable (SPEC §12), never read. No Flask and no database here, so a crash
test can drive it from a bare subprocess.
"""

import datetime as dt
import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..fsutil import DISK_FULL, NotRegularFile, file_type, fsync_dir, read_regular_file, temp_file
from ..timeutil import iso, parse_iso, utcnow
from .document.canonical import encode
from .document.validate import validate_file
from .errors import BackupNotFound, BackupWriteError, InvalidBackupName, UnusableBackup
from .names import (
    DAMAGED_RE,
    NAME_RULE,
    STAMP,
    TEMP_PREFIX,
    backup_name,
    is_addressable,
    is_encrypted_name,
    is_listed_name,
    parse_name,
    shown_name,
    suggest_name,
)

DAMAGED = (
    "a damaged automatic backup — it failed validation right after it was written, so it cannot be "
    "restored (the last failure of the automatic backups says why); kept for inspection, never deleted "
    "automatically: download it, then delete it"
)
#: A temporary this old belongs to no write in progress (a write takes seconds): ``cleanup_temp`` removes it.
TEMP_STALE_AFTER = dt.timedelta(minutes=5)
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
    unusable: str | None = None  # why the file cannot be used (listed, never read); None for a backup
    rename_to: str | None = None  # for an unusable name: a free name the API can address

    @property
    def damaged(self):
        """An automatic backup set aside because it failed validation: unusable, yet it can be downloaded and deleted."""
        return bool(DAMAGED_RE.match(self.name))

    @property
    def encrypted(self):
        """An age-encrypted backup (``.json.age``, SPEC §13): listed with a lock, opened with a key."""
        return is_encrypted_name(self.name)

    @property
    def is_automatic(self):
        return self.kind == "auto" and not self.unusable

    def to_dict(self):
        """What the API and ``backup list --json`` show; ``encrypted``, ``unusable`` (and ``rename_to``) only when set."""
        answer = {
            "name": self.name,
            "kind": self.kind,
            "created_at": iso(self.created_at),
            "size_bytes": self.size_bytes,
        }
        if self.encrypted:
            answer["encrypted"] = True
        if self.unusable:
            answer["unusable"] = self.unusable
            if self.rename_to:
                answer["rename_to"] = self.rename_to
        return answer


class BackupStore:
    """The backup folder: ``<data>/backups`` (mode 0700, every file 0600)."""

    def __init__(self, folder, clock=utcnow, keys=list):
        """``keys()``: the identities encrypted files open with (the server key, SPEC §13); none by default."""
        self.folder = Path(folder)
        self.clock = clock
        self.keys = keys

    def ensure_folder(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        if stat.S_IMODE(self.folder.stat().st_mode) != 0o700:
            os.chmod(self.folder, 0o700)

    # --- reading --------------------------------------------------------------------------------

    def list(self, unusable=False):
        """Every backup-named regular file, newest first by the time in its name, then by mtime. Nothing is parsed.

        ``unusable=True`` (the list people see) adds, as unusable entries, the other ``.json`` and
        ``.json.age`` names: FIFOs, sockets, devices, folders, symbolic links, names the API cannot
        address, encrypted files. Nothing is opened to tell them apart (``lstat`` only).
        """
        entries = []
        try:
            scan = list(os.scandir(self.folder))
        except FileNotFoundError:
            return []
        for item in scan:
            if not is_listed_name(item.name):
                continue
            try:
                info = item.stat(follow_symlinks=False)
            except FileNotFoundError:  # deleted while we looked
                continue
            if is_addressable(item.name) and stat.S_ISREG(info.st_mode):
                entry = self._entry(item.name, info)
                if unusable or not entry.damaged:  # a damaged backup is for people to see, like other unusable files
                    entries.append(entry)
            elif unusable:
                entries.append(self._unusable_entry(item.name, info, scan))
        return sorted(entries, key=lambda e: (e.created_at, e.modified_ns, e.sequence, e.name), reverse=True)

    def _unusable_entry(self, name, info, scan):
        """A file listed so that nobody wonders where it went, with why it cannot be used and what to do."""
        what, rename_to = file_type(info.st_mode), None
        if what == "a symbolic link":
            why = "a symbolic link, never followed — copy the backup file itself into the folder"
        elif what:
            why = f"{what}, not a regular file — never read; remove it from the backup folder"
        else:
            rename_to = suggest_name(name, {item.name for item in scan})
            why = f"unusable name — rename to restore, e.g. to {rename_to} ({NAME_RULE})"
        created = dt.datetime.fromtimestamp(int(info.st_mtime), dt.UTC).replace(tzinfo=None)
        size = info.st_size if stat.S_ISREG(info.st_mode) else 0
        return BackupEntry(shown_name(name), "other", created, size, 1, info.st_mtime_ns, why, rename_to)

    def _entry(self, name, info):
        parsed = parse_name(name)
        damaged = DAMAGED_RE.match(name)
        if parsed:
            kind, created, sequence = parsed
        elif damaged:
            created = dt.datetime.strptime(damaged.group(1), STAMP)
            return BackupEntry(
                name, "other", created, info.st_size, int(damaged.group(2) or 1), info.st_mtime_ns, DAMAGED
            )
        else:
            kind, sequence = "other", 1
            created = dt.datetime.fromtimestamp(int(info.st_mtime), dt.UTC).replace(tzinfo=None)
        return BackupEntry(name, kind, created, info.st_size, sequence, info.st_mtime_ns)

    def path_for(self, name):
        """The path of backup ``name``, refusing odd names, traversal and symbolic links."""
        if not isinstance(name, str) or not is_addressable(name):
            raise InvalidBackupName(f"{name!r} is not a backup name: use {NAME_RULE}")
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
            raise self._not_regular(name, file_type(info.st_mode))
        return self._entry(name, info)

    def _not_regular(self, name, what):
        if what == "a symbolic link":
            return InvalidBackupName(f"{name} is a symbolic link; backups are read only from real files")
        return UnusableBackup(
            f"{name} is {what}, not a backup file: only regular files are read. Remove it from {self.folder}."
        )

    def read_bytes(self, name):
        """The bytes of backup ``name``; only a regular file is ever opened (a FIFO would hang the reader)."""
        path = self.path_for(name)
        try:
            return read_regular_file(path)
        except FileNotFoundError:
            raise BackupNotFound(f"there is no backup named {name}") from None
        except NotRegularFile as exc:
            raise self._not_regular(name, exc.what) from None
        except PermissionError:
            raise UnusableBackup(
                f"{name} cannot be read (permission denied); give the app read access to it in {self.folder}"
            ) from None

    def open(self, name):
        """Backup ``name`` read and validated as a restore would, decrypted with ``keys()`` when encrypted."""
        return validate_file(self.read_bytes(name), source=name, identities=self.keys())

    # --- writing --------------------------------------------------------------------------------

    def write(self, doc, kind):
        """Encode ``doc`` and write it atomically as a ``kind`` backup named for its timestamp."""
        created = parse_iso(doc["timestamp"]) if doc.get("timestamp") else self.clock()
        return self.write_bytes(encode(doc), kind, created)

    def write_bytes(self, data, kind, created_at=None, encrypted=False):
        """Write ``data`` atomically: temp file, flush, fsync, link to a free name, fsync of the folder.

        Linking never replaces an existing file, so two writers in the same second get ``_2``, ``_3``.
        On failure (a full disk) the temporary file is removed and BackupWriteError says why.
        """
        self.ensure_folder()
        created_at = (created_at or self.clock()).replace(microsecond=0)
        try:
            with temp_file(self.folder, TEMP_PREFIX, data) as temp:
                name = self._link_free_name(temp, kind, created_at, encrypted)
            fsync_dir(self.folder)
        except OSError as exc:
            raise BackupWriteError(self._explain(exc)) from exc
        return self.entry(name)

    def _link_free_name(self, temp, kind, created_at, encrypted=False):
        """Link ``temp`` to the first free name; a sequence is taken when either form (plain or encrypted)
        of its name exists, so two backups of one second never share a place in the list."""
        for sequence in range(1, 10_000):
            name = backup_name(kind, created_at, sequence, encrypted)
            if os.path.lexists(self.folder / backup_name(kind, created_at, sequence, not encrypted)):
                continue
            try:
                os.link(temp, self.folder / name)
            except FileExistsError:
                continue
            return name
        raise OSError(errno.EEXIST, "too many backups in the same second")

    def _explain(self, exc):
        reason = {**DISK_FULL, errno.EACCES: "permission denied", errno.EROFS: "the file system is read-only"}
        why = reason.get(exc.errno, exc.strerror or str(exc))
        advice = " Free some space there and try again." if exc.errno in DISK_FULL else ""
        return f"Could not write a backup to {self.folder}: {why}. No backup was written and none was deleted." + advice

    def damaged_names(self):
        """The automatic backups kept aside as damaged, newest first (names only, nothing is read)."""
        return [entry.name for entry in self.list(unusable=True) if entry.damaged]

    def set_aside_damaged(self, name):
        """Rename backup ``name`` (written moments ago, failing validation) to a free damaged name; return it.

        Kept, never replaced: it is no longer automatic, so neither retention nor startup protection counts it.
        """
        path = self.path_for(name)
        parsed = parse_name(name)
        kept_as = self._link_free_name(path, "damaged", parsed[1] if parsed else self.clock(), is_encrypted_name(name))
        path.unlink()
        fsync_dir(self.folder)
        return kept_as

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
        doomed = others[max(keep - kept, 0) :]
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

    def cleanup_temp(self, older_than=TEMP_STALE_AFTER):
        """Remove temporary files left by a crash (never a finished backup); return their names.

        Only those older than ``older_than``: a younger one may be another process's write in progress.
        ``older_than=None`` removes every one; only for a caller holding the backup lock, which every
        write of the app holds from its temporary's creation to its removal (the start-up sweep).
        """
        limit = None if older_than is None else (self.clock() - older_than).replace(tzinfo=dt.UTC).timestamp()
        removed = []
        try:
            scan = list(os.scandir(self.folder))
        except FileNotFoundError:
            return removed
        for item in scan:
            if not item.name.startswith(TEMP_PREFIX):
                continue
            try:
                if not item.is_file(follow_symlinks=False):
                    continue
                if limit is not None and item.stat(follow_symlinks=False).st_mtime >= limit:
                    continue
                os.unlink(item.path)
            except FileNotFoundError:  # its writer finished meanwhile
                continue
            removed.append(item.name)
        if removed:
            fsync_dir(self.folder)
        return removed

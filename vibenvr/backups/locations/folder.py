"""The ``folder`` kind (SPEC §14): a second local folder, typically a NAS or a USB disk mounted at
``/mnt/nas``. A folder that is missing (an unmounted NAS) is a failure, never created: writing into the
empty mount point would put the copy on this machine's own disk."""

import datetime as dt
import errno
import os
import stat
from pathlib import Path

from ...fsutil import NotRegularFile, create_once, read_regular_file
from .transport import TEMP_PREFIX, LocationError, RemoteFile, Transport

_REASONS = {
    errno.ENOENT: "missing",
    errno.ENOTDIR: "missing",
    errno.EACCES: "permission",
    errno.EPERM: "permission",
    errno.EROFS: "permission",
    errno.ENOSPC: "full",
    errno.EDQUOT: "full",
    errno.ETIMEDOUT: "timeout",
    errno.EIO: "protocol",
}


def plain_name(name):
    """Refuse anything but a plain file name (no folder, no ``..``, no temporary name) before any work."""
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", "..") or "\0" in name:
        raise ValueError(f"{name!r} is not a plain file name")
    if name.startswith(TEMP_PREFIX):
        raise ValueError(f"{name!r} is a temporary name")
    return name


class FolderTransport(Transport):
    kind = "folder"

    def __init__(self, settings):
        super().__init__(settings)
        self.folder = Path(settings["path"])

    def _where(self):
        return f"folder {self.folder}"

    def _fail(self, exc, what=""):
        reason = _REASONS.get(exc.errno, "protocol")
        detail = f"{self._where()}{f' ({what})' if what else ''}: {exc.strerror or exc}"
        return LocationError(reason, detail)

    def _check_folder(self):
        try:
            info = self.folder.stat()
        except OSError as exc:
            raise self._fail(exc, "is it mounted?") from None
        if not stat.S_ISDIR(info.st_mode):
            raise LocationError("missing", f"{self._where()} is not a folder")

    def put(self, name, data):
        plain_name(name)
        self._check_folder()
        target = self.folder / name
        try:
            if create_once(target, data):  # a temporary file linked into place: never half a file
                return
            if read_regular_file(target) == bytes(data):  # the same copy is there already
                return
        except NotRegularFile:
            pass
        except OSError as exc:
            raise self._fail(exc) from None
        raise LocationError("protocol", f"{self._where()}: {name} exists with other content; it was left as it is")

    def get(self, name, limit):
        plain_name(name)
        path = self.folder / name
        try:
            if path.stat().st_size > limit:
                raise LocationError("protocol", f"{self._where()}: {name} is larger than {limit} bytes")
            return read_regular_file(path)
        except FileNotFoundError:
            self._check_folder()
            raise LocationError("not_found", f"{self._where()}: {name}") from None
        except NotRegularFile as exc:
            raise LocationError("not_found", f"{self._where()}: {name} is {exc.what}, not a file") from None
        except OSError as exc:
            raise self._fail(exc) from None

    def list(self):
        self._check_folder()
        files = []
        try:
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    if entry.name.startswith((TEMP_PREFIX, ".")) or not entry.is_file(follow_symlinks=False):
                        continue
                    info = entry.stat(follow_symlinks=False)
                    modified = dt.datetime.fromtimestamp(info.st_mtime, dt.UTC).replace(tzinfo=None)
                    files.append(RemoteFile(entry.name, info.st_size, modified))
        except OSError as exc:
            raise self._fail(exc) from None
        return sorted(files, key=lambda f: f.name)

    def delete(self, name):
        plain_name(name)
        try:
            (self.folder / name).unlink(missing_ok=True)
        except OSError as exc:
            raise self._fail(exc) from None

    def probe(self):
        name = f"{TEMP_PREFIX}probe-{os.urandom(6).hex()}"
        self._check_folder()
        path = self.folder / name
        try:
            if not create_once(path, b"vibenvr location probe\n"):
                raise LocationError("protocol", f"{self._where()}: the probe file existed")
            if read_regular_file(path) != b"vibenvr location probe\n":
                raise LocationError("protocol", f"{self._where()}: the probe file read back differently")
            path.unlink()
        except OSError as exc:
            raise self._fail(exc) from None
        free = os.statvfs(self.folder)
        return {"free_bytes": free.f_bavail * free.f_frsize}

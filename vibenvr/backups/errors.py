"""The backup engine's errors: each carries a message a person can act on, and the HTTP status it maps to."""

from ..db import busy_status
from ..fsutil import disk_full_reason


class BackupError(ValueError):
    """A backup file cannot be used. ``errors`` lists every problem found (section, item, field)."""

    def __init__(self, errors, status=422):
        errors = [str(e) for e in errors] or ["the backup is invalid"]
        super().__init__("; ".join(errors))
        self.errors = errors
        self.status = status

    @property
    def summary(self):
        """One line for the top of a message: the only error, or how many there are."""
        if len(self.errors) == 1:
            return self.errors[0]
        return f"The backup has {len(self.errors)} problems; nothing was changed."


class InvalidBackupName(ValueError):
    """A backup name that does not match the allowed pattern or leaves the backup folder (HTTP 400)."""

    status = 400


class BackupNotFound(LookupError):
    """No backup file by that name (HTTP 404)."""

    status = 404


class UnusableBackup(BackupNotFound):
    """The name is there but is no backup file: a FIFO, socket, device, folder or unreadable file (HTTP 422).

    Listed as unusable; never opened or read.
    """

    status = 422


class UploadTooLarge(ValueError):
    """An uploaded backup over ``MAX_UPLOAD_MB`` (HTTP 413): read no further, nothing saved."""

    status = 413

    def __init__(self, limit_mb):
        super().__init__(f"The upload is larger than the limit of {limit_mb} MB (VIBENVR_MAX_UPLOAD_MB).")
        self.limit_mb = limit_mb


class BackupWriteError(OSError):
    """A backup file could not be written (disk full, permissions); nothing was left behind.

    HTTP 507 when the disk is full (SPEC §12), 500 otherwise.
    """

    @property
    def status(self):
        return 507 if disk_full_reason(self.__cause__) else 500


class RestoreRefused(ValueError):
    """A valid backup that may not be restored as asked, e.g. it would leave no active admin (HTTP 409)."""

    status = 409


class RestoreFailed(RuntimeError):
    """The database refused the restore; the transaction was rolled back and nothing changed.

    HTTP 507 when the database's disk is full, 409 or 503 when a lock was not had (SPEC §12), 500 otherwise.
    """

    @property
    def status(self):
        return 507 if disk_full_reason(self.__cause__) else busy_status(self.__cause__) or 500


class DamagedBackup(BackupError):
    """An automatic backup was written but does not pass the validation a restore applies (SPEC §12).

    It is kept under a damaged name (``kept_as``) and the run counts as a failure: retention deletes nothing.
    """

    def __init__(self, name, kept_as, reason):
        super().__init__(
            [
                f"the automatic backup {name} was written but fails the validation a restore applies, so "
                f"it could not be restored: {reason}. It is kept as {kept_as} (listed as damaged); no "
                "backup was deleted"
            ],
            status=500,
        )
        self.name, self.kept_as, self.reason = name, kept_as, reason

"""The backup engine's errors: each carries a message a person can act on, and the HTTP status it maps to."""


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


class BackupWriteError(OSError):
    """A backup file could not be written (disk full, permissions); nothing was left behind."""

    status = 500


class RestoreRefused(ValueError):
    """A valid backup that may not be restored as asked, e.g. it would leave no active admin (HTTP 409)."""

    status = 409


class RestoreFailed(RuntimeError):
    """The database refused the restore; the transaction was rolled back and nothing changed."""

    status = 500

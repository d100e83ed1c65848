"""The zero-trace guard's target for this process: the bound database and the data folder. No Flask.

The HTTP script has the same methods over the API (``vibenvr.sanity.remote.HttpTarget``).
"""

import logging
from pathlib import Path

from ..backups.automation.pause import end_pause, paused_until, start_pause
from ..backups.automation.status import read_status
from ..backups.document import envelope
from ..backups.document.export import export_bytes, export_document
from ..backups.document.validate import validate_document
from ..backups.keys import server_identities
from ..backups.locking import backup_lock
from ..backups.restore import check_restorable, restore_document
from ..backups.store import SAFETY_KEEP, BackupStore
from ..config import APP_VERSION
from ..timeutil import utcnow

log = logging.getLogger(__name__)


class LocalTarget:
    """Snapshot, restore, list and pause through the backup core, holding the backup lock to write.

    ``after_restore()`` runs after each restore (the app clears its caches and sends ``config_restored``).
    """

    def __init__(self, data_dir, backup_dir=None, clock=utcnow, app_version=APP_VERSION, after_restore=None):
        self.data_dir = Path(data_dir)
        self.store = BackupStore(
            backup_dir or self.data_dir / "backups", clock=clock, keys=lambda: server_identities(self.data_dir)
        )
        self.clock = clock
        self.app_version = app_version
        self.after_restore = after_restore or (lambda: None)
        self.where = str(self.store.folder)

    # --- the configuration ---------------------------------------------------------------------------

    def export(self):
        """The whole configuration as an export document, in memory."""
        return export_document("manual", now=self.clock(), app_version=self.app_version)

    def restore(self, doc):
        """Put ``doc`` back: validated, ``replace`` mode, no safety file, one transaction.

        ``force``: the snapshot is what was there, administrators or not.
        """
        valid = validate_document(doc, source="the in-memory snapshot")
        with backup_lock(self.data_dir):
            restore_document(valid, mode="replace", force=True)
        self.after_restore()

    def restore_backup(self, name, valid):
        """The fallback: keep what the run left as a safety backup, then restore ``valid`` (read from
        ``name``). Returns the safety backup's name (None when it could not be written)."""
        with backup_lock(self.data_dir):
            check_restorable(valid, mode="replace")  # refused before anything is written
            safety = self._safety_backup()
            try:
                restore_document(valid, mode="replace")
            except BaseException:
                if safety:  # rolled back: the configuration is still the one the safety file holds
                    self.store.delete(safety)
                raise
        self.after_restore()
        log.warning("sanity fallback: restored %s; the configuration it replaced is in %s", name, safety)
        return safety

    def _safety_backup(self):
        now = self.clock()
        try:
            data = export_bytes("safety", now=now, app_version=self.app_version)
            entry = self.store.write_bytes(data, "safety", now)
            self.store.prune_safety(SAFETY_KEEP, protect={entry.name})
        except Exception:  # the configuration it would keep is the failed run's: restoring matters more
            log.exception("sanity fallback: no safety backup of the replaced configuration could be written")
            return None
        return entry.name

    # --- the backup folder and the schedule ----------------------------------------------------------

    def list_backups(self):
        return self.store.list()

    def read_backup(self, name):
        """The backup's document bytes; an encrypted one opened with the server key (the fallback needs it)."""
        data = self.store.read_bytes(name)
        if envelope.is_encrypted(data):
            return envelope.decrypt(data, self.store.keys(), source=name)
        return data

    def delete_backup(self, name):
        with backup_lock(self.data_dir):
            self.store.delete(name)

    def status(self):
        return read_status(self.data_dir)

    def pause(self, minutes, by):
        return start_pause(self.data_dir, self.clock(), by, minutes)

    def resume(self):
        end_pause(self.data_dir)

    def paused_until(self):
        return paused_until(self.data_dir, self.clock())

    def restore_command(self, name):
        return f"flask --app app backup restore {name}"

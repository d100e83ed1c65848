"""Numbered database migrations (SPEC §12), run at start and recorded in ``schema_migration``.

A new install creates the current tables and records every migration as applied; an existing one runs
those it has not recorded, in order, each in its own transaction. Before the first of them runs, the
configuration is saved: a copy of the SQLite file beside it (``vibenvr.db.before-migration-<N>``), and a
manual backup in the backup folder when the configuration can still be exported.
"""

import datetime as dt
import logging
import os
from pathlib import Path

from peewee import CharField, DateTimeField, IntegerField, Model, SqliteDatabase

from .backups.document.export import export_bytes
from .backups.locking import backup_lock
from .backups.store import BackupStore
from .db import db
from .models import ALL_MODELS, ID_MODELS, BackupLocation, BackupRecipient
from .runtime import STATE_MODELS, LocationCopy, LocationStatus, SignInFailure, TotpLastStep, UserSession
from .timeutil import utcnow

log = logging.getLogger(__name__)


class SchemaMigration(Model):
    """One applied migration. Not configuration: never in a backup, untouched by a restore."""

    number = IntegerField(primary_key=True)
    name = CharField(max_length=200)
    applied_at = DateTimeField(default=utcnow)

    class Meta:
        database = db
        table_name = "schema_migration"


def _sqlite_autoincrement(database):
    """Rebuild each table with an integer id so that its ids are AUTOINCREMENT: SQLite hands out
    max(id)+1 otherwise, and a new camera could inherit a deleted one's id and its viewers."""
    if not isinstance(database, SqliteDatabase):
        return  # PostgreSQL sequences never hand out an id twice
    database.execute_sql("PRAGMA foreign_keys = OFF")  # only outside a transaction; checked below
    try:
        with database.atomic():
            for model in ID_MODELS:
                _rebuild(database, model)
            problems = database.execute_sql("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"the rebuilt tables have dangling references: {problems[:5]}")
    finally:
        database.execute_sql("PRAGMA foreign_keys = ON")


def _rebuild(database, model):
    """SQLite's way to change a table: create the new one, copy, drop the old one, rename (foreign keys
    off, so nothing cascades and other tables' references keep pointing at the name)."""
    table = model._meta.table_name
    found = database.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    if found is None or "AUTOINCREMENT" in found[0].upper():
        return  # a table a later migration adds is created with AUTOINCREMENT already
    indexes = [
        row[0]
        for row in database.execute_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,)
        )
    ]
    columns = ", ".join(f'"{row[1]}"' for row in database.execute_sql(f'PRAGMA table_info("{table}")'))
    new = f"{table}__autoincrement"
    create, params = database.get_sql_context().sql(model._schema._create_table(safe=False)).query()
    database.execute_sql(create.replace(f'CREATE TABLE "{table}"', f'CREATE TABLE "{new}"', 1), params)
    database.execute_sql(f'INSERT INTO "{new}" ({columns}) SELECT {columns} FROM "{table}"')  # noqa: S608
    database.execute_sql(f'DROP TABLE "{table}"')
    database.execute_sql(f'ALTER TABLE "{new}" RENAME TO "{table}"')
    for index in indexes:
        database.execute_sql(index)


def _state_tables(database):
    """Every table of the running service's state (``vibenvr/runtime.py``), as it is now: a new install."""
    database.create_tables(STATE_MODELS, safe=True)


def _login_state(database):
    """Sign-in limits and TOTP replay memory, which part one kept in each worker's memory."""
    database.create_tables([TotpLastStep, SignInFailure], safe=True)


def _server_sessions(database):
    """Server-side session records: the cookie holds a random id, sign-out deletes the row."""
    database.create_tables([UserSession], safe=True)


def _backup_recipients(database):
    """The admins' own public keys every encrypted backup is also encrypted to (SPEC §13)."""
    database.create_tables([BackupRecipient], safe=True)


def _backup_locations(database):
    """Places every backup is also copied to (SPEC §14), and the state of each copy."""
    database.create_tables([BackupLocation, LocationCopy, LocationStatus], safe=True)


MIGRATIONS = [
    (1, "ids are never reused (SQLite AUTOINCREMENT)", _sqlite_autoincrement),
    (2, "sign-in limits and TOTP replay memory in the database", _login_state),
    (3, "server-side sessions", _server_sessions),
    (4, "backup recipients: the admins' own keys for encrypted backups", _backup_recipients),
    (5, "backup locations and the state of their copies", _backup_locations),
]


def migrate(database, data_dir=None, backup_dir=None):
    """Create or bring the tables up to date; return the numbers of the migrations that ran.

    Workers starting together take turns through the data folder's backup lock, so each migration
    runs once and its backup is not raced by another process's."""
    if data_dir is None:
        return _migrate(database, None, backup_dir)
    with backup_lock(data_dir):
        return _migrate(database, data_dir, backup_dir)


def _migrate(database, data_dir, backup_dir):
    existing = set(database.get_tables())
    fresh = not (existing & {m._meta.table_name for m in ALL_MODELS})
    database.create_tables([SchemaMigration], safe=True)
    done = {number for (number,) in SchemaMigration.select(SchemaMigration.number).tuples()}
    pending = [m for m in MIGRATIONS if m[0] not in done]
    ran = []
    if pending and not fresh:
        _save_before(database, pending[0][0], data_dir, backup_dir)
        for number, name, apply in pending:
            log.info("database migration %d: %s", number, name)
            apply(database)
            SchemaMigration.insert(number=number, name=name).on_conflict_ignore().execute()
            ran.append(number)
    database.create_tables(ALL_MODELS, safe=True)
    _state_tables(database)  # a new install: every table as it is now
    if fresh:
        SchemaMigration.insert_many(
            [{"number": n, "name": name} for n, name, _ in pending]
        ).on_conflict_ignore().execute()
    return ran


def _save_before(database, number, data_dir, backup_dir):
    """Keep the configuration as it was before migration ``number``: a file copy and a backup."""
    if isinstance(database, SqliteDatabase) and database.database not in ("", ":memory:"):
        target = Path(f"{database.database}.before-migration-{number}")
        if not target.exists():
            copy = SqliteDatabase(str(target))
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            database.connection().backup(copy.connection())
            copy.close()
            log.info("saved the database before migration %d as %s", number, target)
    if backup_dir is None:
        return
    try:
        # A configuration table a later migration adds does not exist yet: made empty first (which changes
        # nothing a backup holds), the export can read every section.
        database.create_tables([m for m in ALL_MODELS if not database.table_exists(m._meta.table_name)])
        entry = BackupStore(backup_dir).write_bytes(export_bytes("manual"), "manual", utcnow())
        log.info("backup before database migration %d: %s", number, entry.name)
    except Exception:  # the tables may be too old for this version's export; the file copy above stays
        log.warning("could not write a backup before database migration %d", number, exc_info=True)


def applied():
    """``[(number, name, applied_at)]`` of the migrations this database has recorded."""
    return [
        (m.number, m.name, m.applied_at.replace(tzinfo=dt.UTC) if m.applied_at else None)
        for m in SchemaMigration.select().order_by(SchemaMigration.number)
    ]

"""The database: the Peewee proxy every model uses, the JSON column, and the write helpers (one transaction
holding the write lock, busy errors). ``dbsetup`` binds the proxy to an app's database."""

from contextlib import contextmanager

from peewee import DatabaseProxy, SqliteDatabase, TextField
from playhouse.db_url import connect

from . import strictjson
from .validation import ConflictError

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
}


class JSONField(TextField):
    """A JSON value stored as text in canonical form (SPEC §4: sorted keys, no spaces, UTF-8 as is), so a
    backup can copy it as it is; the same on SQLite and PostgreSQL. Read and written by the one strict
    parser and encoder (SPEC §12): NaN or infinity is never stored, nor read back as a number."""

    def db_value(self, value):
        if value is None:
            return None
        return strictjson.dumps(value)

    def python_value(self, value):
        if value is None:
            return None
        return strictjson.loads(value, max_depth=None)


def open_database(url):
    """Connect to ``url`` (``sqlite:///…`` or ``postgresql://…``) with the project's options."""
    if url.startswith("sqlite"):
        database = connect(url, pragmas=SQLITE_PRAGMAS, autoconnect=False, check_same_thread=False)
    else:
        database = connect(url, autoconnect=False)
    return database


# --- writes (SPEC §12: writes do not race a restore) ---------------------------------------------

# The PostgreSQL advisory lock every write transaction takes first ("VIBEWRIT"); several instances on one
# database share it, as they share the rows.
WRITE_LOCK_KEY = 0x5649424557524954
BUSY_MESSAGES = {
    409: "Another change was being saved at the same moment, so this one was not saved. Try it again.",
    503: "The database is busy with another change (a restore, perhaps) and did not become free in time; "
    "nothing was changed. Try again in a moment.",
}
_BUSY_SQLSTATES = {"40P01": 409, "40001": 409, "55P03": 503}  # deadlock, serialization failure, lock not available


@contextmanager
def write_transaction():
    """One transaction holding the write lock from its first statement, for every write that reads first.

    SQLite: ``BEGIN IMMEDIATE``. PostgreSQL: a transaction-level advisory lock that every write (a restore
    included) takes first, so writes queue in one order instead of deadlocking. Either way a read inside sees
    everything committed before; a waiter gives up after the busy timeout (see ``busy_status``). Inside
    another transaction this is a savepoint of it.
    """
    if isinstance(db.obj, SqliteDatabase):
        with db.atomic(lock_type="IMMEDIATE") as transaction:
            yield transaction
        return
    with db.atomic() as transaction:
        if type(db.obj).__name__.startswith("Postgres"):
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        yield transaction


def current_row(model, row_id, what):
    """The row as it is now (call inside ``write_transaction``); 409 when a restore or another request
    removed it after this request found it."""
    row = model.get_or_none(model.id == row_id)
    if row is None:
        raise ConflictError(
            f"{what} {row_id} no longer exists: a restore or another change removed it "
            "meanwhile; reload the page and try again"
        )
    return row


def save_changes(row, changes):
    """Set ``changes`` on ``row`` and write only the columns that differ (inside ``write_transaction``)."""
    for field, value in changes.items():
        setattr(row, field, value)
    if row.dirty_fields:
        row.save(only=row.dirty_fields)
    return row


def busy_status(exc):
    """409 or 503 when ``exc`` means a lock was not had (see BUSY_MESSAGES), None for any other error.

    Peewee passes some PostgreSQL errors (deadlock) through unwrapped and wraps others (the driver's
    error is then the context); either form is recognised.
    """
    if exc is None:
        return None
    for error in (exc, exc.__cause__, exc.__context__, *exc.args[:1]):
        status = _BUSY_SQLSTATES.get(getattr(error, "pgcode", None))
        if status:
            return status
    text = str(exc).lower()
    if type(exc).__name__ == "OperationalError" and (
        "database is locked" in text or "database table is locked" in text
    ):
        return 503
    return None

"""The database: a Peewee proxy bound from configuration, per-request connections, table creation."""

from flask import g
from peewee import DatabaseProxy, TextField
from playhouse.db_url import connect

from . import strictjson

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


def init_app(app):
    """Bind the proxy to the configured database, create tables and hook connections to requests."""
    from . import dbhealth, migrations, models

    database = open_database(app.config["DATABASE_URL"])
    db.initialize(database)

    def prepare():  # run once the database can be read: at start, or when a damaged one is replaced
        with db.connection_context():
            migrations.migrate(database, app.config["DATA_DIR"], app.config["BACKUP_DIR"])  # SPEC §12
            models.seed_defaults()

    dbhealth.init_app(app, database, prepare)  # damaged or unreadable: every request answers 503 (SPEC §12)

    @app.before_request
    def _connect():
        g._db_opened = db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if g.pop("_db_opened", False) and not db.is_closed():
            db.close()

    app.extensions["peewee"] = database

"""An app's database: bind the proxy from configuration, create or migrate the tables and seed the settings
once it can be read (a damaged or unreadable one answers 503 instead), a connection per request.

Apart from ``db.py`` because it imports the models, migrations and health check, which all import ``db``.
"""

from flask import g

from . import dbhealth, dbpage, migrations, models
from .backups.automation.scheduler import is_serving_process
from .db import db, open_database


def init_app(app):
    """Bind the proxy to the configured database, create tables and hook connections to requests."""
    database = open_database(app.config["DATABASE_URL"])
    db.initialize(database)

    def prepare():  # run once the database can be read: at start, or when a damaged one is replaced
        with db.connection_context():
            migrations.migrate(database, app.config["DATA_DIR"], app.config["BACKUP_DIR"])  # SPEC §12
            models.seed_defaults()

    # damaged or unreadable: every request answers 503 (SPEC §12); a terminal command says it in its own words
    health = dbhealth.init_app(app, database, prepare, log_problem=is_serving_process())
    dbpage.init_app(app, health)

    @app.before_request
    def _connect():
        g._db_opened = db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if g.pop("_db_opened", False) and not db.is_closed():
            db.close()

    app.extensions["peewee"] = database

"""VibeNVR Config: the configuration service of the VibeNVR network video recorder.

Importing any ``vibenvr.*`` module runs this file first, so it imports only a few light modules at the top;
``create_app`` imports the app's parts (database, blueprints, scheduler) when it builds an app. That keeps
each module's import its own (tests/core/test_module_imports.py); hence PLC0415 is off for this file.
"""

import logging
import os
import sys
from pathlib import Path

from flask import Flask, abort

from . import errors
from .config import DataFolderError, build_config, load_secret_key, prepare_data_dir

ROOT = Path(__file__).resolve().parent.parent
HTMX_FILE = ROOT / "static" / "vendor" / "htmx.min.js"


def create_app(test_config=None):
    """Build the app: configuration, data folder, database, login, CSRF, blueprints, scheduler."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(build_config(test_config))
    app.url_value_preprocessor(_ids_in_range)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not HTMX_FILE.exists() and not app.config.get("SKIP_ASSET_CHECK"):
        raise RuntimeError(
            f"{HTMX_FILE} is missing. Run `make run` (or `npm ci` and copy "
            "node_modules/htmx.org/dist/htmx.min.js to static/vendor/) to install the front-end files."
        )
    try:
        prepare_data_dir(app.config["DATA_DIR"], app.config["BACKUP_DIR"], app.config["DATABASE_URL"])
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = load_secret_key(app.config["DATA_DIR"])
    except DataFolderError as exc:
        _refuse_to_start(exc)

    from . import dbsetup

    dbsetup.init_app(app)
    from .settings.service import clear_cache

    app.before_request(clear_cache)  # settings are read at most once per request
    from . import hardening
    from .auth import session

    hardening.init_app(app)  # headers, and the 64 KB limit of anonymous bodies before CSRF reads the form
    session.init_app(app)
    errors.init_app(app)
    _register_blueprints(app)
    _register_template_helpers(app)
    from .backups.automation import scheduler

    scheduler.init_app(app)  # automatic backups: a thread in serving processes, one per data folder
    return app


def _refuse_to_start(exc):
    """A terminal command (``flask …``) says why in one line, with no traceback; a server logs it and stops."""
    if os.environ.get("FLASK_RUN_FROM_CLI") == "true":
        print(f"Error: {exc}", file=sys.stderr)
        raise SystemExit(1)
    logging.getLogger("vibenvr").error("%s", exc)
    raise exc


MAX_DATABASE_ID = 2**63 - 1


def _ids_in_range(endpoint, values):
    """``<int:…>`` beyond what a database id can be (SPEC §12) is a 404 for every method, instead of
    overflowing the database driver (werkzeug's own ``max`` would answer 405 to the other methods)."""
    for key, value in (values or {}).items():
        if type(value) is int and value > MAX_DATABASE_ID:
            abort(404, description=f"{key} {value} does not exist")


def _register_blueprints(app):
    from .auth.routes import bp as auth_bp
    from .backups.api import bp as backups_api
    from .backups.api import recipients_bp as backup_recipients_api
    from .backups.cli import backup_cli
    from .backups.locations.api import bp as backup_locations_api
    from .cameras.api import bp as cameras_api
    from .groups.api import bp as groups_api
    from .main import bp as main_bp
    from .settings.api import bp as settings_api
    from .storage.api import bp as storage_api

    for blueprint in (main_bp, auth_bp, cameras_api, groups_api, storage_api, settings_api):
        app.register_blueprint(blueprint)
    app.register_blueprint(backups_api)
    app.register_blueprint(backup_recipients_api)
    app.register_blueprint(backup_locations_api)
    app.cli.add_command(backup_cli)

    from .sanity.api import bp as sanity_api
    from .sanity.cli import sanity_cli

    app.register_blueprint(sanity_api)  # /api/sanity/pause: the HTTP sanity script pauses automatic backups
    app.cli.add_command(sanity_cli)

    from .security.api import bp as tokens_api
    from .security.routes import bp as security_pages
    from .users.api import bp as users_api
    from .users.routes import bp as users_pages

    for blueprint in (users_api, tokens_api, users_pages, security_pages):
        app.register_blueprint(blueprint)

    from .cameras.routes import bp as cameras_pages
    from .groups.routes import bp as groups_pages
    from .settings.routes import bp as settings_pages
    from .storage.routes import bp as storage_pages

    for blueprint in (cameras_pages, groups_pages, storage_pages, settings_pages):
        app.register_blueprint(blueprint)

    from .backups.locations.routes import bp as backup_locations_pages
    from .backups.routes import bp as backups_pages
    from .firstrun.routes import bp as firstrun_pages

    app.register_blueprint(backups_pages)
    app.register_blueprint(backup_locations_pages)
    app.register_blueprint(firstrun_pages)  # /setup/restore: a fresh install restores a backup (SPEC §16)


def _register_template_helpers(app):
    from .templating import init_app

    init_app(app)

"""Running the in-process checks inside the zero-trace guard, for ``flask --app app sanity run`` and tests."""

import secrets

from flask import current_app

from ..backups import service
from ..settings.service import clear_cache
from ..signals import config_restored
from .checks import CHECKS, Context
from .guard import NOT_STARTED, GuardNotStarted, ZeroTraceGuard
from .inprocess import run_admin_client
from .local_target import LocalTarget
from .runner import run_checks


def local_target(app):
    """The guard's target for ``app``: its database, its data folder, its backup clock."""

    def reload():
        clear_cache()
        config_restored.send(app, result=None)  # caches and the backup schedule reload, as after any restore

    return LocalTarget(
        app.config["DATA_DIR"],
        app.config["BACKUP_DIR"],
        clock=service.clock,
        app_version=app.config["APP_VERSION"],
        after_restore=reload,
    )


def run_guarded(checks=CHECKS, echo=print, target=None):
    """Run ``checks`` inside the guard; print a line per check and the guard's report. The checks ask this
    app's test client as an administrator the run makes (inside the guard, on the first request) and deletes.

    Returns ``(exit code, report or None, results)``; needs an app context and a database connection.
    """
    app = current_app._get_current_object()
    target = target or local_target(app)
    results = []
    echo(
        f"Sanity run on {app.config['DATA_DIR']}: {len(checks)} check(s) inside the zero-trace guard "
        "(configuration snapshot in memory, automatic backups paused)"
    )
    guard = ZeroTraceGuard(target, clock=service.clock, by="flask sanity run")
    try:
        with guard, run_admin_client(app, f"sanity-{secrets.token_hex(3)}-admin") as client:
            run_checks(checks, Context(client), echo, results)
    except GuardNotStarted as exc:
        echo(f"Not started: {exc}. Nothing was run and nothing was changed.")
        return NOT_STARTED, None, results
    for line in guard.report.lines():
        echo(line)
    return int(guard.report.outcome), guard.report, results

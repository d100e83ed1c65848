"""What the web app answers while its database is damaged or unreadable (SPEC §12): 503 everywhere.

Pages get a page of their own (it reads nothing from the database), htmx requests a full reload to that
page, ``/api/*`` a 503 JSON error. ``/api/health`` is liveness (SPEC §18): it still answers 200 with
``"status": "ok"`` (the process is up, so Docker can ``exec`` into it) and adds ``"database": "damaged"``
or ``"unreadable"`` with the same message.
"""

import logging

from flask import current_app, jsonify, request
from peewee import DatabaseError

from .dbhealth import restore_commands
from .http import is_api_request, is_htmx

log = logging.getLogger(__name__)

TEMPLATE = "database_damaged.html"


def message(problem):
    """What a visitor reads: the problem and what to do, without paths or server details."""
    if problem.path is None:
        return (
            "The PostgreSQL database cannot be reached, so nothing can be shown or saved. Check that the "
            "server is running and that DATABASE_URL is right; this page works again as soon as it answers."
        )
    if problem.damaged:
        return (
            f"The configuration database is damaged (SQLite reports: {problem.reason}), so nothing can be "
            "shown or saved. Rebuild it from a backup with the command below, on the server."
        )
    return (
        f"The configuration database cannot be opened ({problem.reason}), so nothing can be shown or saved. "
        "Check that vibenvr.db in the data folder and the folder itself belong to the user that runs "
        "VibeNVR Config; this page works again as soon as the file can be opened."
    )


def answer(state):
    """The 503 (or, for ``/api/health``, 200) answer for ``state.problem``."""
    problem = state.problem
    backup = state.newest_backup() if problem.damaged else None
    command, docker = restore_commands(backup)
    text = message(problem)
    if request.path == "/api/health":
        return jsonify({"status": "ok", "database": problem.kind, "error": text})
    headers = {"Cache-Control": "no-store", "Retry-After": "10"}
    if is_api_request():
        payload = {"error": text, "database": problem.kind}
        if problem.damaged:
            payload.update(command=command, docker_command=docker, backup=backup)
        response = jsonify(payload)
        response.status_code = 503
        response.headers.update(headers)
        return response
    if is_htmx():
        return "", 503, {**headers, "HX-Refresh": "true"}  # the browser loads the full page below
    template = current_app.jinja_env.get_template(TEMPLATE)  # no context processors: they read settings
    html = template.render(
        message=text,
        problem=problem,
        backup=backup,
        command=command,
        docker=docker,
        backup_dir=current_app.config["BACKUP_DIR"].name,
        app_version=current_app.config["APP_VERSION"],
    )
    return html, 503, headers


def init_app(app, state):
    @app.before_request
    def _answer_while_unusable():
        if state.problem is None or state.recheck():
            return None
        if request.endpoint == "static":  # the page's style sheet, served before the hooks that connect
            return app.view_functions["static"](**request.view_args)
        return answer(state)

    @app.errorhandler(DatabaseError)
    def _database_error(exc):
        """A database found damaged while serving: 503 from now on. Any other database error goes to the
        app's handler of every exception (busy, disk full, 500), as if this one were not here."""
        if state.found(exc) is not None:
            log.error(
                "%s %s: %s; every page answers 503 until it is restored",
                request.method,
                request.path,
                state.problem.headline(),
            )
            return answer(state)
        fallback = app.error_handler_spec.get(None, {}).get(None, {}).get(Exception)
        if fallback is None:
            raise exc
        return fallback(exc)

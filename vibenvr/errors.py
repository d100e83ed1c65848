"""Error handlers: JSON for the API, a small fragment for htmx, a full page otherwise."""

import logging
from urllib.parse import quote, urlsplit

from flask import current_app, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .backups.errors import (
    BackupError,
    BackupNotFound,
    BackupWriteError,
    InvalidBackupName,
    RestoreFailed,
    RestoreRefused,
    UploadTooLarge,
)
from .db import BUSY_MESSAGES, busy_status
from .fsutil import disk_full_reason
from .http import BadRequest, error_json, is_api_request, is_htmx
from .validation import ConflictError, ValidationError

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Admins only",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Invalid input",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Busy",
    507: "The disk is full",
}


def _login_url():
    target = request.headers.get("HX-Current-URL") if is_htmx() else request.full_path
    if target and "://" in target:
        parts = urlsplit(target)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    target = (target or "/").rstrip("?")
    return url_for("auth.login") + "?next=" + quote(target, safe="/")


def render_error(status, message, errors=None):
    if is_api_request():
        return error_json(status, message, errors)
    if status == 401:
        if is_htmx():
            return "", 401, {"HX-Redirect": _login_url()}
        return redirect(_login_url())
    context = {"status": status, "title": TITLES.get(status, "Error"), "message": message, "errors": errors}
    if is_htmx():
        # Shown in the message region, never swapped into a table or a form.
        return (
            render_template("_error.html", **context),
            status,
            {
                "HX-Retarget": "#messages",
                "HX-Reswap": "innerHTML",
            },
        )
    return render_template("error.html", **context), status


def init_app(app):
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        if is_api_request():
            return render_error(
                400, f"{exc.description} Authenticate with an API token, or send the page's X-CSRFToken header."
            )
        return render_error(
            400,
            f"The form has expired or is missing its security token ({exc.description}). Reload the page and try again.",
        )

    @app.errorhandler(BadRequest)
    def _bad_request(exc):
        return render_error(400, str(exc))

    @app.errorhandler(ValidationError)
    def _invalid(exc):
        return render_error(
            exc.status, exc.errors[0] if len(exc.errors) == 1 else f"{len(exc.errors)} fields are invalid", exc.errors
        )

    @app.errorhandler(ConflictError)
    def _conflict(exc):
        return render_error(409, str(exc))

    _backup_handlers(app)

    @app.errorhandler(HTTPException)
    def _http(exc):
        status = exc.code or 500
        message = (
            exc.description
            if status not in (401, 403)
            else {
                401: "Sign in, or send an API token (Authorization: Bearer … or X-API-Key).",
                403: "This needs an administrator account.",
            }[status]
        )
        if status == 413:
            limit = app.config["MAX_UPLOAD_MB"]
            message = (
                g.get("body_limit_message")
                or f"The upload is larger than the limit of {limit} MB (VIBENVR_MAX_UPLOAD_MB)."
            )
        response = render_error(status, message)
        if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods and not isinstance(response, tuple):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc):
        full = disk_full_reason(exc)  # not a bug of the app: 507 and what to do (SPEC §12)
        if full:
            log.error("%s %s answered 507: %s (%s)", request.method, request.path, full, exc)
            return render_error(507, disk_full_message(full))
        busy = busy_status(exc)
        if busy:  # a lost race for a lock (SPEC §12): the transaction was rolled back
            log.warning("%s %s answered %d: %s", request.method, request.path, busy, exc)
            return render_error(busy, BUSY_MESSAGES[busy])
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500, "An unexpected error occurred; it has been logged.")


def _backup_handlers(app):
    """The backup engine's errors, from any page or API route: their message and status (backups.errors)."""

    @app.errorhandler(BackupError)
    def _backup_error(exc):
        return render_error(exc.status, exc.summary, exc.errors if len(exc.errors) > 1 else None)

    @app.errorhandler(InvalidBackupName)
    @app.errorhandler(BackupNotFound)
    @app.errorhandler(RestoreRefused)
    @app.errorhandler(RestoreFailed)
    @app.errorhandler(BackupWriteError)
    @app.errorhandler(UploadTooLarge)
    def _backup_engine_error(exc):
        return render_error(exc.status, str(exc.args[0] if exc.args else exc))


def disk_full_message(reason):
    """What a full disk outside a backup write says (a backup write says the same of the backup folder)."""
    return (
        f"Could not write to {current_app.config['DATA_DIR']}: {reason}. Nothing was saved and nothing was "
        "deleted. Free some space there and try again."
    )

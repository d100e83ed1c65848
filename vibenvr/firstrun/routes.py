"""/setup/restore: a fresh install gets its configuration back from a backup (SPEC §16).

With no user yet, a backup is uploaded, picked from ``<data>/backups`` (a reused volume) or fetched from a
backup location typed in (§14) (``ways``); it is validated (nothing written when it fails), kept in
``staging`` and previewed; on confirmation ``backups.service.restore`` restores it (a safety backup first,
as every restore), an uploaded or fetched file is kept as an ``imported`` backup, and the person signs in
with an account from it. Every page here is a 404 once any user exists. When the data folder shows an
earlier install (``auth.setupcode``) the setup code is asked once, counted by the sign-in limiter as on the
administrator form; its proof then stays in the session until the code is spent.
"""

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for

from .. import hardening
from ..auth import setupcode
from ..auth.clock import now
from ..auth.decorators import public
from ..auth.ratelimit import client_address, login_limiter, wait_text
from ..auth.routes import setup_code_problem, users_exist
from ..backups import service as backups
from ..backups.errors import BackupError, BackupWriteError, RestoreFailed, RestoreRefused
from ..backups.overview import KIND_LABELS, SECTION_LABELS
from ..backups.restore import check_restorable
from ..errors import render_error
from ..models import User
from ..pages import sentence
from . import files, staging, ways
from .page import (
    CODE_KEY,
    STAGED_KEY,
    START,
    WAYS,
    code_entered,
    default_way,
    entries,
    go,
    needs_code,
    render_way,
)

bp = Blueprint("firstrun", __name__, url_prefix="/setup/restore")
bp.add_url_rule("/upload", view_func=ways.upload, methods=["POST"])
bp.add_url_rule("/server", view_func=ways.server, methods=["POST"])
bp.add_url_rule("/location", view_func=ways.location, methods=["POST"])

NOT_RESTORED = (BackupError, BackupWriteError, RestoreRefused, RestoreFailed)


def _may_upload():
    """A backup file is larger than the 64 KB that requests without a session may send: the upload may be as
    large as the upload limit while no user exists, from a browser that may restore (the setup code entered
    after a data loss), as a multipart form (whose file part werkzeug streams rather than parses)."""
    return request.mimetype == "multipart/form-data" and not users_exist() and code_entered(setupcode.here(current_app))


@bp.record_once
def _uploads_before_any_user(state):
    hardening.allow_anonymous_upload(state.app, "firstrun.upload", _may_upload)


@bp.before_request
def _closed_once_a_user_exists():
    if users_exist():
        abort(404)


@bp.errorhandler(413)
def _upload_too_large(exc):
    """A body over the upload limit is refused before the view runs; while /setup is open the upload says why."""
    if request.endpoint == "firstrun.upload" and not users_exist() and needs_code() is None:
        return ways.failed("upload", [ways.too_large()], 413)
    return render_error(413, g.get("body_limit_message") or ways.too_large())


@bp.get("")
@public
def page():
    earlier = setupcode.here(current_app)
    if not code_entered(earlier):
        return _gate(earlier)
    way = request.args.get("way")
    return render_way(way if way in WAYS else default_way(entries()))


# --- the setup code after a data loss --------------------------------------------------------------


def _gate(earlier, status=200, error=None, code_error=None, headers=None):
    """The page that asks for the setup code; the code is logged first (made when none is valid)."""
    try:
        setupcode.announce(current_app, earlier, now())
    except OSError as exc:
        error = (
            f"The setup code cannot be made ({exc.strerror or exc}), so this page restores nothing. Restore from "
            "the terminal instead: flask --app app backup restore NAME --yes"
        )
        status = 503
    body = render_template("firstrun/gate.html", earlier=earlier, error=error, code_error=code_error, **START)
    return body, status, headers or {}


@bp.post("/code")
@public
def code():
    earlier = setupcode.here(current_app)
    if code_entered(earlier):
        return redirect(url_for(".page"), 303)
    wait = login_limiter().retry_after(setupcode.LIMIT_KEY, client_address())
    if wait:
        message = f"Too many failed attempts. Try again in {wait_text(wait)}."
        return _gate(earlier, 429, error=message, headers={"Retry-After": str(wait)})
    problem = setup_code_problem(request.form.get("setup_code"))
    if problem:
        return _gate(earlier, problem[0], code_error=problem[1])
    session[CODE_KEY] = setupcode.proof(current_app.config["DATA_DIR"], now())
    return redirect(url_for(".page"), 303)


# --- preview and restore ---------------------------------------------------------------------------


def _staged_file(token=None):
    """The file this browser chose (``token``, when the form names one, must be it), or None."""
    kept = session.get(STAGED_KEY)
    if not isinstance(kept, str) or (token is not None and token != kept):
        return None
    return staging.load(current_app.config["DATA_DIR"], kept, now())


def _gone():
    flash(
        "That backup is no longer waiting to be restored (a choice is kept for an hour, and only the last one "
        "made in this browser). Choose it again.",
        "info",
    )
    return go(url_for(".page"))


def _open(staged):
    return files.open_backup(staged.plain, files.plain_source(staged.name))[0]


def _preview(staged, status=200, error=None):
    """What the file holds, and whether it can be restored, before anything changes."""
    context = {**START, "staged": staged, "error": error, "refusal": None, "valid": None, "problems": []}
    context["backup_dir"] = str(current_app.config["BACKUP_DIR"])
    try:
        valid = _open(staged)
    except BackupError as exc:
        context["problems"] = exc.errors
        return render_template("firstrun/preview.html", **context), status
    try:
        check_restorable(valid)
    except RestoreRefused as exc:
        context["refusal"] = sentence(str(exc))
    admins = files.admin_users(valid)
    context.update(
        valid=valid,
        rows=[(SECTION_LABELS[s], n) for s, n in valid.counts.items() if s in SECTION_LABELS],
        holds=files.holds(valid),
        who=files.either(u["username"] for u in admins),
        two_factor=any(u.get("is_2fa_enabled") for u in admins),
        kind_label=KIND_LABELS.get(valid.kind, valid.kind).lower(),
    )
    return render_template("firstrun/preview.html", **context), status


@bp.get("/preview")
@public
def preview():
    refused = needs_code()
    if refused:
        return refused
    staged = _staged_file()
    return _preview(staged) if staged is not None else _gone()


@bp.post("/confirm")
@public
def confirm():
    refused = needs_code()
    if refused:
        return refused
    staged = _staged_file(request.form.get("token", ""))
    if staged is None:
        return _gone()
    earlier = setupcode.here(current_app)
    try:
        valid = _open(staged)
        with backups.lock():  # the administrator form takes it too: one of the two wins, never both
            if User.select().exists():
                abort(404)
            backups.restore(valid)
    except NOT_RESTORED as exc:
        reason = exc.errors if isinstance(exc, BackupError) else [sentence(str(exc))]
        return _preview(staged, exc.status, error=reason)
    data_dir = current_app.config["DATA_DIR"]
    current_app.extensions["vibenvr_has_users"] = True
    kept, problem = _keep(staged)
    setupcode.first_admin_created(data_dir, now(), "/setup (restored a backup)")  # marker written, code spent
    if earlier is not None:
        login_limiter().succeeded(setupcode.LIMIT_KEY)
    staging.clear(data_dir)
    session.pop(CODE_KEY, None)
    session.pop(STAGED_KEY, None)
    flash(
        f"The backup is restored: {files.holds(valid)}. Sign in with an administrator account from it: "
        f"{files.either(files.admins(valid))}.",
        "success",
    )
    kept_message = _kept_message(staged, kept, problem)
    if kept_message:
        flash(kept_message, "info")
    return go(url_for("auth.login"))


def _keep(staged):
    """The uploaded or fetched file kept as an ``imported`` backup, as it came: ``(name, None)``, ``(None,
    problem)`` when it could not be written, ``(None, None)`` for a file of the backup folder (already there)."""
    if staged.original is None:
        return None, None
    try:
        with backups.lock():
            entry = backups.get_store().write_bytes(staged.original, "imported", encrypted=staged.encrypted)
    except BackupWriteError as exc:
        current_app.logger.warning("the restored file %s could not be kept as an imported backup: %s", staged.name, exc)
        return None, str(exc)
    return entry.name, None


def _kept_message(staged, kept, problem):
    """Where the restored file is kept, and the new key of encrypted backups. (The safety backup of the empty
    configuration is listed on System Backups with the others; it is of no use to mention here.)"""
    parts = []
    if kept:
        parts.append(f"The file is kept as {kept} on System Backups.")
    elif problem:
        parts.append(f"The file could not be kept on this server ({problem}).")
    if staged.encrypted:
        parts.append(
            "Encrypted backups made from now on use a new key of this server: download its emergency kit on "
            "System Backups."
        )
    return " ".join(parts)

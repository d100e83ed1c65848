"""First-run setup, sign-in (password, then TOTP or a recovery code) and sign-out."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from ..backups import service as backups
from ..backups.automation.pause import pause_path
from ..db import write_transaction
from ..firstrun import staging
from ..models import User
from . import devices, sessions, setupcode, twofactor
from .clock import now
from .decorators import public
from .forms import LoginForm, SetupForm, TwoFactorForm
from .passwords import hash_password, needs_rehash, verify_password
from .ratelimit import client_address, login_limiter, wait_text

bp = Blueprint("auth", __name__)

OPEN_ENDPOINTS = {"auth.setup", "static", "main.health"}
PENDING_KEY = "pending_2fa"
PENDING_MINUTES = 5  # auth.sessions.PENDING_LIFETIME
_DUMMY_HASH = hash_password("not a real password, only for timing")


def users_exist():
    if current_app.extensions.get("vibenvr_has_users"):
        return True
    exists = User.select().exists()
    if exists:
        current_app.extensions["vibenvr_has_users"] = True
        _mark_installed()
    return exists


def _mark_installed():
    """An install from before the marker existed gets one (SPEC §12: a later data loss asks for a setup code).

    Not while a zero-trace sanity run holds the pause: its own admin is no sign of an install (SPEC §11)."""
    if pause_path(current_app.config["DATA_DIR"]).exists():
        return  # the marker waits for a request after the run
    try:
        setupcode.mark_installed(current_app.config["DATA_DIR"], now(), "users found in the database")
    except OSError as exc:
        current_app.logger.warning("could not write %s: %s", setupcode.MARKER_NAME, exc.strerror or exc)


@bp.record_once
def _announce_setup_code(state):
    setupcode.announce_at_start(state.app)  # the server's log has the code when /setup wants one


def safe_next(target):
    """``target`` when it is a local path (``/cameras?x=1``), else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) <= 32 or ord(c) == 127 for c in target):
        return None  # browsers drop tabs and newlines: "/\t/evil.example" would become "//evil.example"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.before_app_request
def _first_run():
    """With no user yet, every page leads to /setup (whose restore pages are the ``firstrun`` blueprint)."""
    if request.endpoint in OPEN_ENDPOINTS or request.blueprint == "firstrun" or request.path.startswith("/api/"):
        return None
    if not users_exist():
        return redirect(url_for("auth.setup"))
    return None


@bp.route("/setup", methods=["GET", "POST"])
@public
def setup():
    if users_exist():
        abort(404)
    form = SetupForm()
    earlier = setupcode.here(current_app)  # a lost database beside an earlier install: the code is needed
    if earlier:
        try:
            setupcode.announce(current_app, earlier, now())
        except OSError as exc:
            return render_template(
                "auth/setup.html",
                form=form,
                earlier=earlier,
                error=(
                    f"The setup code cannot be made ({exc.strerror or exc}), so this page creates no administrator. "
                    "Create one from the terminal: flask --app app users create NAME --role admin"
                ),
            ), 503
        if request.method == "POST":
            wait = login_limiter().retry_after(setupcode.LIMIT_KEY, client_address())
            if wait:
                return _too_many("auth/setup.html", wait, form=form, earlier=earlier)
    if form.validate_on_submit():
        if earlier:
            refused = _setup_code_refused(form)
            if refused:
                return refused
        hashed = hash_password(form.password.data)  # the slow hash, before the transaction
        with backups.lock(), write_transaction():  # the lock: never while a restore on /setup/restore runs
            if User.select().exists():  # another browser finished first
                abort(404)
            user = User.create(
                username=form.username.data.strip(),
                email=(form.email.data or "").strip(),
                hashed_password=hashed,
                role="admin",
            )
        current_app.extensions["vibenvr_has_users"] = True
        setupcode.first_admin_created(current_app.config["DATA_DIR"], now(), "/setup")
        staging.clear(current_app.config["DATA_DIR"])  # a restore begun in another browser is of no use now
        if earlier:
            login_limiter().succeeded(setupcode.LIMIT_KEY)
        _sign_in(user)
        flash(
            f"Welcome, {user.username}. Your administrator account is ready. "
            "Turn on two-factor authentication on the Security page.",
            "success",
        )
        return redirect(url_for("main.index"))
    return render_template("auth/setup.html", form=form, earlier=earlier), (422 if form.errors else 200)


def setup_code_problem(entered):
    """None when ``entered`` is the valid setup code; else ``(status, message)``: 422 when nothing was
    entered, 401 when it is wrong (counted like a failed sign-in, by the sign-in limiter)."""
    if not setupcode.normalise(entered):
        return 422, "Enter the setup code from the server log or from the command shown above."
    if setupcode.accept(current_app.config["DATA_DIR"], entered, now()):
        return None
    login_limiter().failed(setupcode.LIMIT_KEY, client_address())
    return 401, (
        "That is not the current setup code. Take it from the server log, or run the "
        "command shown above and use the code it prints."
    )


def _setup_code_refused(form):
    """The page again when the setup code is missing (422) or wrong (401, counted like a failed sign-in)."""
    problem = setup_code_problem(form.setup_code.data)
    if problem is None:
        return None
    status, message = problem
    form.setup_code.errors = [message]
    return render_template("auth/setup.html", form=form, earlier=setupcode.here(current_app)), status


def _too_many(template, seconds, **context):
    message = f"Too many failed attempts. Try again in {wait_text(seconds)}."
    body = render_template(template, error=message, **context)
    return body, 429, {"Retry-After": str(seconds)}


def _authenticate(username, password):
    user = User.get_or_none(User.username == username)
    if user is None:
        verify_password(_DUMMY_HASH, password)  # the same work as for a real account
        return None
    if not verify_password(user.hashed_password, password) or not user.is_active:
        return None
    if needs_rehash(user.hashed_password):
        # Only this column, and only if no restore or reset changed the hash since it was read.
        rehashed = hash_password(password)
        if (
            User.update(hashed_password=rehashed)
            .where((User.id == user.id) & (User.hashed_password == user.hashed_password))
            .execute()
        ):
            sessions.follow_rehash(user.id, user.hashed_password, rehashed)  # they stay signed in
            user.hashed_password = rehashed
    return user


def _sign_in(user):
    """Start a fresh server-side session for ``user`` (nothing of the anonymous session survives)."""
    pending = session.get(PENDING_KEY)
    if isinstance(pending, dict):
        sessions.end(pending.get("session"))
    sessions.sign_in(user)
    login_limiter().succeeded(user.username)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("main.index"))
    form = LoginForm()
    context = {"form": form, "next_url": next_url}
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        wait = login_limiter().retry_after(username, client_address())
        if wait:
            return _too_many("auth/login.html", wait, **context)
    if not form.validate_on_submit():
        return render_template("auth/login.html", **context), (422 if form.errors else 200)
    user = _authenticate(username, form.password.data)
    if user is None:
        login_limiter().failed(username, client_address())
        return render_template("auth/login.html", error="The username or password is wrong.", **context), 401
    if user.is_2fa_enabled and user.totp_secret:
        device = devices.trusted_device_for(user, request.cookies.get(devices.COOKIE_NAME), now())
        if device is None:
            session.clear()
            session[PENDING_KEY] = {"session": sessions.start_pending(user), "next": next_url}
            return redirect(url_for("auth.two_factor"))
    _sign_in(user)
    return redirect(next_url or url_for("main.index"))


def _pending_user():
    """The user who passed the password step less than five minutes ago, or None."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    user = sessions.pending_user(pending.get("session"))  # five minutes, the same password hash, active
    if user is None or not user.is_2fa_enabled:
        return None
    return user


@bp.route("/login/verify", methods=["GET", "POST"])
@public
def two_factor():
    user = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash("Your sign-in has expired. Enter your password again.", "info")
        return redirect(url_for("auth.login"))
    form = TwoFactorForm()
    next_url = safe_next(session[PENDING_KEY].get("next"))
    if request.method == "POST":
        wait = login_limiter().retry_after(user.username, client_address())
        if wait:
            return _too_many("auth/two_factor.html", wait, form=form, user=user)
    if not form.validate_on_submit():
        return render_template("auth/two_factor.html", form=form, user=user), (422 if form.errors else 200)
    code = form.code.data.strip()
    used_recovery = False
    if twofactor.is_totp_code(code):
        ok = twofactor.accept_totp(user, code, now())
    else:
        ok = used_recovery = twofactor.use_recovery_code(user, code)
    if not ok:
        login_limiter().failed(user.username, client_address())
        error = "That code is not valid. Use the current code from your app, or an unused recovery code."
        return render_template("auth/two_factor.html", form=form, user=user, error=error), 401
    trust = bool(form.trust.data)
    _sign_in(user)
    if used_recovery:
        left = twofactor.remaining_recovery_codes(user)
        flash(
            f"You signed in with a recovery code; {left} unused code{'s' if left != 1 else ''} left. "
            "Make new ones on the Security page if you are running low.",
            "warning",
        )
    response = redirect(next_url or url_for("main.index"))
    if trust:
        plain = devices.trust_device(user, devices.describe_browser(request.user_agent.string), now())
        devices.set_cookie(response, plain)
    return response


@bp.post("/logout")
@public
def logout():
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))

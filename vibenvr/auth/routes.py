"""First-run setup, sign-in and sign-out pages."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from ..models import User
from .decorators import public
from .forms import LoginForm, SetupForm
from .passwords import hash_password, needs_rehash, verify_password

bp = Blueprint("auth", __name__)

OPEN_ENDPOINTS = {"auth.setup", "auth.login", "static", "main.health"}


def users_exist():
    if current_app.extensions.get("vibenvr_has_users"):
        return True
    exists = User.select().exists()
    if exists:
        current_app.extensions["vibenvr_has_users"] = True
    return exists


def safe_next(target):
    """``target`` when it is a local path (``/cameras?x=1``), else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.before_app_request
def _first_run():
    """With no user yet, every page leads to /setup."""
    if request.endpoint in OPEN_ENDPOINTS or request.path.startswith("/api/"):
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
    if form.validate_on_submit():
        user = User.create(
            username=form.username.data.strip(),
            email=(form.email.data or "").strip(),
            hashed_password=hash_password(form.password.data),
            role="admin",
        )
        current_app.extensions["vibenvr_has_users"] = True
        login_user(user)
        flash(f"Welcome, {user.username}. Your administrator account is ready.", "success")
        return redirect(url_for("main.index"))
    return render_template("auth/setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("main.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = User.get_or_none(User.username == form.username.data.strip())
        if user and user.is_active and verify_password(user.hashed_password, form.password.data):
            if needs_rehash(user.hashed_password):
                user.hashed_password = hash_password(form.password.data)
                user.save()
            login_user(user)
            return redirect(next_url or url_for("main.index"))
        error = "The username or password is wrong."
    return render_template("auth/login.html", form=form, error=error, next_url=next_url), (401 if error else 200)


@bp.post("/logout")
@public
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))

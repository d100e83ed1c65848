"""The Users pages (admin only): list and create, edit, reset a password, camera access, 2FA, delete.

Plain forms that post and redirect; errors re-render the page with the reasons inline.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth import sessions
from ..auth.decorators import admin_required
from ..models import Camera, Group, User
from ..pages import get_or_404
from ..validation import ConflictError, ValidationError
from . import service

bp = Blueprint("users", __name__, url_prefix="/users")


def _get(user_id):
    return get_or_404(User, user_id, "User")


def _checked(name):
    return "on" in request.form.getlist(name)


def _ids(name):
    values = request.form.getlist(name)
    return [int(v) for v in values if v.isdigit()]


def _problems(exc):
    return exc.errors if isinstance(exc, ValidationError) else [str(exc)]


def _status(exc):
    return exc.status if isinstance(exc, ValidationError) else 409


@bp.get("")
@admin_required
def list_page():
    return render_template("users/list.html", users=service.list_users(), form={}, problems=[])


@bp.post("")
@admin_required
def create():
    form = request.form
    data = {
        "username": form.get("username", "").strip(),
        "email": form.get("email", "").strip(),
        "role": form.get("role", "viewer"),
        "password": form.get("password", ""),
    }
    try:
        if form.get("password", "") != form.get("confirm", ""):
            raise ValidationError(["confirm: the passwords differ"])
        user = service.create_user(data)
    except (ValidationError, ConflictError) as exc:
        page = render_template("users/list.html", users=service.list_users(), form=data, problems=_problems(exc))
        return page, _status(exc)
    flash(
        f"{user.username} ({user.role}) was created. Set camera access below if they should see only some cameras.",
        "success",
    )
    return redirect(url_for("users.edit_page", user_id=user.id))


def _edit(user, problems=(), status=200):
    context = {
        "user": user,
        "cameras": list(Camera.select(Camera.id, Camera.name).order_by(Camera.sort_order, Camera.name)),
        "groups": list(Group.select(Group.id, Group.name).order_by(Group.name)),
        "is_self": user.id == current_user.id,
        "problems": list(problems),
    }
    return render_template("users/edit.html", **context), status


@bp.get("/<int:user_id>")
@admin_required
def edit_page(user_id):
    return _edit(_get(user_id))


def _apply(user, data, done):
    try:
        service.update_user(user, data)
    except (ValidationError, ConflictError) as exc:
        return _edit(_get(user.id), _problems(exc), _status(exc))
    flash(done, "success")
    if user.id == current_user.id and "password" in data:
        sessions.sign_in(_get(user.id), fresh_cookie=False)  # this browser stays signed in; every other session ended
    if user.id == current_user.id and (data.get("role") == "viewer" or data.get("is_active") is False):
        return redirect(url_for("main.index"))
    return redirect(url_for("users.edit_page", user_id=user.id))


@bp.post("/<int:user_id>")
@admin_required
def update(user_id):
    user = _get(user_id)
    data = {
        "email": request.form.get("email", "").strip(),
        "role": request.form.get("role", user.role),
        "language": request.form.get("language", user.language).strip(),
        "is_active": _checked("is_active"),
    }
    return _apply(user, data, f"{user.username} was updated.")


@bp.post("/<int:user_id>/password")
@admin_required
def reset_password(user_id):
    user = _get(user_id)
    if request.form.get("password", "") != request.form.get("confirm", ""):
        return _edit(user, ["confirm: the passwords differ"], 422)
    return _apply(
        user,
        {"password": request.form.get("password", "")},
        f"The password of {user.username} was reset; their open sessions have ended.",
    )


@bp.post("/<int:user_id>/access")
@admin_required
def set_access(user_id):
    user = _get(user_id)
    data = {
        "restrict_camera_access": _checked("restrict_camera_access"),
        "allowed_camera_ids": _ids("allowed_camera_ids"),
        "allowed_group_ids": _ids("allowed_group_ids"),
    }
    return _apply(user, data, f"Camera access of {user.username} was saved.")


@bp.post("/<int:user_id>/disable-2fa")
@admin_required
def disable_2fa(user_id):
    user = _get(user_id)
    return _apply(
        user,
        {"is_2fa_enabled": False},
        f"Two-factor authentication is off for {user.username}; their recovery codes and trusted devices are gone.",
    )


@bp.post("/<int:user_id>/delete")
@admin_required
def delete(user_id):
    user = _get(user_id)
    try:
        service.delete_user(user, acting_user=current_user)
    except ConflictError as exc:
        return _edit(user, [str(exc)], 409)
    flash(f"{user.username} was deleted, with their API tokens, recovery codes and trusted devices.", "success")
    return redirect(url_for("users.list_page"))

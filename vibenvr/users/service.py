"""Users: validated create, update and delete for the API, the pages and the terminal.

One rule guards them all: the last active admin cannot be deleted, demoted or disabled.
"""

import re

from peewee import SqliteDatabase, fn

from ..auth import sessions, twofactor
from ..auth.passwords import hash_password, password_problem
from ..db import current_row, db, save_changes, write_transaction
from ..models import Camera, Group, User
from ..timeutil import iso
from ..validation import (
    REQUIRED,
    ConflictError,
    FieldError,
    ValidationError,
    boolean,
    choice,
    clean_object,
    id_list,
    text,
)

ROLES = ("admin", "viewer")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")


def username(value, field):
    value = text(64, required=True)(value, field)
    if not USERNAME.match(value):
        raise FieldError(field, "may hold letters, digits and . _ @ - (up to 64, starting with a letter or digit)")
    return value


def email(value, field):
    value = text(320)(value, field)
    if value and not EMAIL.match(value):
        raise FieldError(field, f"has {value!r}, which is not an e-mail address")
    return value


def language(value, field):
    value = text(10, required=True)(value, field)
    if not LANGUAGE.match(value):
        raise FieldError(field, f"has {value!r}; use a language code such as en or pt-BR")
    return value


def password(value, field):
    if not isinstance(value, str):
        raise FieldError(field, "must be text")
    problem = password_problem(value)
    if problem:
        raise FieldError(field, problem)
    return value


def two_factor_off(value, field):
    if value is not False:
        raise FieldError(field, "can only be set to false here; users turn 2FA on from their Security page")
    return value


USER_SCHEMA = {
    "username": (username, REQUIRED),
    "email": (email, ""),
    "password": (password, REQUIRED),
    "role": (choice(*ROLES), "viewer"),
    "language": (language, "en"),
    "is_active": (boolean, True),
    "restrict_camera_access": (boolean, False),
    "allowed_camera_ids": (id_list, list),
    "allowed_group_ids": (id_list, list),
}
UPDATE_SCHEMA = {**USER_SCHEMA, "is_2fa_enabled": (two_factor_off, REQUIRED)}


def user_to_dict(user):
    """The user in the API vocabulary: never a hash or a secret."""
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "language": user.language,
        "is_active": user.is_active_user,
        "is_2fa_enabled": user.is_2fa_enabled,
        "restrict_camera_access": user.restrict_camera_access,
        "allowed_camera_ids": list(user.allowed_camera_ids or []),
        "allowed_group_ids": list(user.allowed_group_ids or []),
        "created_at": iso(user.created_at),
    }


def list_users():
    return list(User.select().order_by(fn.LOWER(User.username)))


def _check_references(clean):
    for field, model, label in (("allowed_camera_ids", Camera, "cameras"), ("allowed_group_ids", Group, "groups")):
        ids = clean.get(field)
        if ids:
            found = {row.id for row in model.select(model.id).where(model.id.in_(ids))}
            missing = [i for i in ids if i not in found]
            if missing:
                raise ValidationError([FieldError(field, f"refers to {label} that do not exist: {missing}")])


def _check_unique(name, exclude_id=None):
    query = User.select().where(fn.LOWER(User.username) == name.lower())
    if exclude_id is not None:
        query = query.where(User.id != exclude_id)
    if query.exists():
        raise ConflictError(f'username: a user named "{name}" already exists')


def _other_active_admins(user_id):
    query = User.select().where((User.role == "admin") & (User.is_active_user == True) & (User.id != user_id))  # noqa: E712
    if not isinstance(db.obj, SqliteDatabase):
        query = query.for_update()
    return query.count()


def _guard_last_admin(user, role, active, action):
    losing_admin = user.role == "admin" and user.is_active_user and (role != "admin" or not active)
    if losing_admin and _other_active_admins(user.id) == 0:
        raise ConflictError(
            f"{user.username} is the last active admin and cannot be {action}; make another user an admin first"
        )


def create_user(data):
    """Validate ``data`` (API vocabulary, ``password`` in plain) and create the user."""
    clean, _ = clean_object(USER_SCHEMA, data)
    _check_references(clean)  # refused before the slow hash; checked again inside the transaction
    _check_unique(clean["username"])
    hashed = hash_password(clean.pop("password"))
    clean["is_active_user"] = clean.pop("is_active")
    with write_transaction():
        _check_references(clean)
        _check_unique(clean["username"])
        return User.create(hashed_password=hashed, **clean)


def update_user(user, data):
    """Apply a partial update. ``password`` resets the password; ``is_2fa_enabled: false`` turns 2FA off."""
    clean, _ = clean_object(UPDATE_SCHEMA, data, partial=True)
    if "password" in clean:  # the slow hash, before the transaction
        clean["hashed_password"] = hash_password(clean.pop("password"))
    with write_transaction():
        user = current_row(User, user.id, "user")
        _check_references(clean)
        if "username" in clean:
            _check_unique(clean["username"], exclude_id=user.id)
        role = clean.get("role", user.role)
        active = clean.get("is_active", user.is_active_user)
        action = "demoted" if role != "admin" else "disabled"
        _guard_last_admin(user, role, active, action)
        if clean.pop("is_2fa_enabled", True) is False and (user.is_2fa_enabled or user.totp_secret):
            twofactor.disable(user)
        if "is_active" in clean:
            clean["is_active_user"] = clean.pop("is_active")
        save_changes(user, clean)
        if "hashed_password" in clean or clean.get("is_active_user") is False:
            sessions.end_all(user.id)  # a reset password or a disabled account signs every browser out
    return user


def delete_user(user, acting_user=None):
    if acting_user is not None and acting_user.id == user.id:
        raise ConflictError("you cannot delete your own account; ask another admin")
    with write_transaction():
        user = current_row(User, user.id, "user")
        _guard_last_admin(user, None, False, "deleted")
        user.delete_instance(recursive=True)
        sessions.end_all(user.id)


def set_password(user, plain):
    """Set a new password (policy checked); every session of the user ends with it."""
    return update_user(user, {"password": plain})


def active_admin_count():
    return User.select().where((User.role == "admin") & (User.is_active_user == True)).count()  # noqa: E712

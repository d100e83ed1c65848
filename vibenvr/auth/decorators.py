"""Access decorators: pages redirect to login, htmx gets HX-Redirect, the API gets 401/403 JSON."""

from functools import wraps

from flask import abort
from flask_login import current_user

from ..http import is_api_request


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            abort(401)
        return view(*args, **kwargs)

    wrapped.access = "user"
    return wrapped


def admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            abort(401)
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    wrapped.access = "admin"
    return wrapped


def public(view):
    """Mark a view as deliberately open to everyone (the permission matrix checks for a mark)."""
    view.access = "public"
    return view


__all__ = ["login_required", "admin_required", "public", "is_api_request"]

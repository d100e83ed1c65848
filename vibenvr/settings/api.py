"""``/api/settings``: every setting as a typed value; PATCH validates every key before saving any."""

from flask import Blueprint, jsonify

from ..auth.decorators import admin_required
from ..http import json_body
from .service import get_settings, update_settings

bp = Blueprint("settings_api", __name__, url_prefix="/api/settings")


@bp.get("")
@admin_required
def read_settings():
    return jsonify(get_settings())


@bp.patch("")
@admin_required
def patch_settings():
    update_settings(json_body())
    return jsonify(get_settings())

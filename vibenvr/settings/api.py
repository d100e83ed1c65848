"""``/api/settings``: every setting as a typed value; PATCH validates every key before saving any. Secret
settings are ``null`` with ``<key>_set`` beside them (``?include_secrets=true`` for the plain values)."""

from flask import Blueprint, jsonify

from .. import masking
from ..auth.decorators import admin_required
from ..http import json_body
from .registry import SETTINGS
from .service import get_settings, update_settings

bp = Blueprint("settings_api", __name__, url_prefix="/api/settings")


def _answer():
    return jsonify(masking.settings_answer(get_settings(), SETTINGS, masking.include_secrets_requested()))


@bp.get("")
@admin_required
def read_settings():
    return _answer()


@bp.patch("")
@admin_required
def patch_settings():
    masking.include_secrets_requested()  # a wrong word is refused before anything is saved
    update_settings(masking.settings_write(json_body(), SETTINGS))
    return _answer()

"""``/api/sanity/pause`` (admin only): how the HTTP sanity script pauses automatic backups on the server.

Pausing is what keeps a run zero-trace: toggling the backup settings would otherwise make the scheduler
take a backup or move its next run. The pause ends by itself (at most two hours), so a script that dies
does not stop backups for good.
"""

from flask import Blueprint, current_app, jsonify

from ..auth.decorators import admin_required
from ..backups.automation.pause import DEFAULT_MINUTES, MAX_MINUTES, PauseBusy, current_pause, end_pause, start_pause
from ..backups.service import clock
from ..errors import render_error
from ..http import json_body
from ..validation import FieldError, ValidationError, clean_object, integer, text

bp = Blueprint("sanity_api", __name__, url_prefix="/api/sanity")

PAUSE_SCHEMA = {"minutes": (integer(1, MAX_MINUTES), DEFAULT_MINUTES), "by": (text(100), "")}


@bp.get("/pause")
@admin_required
def read_pause():
    pause = current_pause(current_app.config["DATA_DIR"], clock())
    return jsonify({"paused": pause is not None, **(pause.to_dict() if pause else {"paused_until": None})})


@bp.post("/pause")
@admin_required
def pause_backups():
    clean, _ = clean_object(PAUSE_SCHEMA, json_body(required=False))
    try:
        pause = start_pause(current_app.config["DATA_DIR"], clock(), clean["by"] or "HTTP sanity run", clean["minutes"])
    except ValueError as exc:
        raise ValidationError([FieldError("minutes", str(exc))]) from None
    return jsonify({"paused": True, **pause.to_dict()}), 201


@bp.delete("/pause")
@admin_required
def resume_backups():
    end_pause(current_app.config["DATA_DIR"])
    return "", 204


@bp.errorhandler(PauseBusy)
def _busy(exc):
    return render_error(409, str(exc))

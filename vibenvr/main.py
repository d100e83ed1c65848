"""The home page and the health check."""

from flask import Blueprint, jsonify, redirect, url_for

from .auth.decorators import login_required, public

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def index():
    return redirect(url_for("cameras.list_page"))


@bp.get("/api/health")
@public
def health():
    return jsonify({"status": "ok"})

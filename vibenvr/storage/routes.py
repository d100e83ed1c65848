"""Storage profile pages (admins only): list, create, edit, delete."""

from flask import Blueprint, render_template, request, url_for
from peewee import fn

from ..auth.decorators import admin_required
from ..models import Camera, StorageProfile
from ..pages import FormErrors, after_delete, done, form_number, get_or_404, render, status_for
from ..validation import ConflictError, ValidationError
from . import service

bp = Blueprint("storage", __name__, url_prefix="/storage")


def _get(profile_id):
    return get_or_404(StorageProfile, profile_id, "Storage profile")


def _camera_counts():
    query = (
        Camera.select(Camera.storage_profile, fn.COUNT(Camera.id))
        .where(Camera.storage_profile.is_null(False))
        .group_by(Camera.storage_profile)
    )
    return dict(query.tuples())


def _list_context():
    return {"profiles": service.list_profiles(), "camera_counts": _camera_counts()}


@bp.get("")
@admin_required
def list_page():
    return render("storage/list.html", "storage/_list.html", **_list_context())


def _form_response(values, profile=None, errors=None, status=200):
    context = {"values": values, "profile": profile, "errors": errors or FormErrors()}
    return render("storage/form.html", "storage/_form.html", status, **context)


def _save(profile=None):
    data = {
        "name": request.form.get("name", ""),
        "path": request.form.get("path", ""),
        "description": request.form.get("description", ""),
        "max_size_gb": form_number(request.form.get("max_size_gb")),
    }
    try:
        saved = service.create_profile(data) if profile is None else service.update_profile(profile, data)
    except (ValidationError, ConflictError) as exc:
        return _form_response(data, profile, FormErrors.from_exception(exc), status_for(exc))
    return done(f"Storage profile “{saved.name}” {'added' if profile is None else 'saved'}.", "storage.list_page")


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    if request.method == "POST":
        return _save()
    return _form_response({"name": "", "path": "", "description": "", "max_size_gb": 0})


@bp.route("/<int:profile_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(profile_id):
    profile = _get(profile_id)
    if request.method == "POST":
        return _save(profile)
    return _form_response(service.profile_to_dict(profile), profile)


@bp.route("/<int:profile_id>/delete", methods=["GET", "POST"])
@admin_required
def delete(profile_id):
    """GET asks for confirmation (the path without JavaScript); POST deletes."""
    profile = _get(profile_id)
    if request.method == "GET":
        count = _camera_counts().get(profile.id, 0)
        using = (
            f"{count} camera{'s use' if count != 1 else ' uses'} it; they will record to the default storage instead."
            if count
            else "No camera uses it."
        )
        return render_template(
            "_confirm_delete.html",
            kind="storage profile",
            name=profile.name,
            action=url_for("storage.delete", profile_id=profile.id),
            back=url_for("storage.list_page"),
            consequence=f"{using} Files in {profile.path} are not touched.",
        )
    name = profile.name
    service.delete_profile(profile)
    return after_delete(f"Storage profile “{name}” deleted.", "storage.list_page", "storage/_list.html", _list_context)

"""Camera pages: the list (viewers see the cameras they may see), create, edit and delete (admins)."""

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from .. import masking
from ..access import visible_camera_ids
from ..auth.decorators import admin_required, login_required
from ..models import Camera, Group
from ..pages import FormErrors, after_delete, done, get_or_404, render, status_for
from ..settings.service import get_setting
from ..storage.service import list_profiles
from ..validation import ConflictError, ValidationError
from . import forms, service

bp = Blueprint("cameras", __name__, url_prefix="/cameras")


def _get(camera_id):
    return get_or_404(Camera, camera_id, "Camera")


def _list_context():
    cameras = service.list_cameras(visible_camera_ids(current_user))
    groups = {g.id: g.name for g in Group.select(Group.id, Group.name)}
    memberships = service.group_ids_by_camera()
    names = {c.id: sorted(groups[g] for g in memberships.get(c.id, []) if g in groups) for c in cameras}
    return {"cameras": cameras, "group_names": names}


@bp.get("")
@login_required
def list_page():
    return render("cameras/list.html", "cameras/_list.html", **_list_context())


def _form_response(camera_form, camera=None, status=200):
    context = {
        "form": camera_form,
        "camera": camera,
        "profile_options": [("", "Default storage")] + [(p.id, p.name) for p in list_profiles()],
        "groups": list(Group.select().order_by(Group.name)),
        "shapes": {field: forms.shapes_for(camera_form, field) for field in forms.POLYGON_FIELDS},
        "frame": (forms.FRAME_W, forms.FRAME_H),
    }
    return render("cameras/form.html", "cameras/_form.html", status, **context)


def _save(camera=None):
    data, camera_form = forms.parse_form(request.form, creating=camera is None)
    if camera is not None:
        camera_form.has_password = bool(camera.onvif_password)
    if camera_form.errors:
        return _form_response(camera_form, camera, 422)
    try:
        saved = service.create_camera(data) if camera is None else service.update_camera(camera, data)
    except (ValidationError, ConflictError) as exc:
        camera_form.errors = FormErrors.from_exception(exc)
        return _form_response(camera_form, camera, status_for(exc))
    verb = "added" if camera is None else "saved"
    return done(f"Camera “{saved.name}” {verb}.", "cameras.list_page")


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    if request.method == "POST":
        return _save()
    return _form_response(forms.CameraForm.for_camera(forms.defaults(get_setting("default_retention_days"))))


@bp.route("/<int:camera_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(camera_id):
    camera = _get(camera_id)
    if request.method == "POST":
        return _save(camera)
    data = service.camera_to_dict(camera, group_ids=service.group_ids_by_camera().get(camera.id, []))
    data = masking.camera_answer(data, viewer=False)  # rtsp://user:***@…; saving it unchanged keeps them
    return _form_response(forms.CameraForm.for_camera(data, has_password=bool(camera.onvif_password)), camera)


@bp.route("/<int:camera_id>/delete", methods=["GET", "POST"])
@admin_required
def delete(camera_id):
    """GET asks for confirmation (the path without JavaScript); POST deletes."""
    camera = _get(camera_id)
    if request.method == "GET":
        return render_template(
            "_confirm_delete.html",
            kind="camera",
            name=camera.name,
            action=url_for("cameras.delete", camera_id=camera.id),
            back=url_for("cameras.list_page"),
            consequence="Its masks, zones, schedule and group memberships are deleted with it. "
            "Recordings on disk are not touched.",
        )
    name = camera.name
    service.delete_camera(camera)
    return after_delete(f"Camera “{name}” deleted.", "cameras.list_page", "cameras/_list.html", _list_context)

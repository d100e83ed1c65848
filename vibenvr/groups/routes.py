"""Group pages: the list (viewers see the groups they may see), create, edit with cameras, delete (admins)."""

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from ..access import visible_camera_ids, visible_group_ids
from ..auth.decorators import admin_required, login_required
from ..cameras.service import list_cameras
from ..models import Group
from ..pages import FormErrors, after_delete, done, form_ids, get_or_404, render, status_for
from ..validation import ConflictError, ValidationError
from . import service

bp = Blueprint("groups", __name__, url_prefix="/groups")


def _get(group_id):
    return get_or_404(Group, group_id, "Group")


def _list_context():
    allowed_groups = visible_group_ids(current_user)
    cameras = {c.id: c.name for c in list_cameras(visible_camera_ids(current_user))}
    members = service.camera_ids_by_group()
    groups = [g for g in service.list_groups() if allowed_groups is None or g.id in allowed_groups]
    names = {g.id: [cameras[c] for c in members.get(g.id, []) if c in cameras] for g in groups}
    return {"groups": groups, "camera_names": names}


@bp.get("")
@login_required
def list_page():
    return render("groups/list.html", "groups/_list.html", **_list_context())


def _form_response(values, group=None, errors=None, status=200):
    context = {"values": values, "group": group, "errors": errors or FormErrors(), "cameras": list_cameras()}
    return render("groups/form.html", "groups/_form.html", status, **context)


def _save(group=None):
    data = {
        "name": request.form.get("name", ""),
        "description": request.form.get("description", ""),
        "camera_ids": form_ids(request.form, "camera_ids"),
    }
    try:
        saved = service.create_group(data) if group is None else service.update_group(group, data)
    except (ValidationError, ConflictError) as exc:
        return _form_response(data, group, FormErrors.from_exception(exc), status_for(exc))
    return done(f"Group “{saved.name}” {'added' if group is None else 'saved'}.", "groups.list_page")


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    if request.method == "POST":
        return _save()
    return _form_response({"name": "", "description": "", "camera_ids": []})


@bp.route("/<int:group_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(group_id):
    group = _get(group_id)
    if request.method == "POST":
        return _save(group)
    return _form_response(service.group_to_dict(group, service.camera_ids_by_group().get(group.id, [])), group)


@bp.route("/<int:group_id>/delete", methods=["GET", "POST"])
@admin_required
def delete(group_id):
    """GET asks for confirmation (the path without JavaScript); POST deletes."""
    group = _get(group_id)
    if request.method == "GET":
        return render_template(
            "_confirm_delete.html",
            kind="group",
            name=group.name,
            action=url_for("groups.delete", group_id=group.id),
            back=url_for("groups.list_page"),
            consequence="Its cameras stay; they just leave this group. Users allowed to see this group lose that access.",
        )
    name = group.name
    service.delete_group(group)
    return after_delete(f"Group “{name}” deleted.", "groups.list_page", "groups/_list.html", _list_context)

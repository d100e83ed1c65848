"""Groups and their cameras. Membership can be set from the group's side or the camera's."""

from peewee import IntegrityError

from ..access import forget_in_allow_lists
from ..db import current_row, save_changes, write_transaction
from ..models import Camera, CameraGroup, Group
from ..validation import ConflictError, FieldError, ValidationError, clean_object
from .schema import GROUP_API_SCHEMA


def group_to_dict(group, camera_ids=None):
    data = {"id": group.id, "name": group.name, "description": group.description}
    if camera_ids is not None:
        data["camera_ids"] = camera_ids
    return data


def camera_ids_by_group():
    result = {}
    for camera_id, group_id in CameraGroup.select(CameraGroup.camera, CameraGroup.group).tuples():
        result.setdefault(group_id, []).append(camera_id)
    return {key: sorted(value) for key, value in result.items()}


def list_groups():
    return list(Group.select().order_by(Group.name))


def _check_cameras(camera_ids):
    if camera_ids:
        found = {c.id for c in Camera.select(Camera.id).where(Camera.id.in_(camera_ids))}
        missing = [cid for cid in camera_ids if cid not in found]
        if missing:
            raise ValidationError([FieldError("camera_ids", f"refers to cameras that do not exist: {missing}")])


def _check_unique_name(name, exclude_id=None):
    query = Group.select().where(Group.name == name)
    if exclude_id is not None:
        query = query.where(Group.id != exclude_id)
    if query.exists():
        raise ConflictError(f'name: a group named "{name}" already exists')


def set_group_cameras(group_id, camera_ids):
    CameraGroup.delete().where(CameraGroup.group == group_id).execute()
    if camera_ids:
        CameraGroup.insert_many([{"camera": cid, "group": group_id} for cid in camera_ids]).execute()


def create_group(data):
    clean, _ = clean_object(GROUP_API_SCHEMA, data)
    camera_ids = clean.pop("camera_ids")
    try:
        with write_transaction():
            _check_cameras(camera_ids)
            _check_unique_name(clean["name"])
            group = Group.create(**clean)
            set_group_cameras(group.id, camera_ids)
    except IntegrityError:
        raise ConflictError(f'name: a group named "{clean["name"]}" already exists') from None
    return group


def update_group(group, data):
    """Apply a partial update to the row as it is now; only the fields present are written (SPEC §12)."""
    clean, _ = clean_object(GROUP_API_SCHEMA, data, partial=True)
    camera_ids = clean.pop("camera_ids", None)
    try:
        with write_transaction():
            group = current_row(Group, group.id, "group")
            _check_cameras(camera_ids)
            if "name" in clean:
                _check_unique_name(clean["name"], exclude_id=group.id)
            save_changes(group, clean)
            if camera_ids is not None:
                set_group_cameras(group.id, camera_ids)
    except IntegrityError:
        raise ConflictError(f'name: a group named "{clean.get("name")}" already exists') from None
    return group


def delete_group(group):
    with write_transaction():
        CameraGroup.delete().where(CameraGroup.group == group.id).execute()
        forget_in_allow_lists(group_id=group.id)
        group.delete_instance()

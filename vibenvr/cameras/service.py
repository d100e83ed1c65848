"""Cameras: create, update, delete and describe, for the API, the pages and the sanity checks."""

from peewee import IntegrityError

from ..access import forget_in_allow_lists
from ..db import current_row, save_changes, write_transaction
from ..masking import keep_stored_camera_secrets
from ..models import Camera, CameraGroup, Group, StorageProfile
from ..timeutil import iso
from ..validation import ConflictError, FieldError, ValidationError, clean_object
from .schema import CAMERA_API_SCHEMA, CAMERA_SCHEMA

CAMERA_FIELDS = tuple(CAMERA_SCHEMA)


def camera_to_dict(camera, group_ids=None):
    """The camera in the shared vocabulary; ``group_ids`` is added when given."""
    data = {"id": camera.id}
    for field in CAMERA_FIELDS:
        data[field] = getattr(camera, field)
    data["created_at"] = iso(camera.created_at)
    if group_ids is not None:
        data["group_ids"] = group_ids
    return data


def group_ids_by_camera():
    """{camera_id: [group ids]} in one query."""
    result = {}
    for camera_id, group_id in CameraGroup.select(CameraGroup.camera, CameraGroup.group).tuples():
        result.setdefault(camera_id, []).append(group_id)
    return {key: sorted(value) for key, value in result.items()}


def list_cameras(visible_ids=None):
    query = Camera.select().order_by(Camera.sort_order, Camera.name)
    if visible_ids is not None:
        query = query.where(Camera.id.in_(list(visible_ids) or [0]))
    return list(query)


def _check_references(clean):
    profile_id = clean.get("storage_profile_id")
    if profile_id is not None and not StorageProfile.select().where(StorageProfile.id == profile_id).exists():
        raise ValidationError(
            [FieldError("storage_profile_id", f"refers to storage profile {profile_id}, which does not exist")]
        )
    group_ids = clean.get("group_ids")
    if group_ids:
        found = {g.id for g in Group.select(Group.id).where(Group.id.in_(group_ids))}
        missing = [gid for gid in group_ids if gid not in found]
        if missing:
            raise ValidationError([FieldError("group_ids", f"refers to groups that do not exist: {missing}")])


def _check_unique_name(name, exclude_id=None):
    query = Camera.select().where(Camera.name == name)
    if exclude_id is not None:
        query = query.where(Camera.id != exclude_id)
    if query.exists():
        raise ConflictError(f'name: a camera named "{name}" already exists')


def set_camera_groups(camera_id, group_ids):
    CameraGroup.delete().where(CameraGroup.camera == camera_id).execute()
    if group_ids:
        CameraGroup.insert_many([{"camera": camera_id, "group": gid} for gid in group_ids]).execute()


def create_camera(data):
    """Validate ``data`` (API vocabulary) and create the camera. Raises ValidationError / ConflictError."""
    clean, _ = clean_object(CAMERA_API_SCHEMA, data)
    group_ids = clean.pop("group_ids")
    keep_stored_camera_secrets(clean, None)  # a masked *** here has nothing to keep: refused
    try:
        with write_transaction():
            _check_references({**clean, "group_ids": group_ids})
            _check_unique_name(clean["name"])
            camera = Camera.create(**clean)
            set_camera_groups(camera.id, group_ids)
    except IntegrityError:
        raise ConflictError(f'name: a camera named "{clean["name"]}" already exists') from None
    return camera


def update_camera(camera, data):
    """Apply a partial update to the row as it is now; only the fields present are written (SPEC §12)."""
    clean, _ = clean_object(CAMERA_API_SCHEMA, data, partial=True)
    group_ids = clean.pop("group_ids", None)
    try:
        with write_transaction():
            camera = current_row(Camera, camera.id, "camera")
            keep_stored_camera_secrets(clean, camera)  # a masked URL written back keeps its credentials
            _check_references({**clean, "group_ids": group_ids})
            if "name" in clean:
                _check_unique_name(clean["name"], exclude_id=camera.id)
            save_changes(camera, clean)
            if group_ids is not None:
                set_camera_groups(camera.id, group_ids)
    except IntegrityError:
        raise ConflictError(f'name: a camera named "{clean.get("name")}" already exists') from None
    return camera


def delete_camera(camera):
    with write_transaction():
        CameraGroup.delete().where(CameraGroup.camera == camera.id).execute()
        forget_in_allow_lists(camera_id=camera.id)
        camera.delete_instance()

"""``/api/groups``: viewers read the groups they may see; admins change them and their cameras."""

from flask_login import current_user

from ..access import visible_camera_ids, visible_group_ids
from ..crud import crud_blueprint
from ..models import Group
from . import service


def _camera_ids(group_id, members, visible_cameras):
    ids = members.get(group_id, [])
    return ids if visible_cameras is None else [i for i in ids if i in visible_cameras]


def _to_dict(group):
    members = service.camera_ids_by_group()
    return service.group_to_dict(group, _camera_ids(group.id, members, visible_camera_ids(current_user)))


def _list(visible):
    members = service.camera_ids_by_group()
    cameras = visible_camera_ids(current_user)
    groups = [g for g in service.list_groups() if visible is None or g.id in visible]
    return [service.group_to_dict(g, _camera_ids(g.id, members, cameras)) for g in groups]


bp = crud_blueprint(
    "groups_api",
    "/api/groups",
    Group,
    to_dict=_to_dict,
    list_items=_list,
    create=service.create_group,
    update=service.update_group,
    delete=service.delete_group,
    viewer_can_read=True,
    visible_ids=visible_group_ids,
)

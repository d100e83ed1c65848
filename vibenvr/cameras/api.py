"""``/api/cameras``: viewers read the cameras they may see; admins change them."""

from ..access import visible_camera_ids
from ..crud import crud_blueprint
from ..models import Camera
from . import service


def _to_dict(camera):
    groups = service.group_ids_by_camera().get(camera.id, [])
    return service.camera_to_dict(camera, group_ids=groups)


def _list(visible):
    groups = service.group_ids_by_camera()
    return [service.camera_to_dict(c, group_ids=groups.get(c.id, [])) for c in service.list_cameras(visible)]


bp = crud_blueprint(
    "cameras_api", "/api/cameras", Camera,
    to_dict=_to_dict, list_items=_list,
    create=service.create_camera, update=service.update_camera, delete=service.delete_camera,
    viewer_can_read=True, visible_ids=visible_camera_ids,
)

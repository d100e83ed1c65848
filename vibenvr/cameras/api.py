"""``/api/cameras``: viewers read the cameras they may see; admins change them. Credentials are masked
(vibenvr/masking.py); ``?include_secrets=true`` gives admins the plain values."""

from .. import masking
from ..access import visible_camera_ids
from ..crud import crud_blueprint
from ..models import Camera
from . import service


def _answer(camera, group_ids):
    data = service.camera_to_dict(camera, group_ids=group_ids)
    return masking.camera_answer(data, viewer=masking.for_viewer(), include_secrets=masking.include_secrets_requested())


def _to_dict(camera):
    return _answer(camera, service.group_ids_by_camera().get(camera.id, []))


def _list(visible):
    groups = service.group_ids_by_camera()
    return [_answer(c, groups.get(c.id, [])) for c in service.list_cameras(visible)]


def _create(body):
    return service.create_camera(masking.camera_write(body))


def _update(camera, body):
    return service.update_camera(camera, masking.camera_write(body))


bp = crud_blueprint(
    "cameras_api",
    "/api/cameras",
    Camera,
    to_dict=_to_dict,
    list_items=_list,
    create=_create,
    update=_update,
    delete=service.delete_camera,
    viewer_can_read=True,
    visible_ids=visible_camera_ids,
)


@bp.before_request
def _check_include_secrets():
    """A viewer's (or a wrong) ``include_secrets`` is refused before anything is read or written."""
    masking.include_secrets_requested()

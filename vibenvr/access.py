"""Which cameras and groups a user may see (SPEC §3: restricted viewers)."""

from .models import CameraGroup


def visible_camera_ids(user):
    """None when the user sees every camera, else the set of camera ids they may see."""
    if user.is_admin or not user.restrict_camera_access:
        return None
    ids = set(user.allowed_camera_ids or [])
    group_ids = list(user.allowed_group_ids or [])
    if group_ids:
        query = CameraGroup.select(CameraGroup.camera).where(CameraGroup.group.in_(group_ids))
        ids.update(camera_id for (camera_id,) in query.tuples())
    return ids


def visible_group_ids(user):
    """None when the user sees every group, else the allowed groups plus those of visible cameras."""
    cameras = visible_camera_ids(user)
    if cameras is None:
        return None
    ids = set(user.allowed_group_ids or [])
    if cameras:
        query = CameraGroup.select(CameraGroup.group).where(CameraGroup.camera.in_(list(cameras)))
        ids.update(group_id for (group_id,) in query.tuples())
    return ids

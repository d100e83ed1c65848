"""Which cameras and groups a user may see (SPEC §3: restricted viewers)."""

from .models import CameraGroup, User


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


def forget_in_allow_lists(camera_id=None, group_id=None):
    """Remove a camera or group that is being deleted from every user's allow-list (SPEC §12).

    Call it inside the transaction that deletes the row: a backup taken afterwards must not refer to
    it, or that backup would be refused on restore. Only the users that listed it are written.
    """
    field, gone = (User.allowed_camera_ids, camera_id) if camera_id is not None else (User.allowed_group_ids, group_id)
    for user_id, ids in User.select(User.id, field).tuples():
        if ids and gone in ids:
            User.update({field: [i for i in ids if i != gone]}).where(User.id == user_id).execute()

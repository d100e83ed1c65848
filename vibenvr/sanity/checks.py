"""The in-process sanity checks: the service layer, settings, a backup round trip and hostile imports.

Each check makes its own objects (named ``sanity-…``), changes and deletes them, and returns a one-line
summary; a wrong answer raises CheckFailure. They run inside the zero-trace guard, which puts back
anything a failing check leaves behind. They need an app context and a database connection.
"""

import secrets
from dataclasses import dataclass, field

from ..auth.passwords import verify_password
from ..auth.tokens import user_for_token
from ..backups import service as backups
from ..backups.document.export import export_document
from ..backups.errors import BackupError
from ..cameras.service import create_camera, delete_camera, update_camera
from ..groups.service import create_group, delete_group, update_group
from ..models import ApiToken, Camera, CameraGroup, Group, StorageProfile, User
from ..security.tokens import create_token, revoke_token, update_token
from ..settings.registry import SETTINGS
from ..settings.service import get_settings, update_settings
from ..storage.service import create_profile, delete_profile, update_profile
from ..users.service import active_admin_count, create_user, delete_user, set_password, update_user
from ..validation import ConflictError, ValidationError
from .access import check_viewer_denied
from .guard import differing_sections
from .hostile import hostile_files
from .runner import expect, refused
from .values import alternative, invalid_value


@dataclass
class Context:
    """What the checks share: a tag that makes their names unique, and the app they run in."""

    app: object
    tag: str = field(default_factory=lambda: secrets.token_hex(3))

    def name(self, what):
        return f"sanity-{self.tag}-{what}"


def _camera(ctx, **fields):
    data = {"name": ctx.name("camera"), "rtsp_url": "rtsp://sanity:p%40ss@192.0.2.10:554/stream1",
            "privacy_masks": [[[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]]],
            "schedule": {"monday": [["20:00", "07:00"]], "sunday": []}}
    return create_camera({**data, **fields})


def storage_profiles(ctx):
    profile = create_profile({"name": ctx.name("disk"), "path": "/recordings/sanity", "max_size_gb": 1})
    update_profile(profile, {"description": "changed by the sanity run", "max_size_gb": 2})
    expect(StorageProfile.get_by_id(profile.id).max_size_gb == 2, "a changed max_size_gb was not saved")
    refused(lambda: create_profile({"name": ctx.name("bad"), "path": "/recordings/../etc"}), ValidationError,
            "a storage path with ..")
    delete_profile(profile)
    expect(StorageProfile.get_or_none(StorageProfile.id == profile.id) is None, "a deleted profile is still there")
    return "created, changed and deleted a profile; a path with .. was refused"


def cameras(ctx):
    profile = create_profile({"name": ctx.name("camera-disk"), "path": "/recordings/sanity-cameras"})
    camera = _camera(ctx, storage_profile_id=profile.id)
    update_camera(camera, {"location": "Sanity check", "schedule": {"friday": [["00:00", "24:00"]]},
                           "motion_zones": [[[0, 0], [1, 0], [1, 1]]]})
    saved = Camera.get_by_id(camera.id)
    expect(saved.location == "Sanity check" and saved.schedule == {"friday": [["00:00", "24:00"]]},
           "a camera change was not saved")
    refused(lambda: update_camera(saved, {"rtsp_url": "file:///etc/passwd"}), ValidationError, "a file: camera URL")
    refused(lambda: _camera(ctx, name=ctx.name("camera-2"), privacy_masks=[[[0, 0], [2, 0], [1, 1]]]),
            ValidationError, "a privacy mask outside the frame")
    delete_profile(profile)
    expect(Camera.get_by_id(camera.id).storage_profile_id is None, "deleting a profile left its camera pointing at it")
    delete_camera(Camera.get_by_id(camera.id))
    expect(Camera.get_or_none(Camera.id == camera.id) is None, "a deleted camera is still there")
    return "created, changed and deleted a camera with a storage profile; bad URLs and masks were refused"


def groups(ctx):
    first, second = _camera(ctx), _camera(ctx, name=ctx.name("camera-b"))
    group = create_group({"name": ctx.name("group"), "camera_ids": [first.id]})
    update_group(group, {"description": "changed", "camera_ids": [first.id, second.id]})
    members = {row.camera_id for row in CameraGroup.select().where(CameraGroup.group == group.id)}
    expect(members == {first.id, second.id}, f"the group holds cameras {sorted(members)} after the change")
    refused(lambda: create_group({"name": ctx.name("group-bad"), "camera_ids": [987654321]}), ValidationError,
            "a group with a missing camera")
    delete_group(Group.get_by_id(group.id))
    expect(Camera.get_or_none(Camera.id == first.id) is not None, "deleting a group deleted its cameras")
    expect(not CameraGroup.select().where(CameraGroup.group == group.id).exists(), "a deleted group kept members")
    for camera in (first, second):
        delete_camera(Camera.get_by_id(camera.id))
    return "created, changed and deleted a group of two cameras"


def users(ctx):
    password = secrets.token_urlsafe(12)
    user = create_user({"username": ctx.name("user"), "password": password, "role": "viewer", "language": "fr"})
    update_user(user, {"email": "sanity@example.invalid", "restrict_camera_access": True, "language": "de"})
    set_password(User.get_by_id(user.id), password + "-new")
    saved = User.get_by_id(user.id)
    expect(saved.language == "de" and saved.restrict_camera_access, "a user change was not saved")
    expect(verify_password(saved.hashed_password, password + "-new"), "the new password does not verify")
    refused(lambda: create_user({"username": ctx.name("user"), "password": password}), ConflictError, "a duplicate username")
    delete_user(saved)
    expect(User.get_or_none(User.id == user.id) is None, "a deleted user is still there")
    return "created, changed (password too) and deleted a viewer; a duplicate username was refused"


def tokens(ctx):
    owner = create_user({"username": ctx.name("token-owner"), "password": secrets.token_urlsafe(12)})
    token, plain = create_token({"name": ctx.name("token"), "expires_in_days": 1}, owner)
    expect(user_for_token(plain) == owner, "a new token does not sign its owner in")
    update_token(token, {"name": ctx.name("token-renamed")})
    revoke_token(ApiToken.get_by_id(token.id))
    expect(user_for_token(plain) is None, "a revoked token still signs in")
    ApiToken.get_by_id(token.id).delete_instance()
    delete_user(User.get_by_id(owner.id))
    return "created, renamed, revoked and deleted a token"


def settings(ctx):
    original = get_settings()
    changed = []
    for key in SETTINGS:
        value = alternative(key, get_settings()[key])
        if value is None:
            continue
        update_settings({key: value})
        expect(get_settings()[key] == value, f"{key} did not change to {value!r}")
        changed.append(key)
    bad = "backup_auto_frequency_hours"
    before = get_settings()[bad]
    refused(lambda: update_settings({bad: invalid_value(bad)}), ValidationError, f"an out-of-range {bad}")
    expect(get_settings()[bad] == before, f"a refused {bad} changed it anyway")
    update_settings(original)
    expect(get_settings() == original, "the settings could not be put back")
    backup_keys = [k for k in changed if k.startswith("backup_auto_")]
    return f"changed {len(changed)} settings (including {', '.join(backup_keys)}) and put them back"


def backup_round_trip(ctx):
    entry = backups.create_backup("manual")
    made = [entry.name]
    try:
        valid = backups.load_backup(entry.name)
        update_settings({"system_name": ctx.name("system")})
        camera = _camera(ctx)
        force = active_admin_count() == 0  # a system without an admin still restores its own backup
        answer = backups.restore(valid, force=force)
        made.append(answer["safety_backup"])
        expect(Camera.get_or_none(Camera.id == camera.id) is None, "a camera made after the backup survived its restore")
        differs = differing_sections(valid.doc, export_document("manual"))
        expect(not differs, f"after the restore the configuration differs from the backup in {differs}")
    finally:
        for name in made:
            backups.get_store().delete(name)
    return f"made {entry.name}, changed the configuration, restored it, deleted it and its safety backup"


def hostile_imports(ctx):
    profile = create_profile({"name": ctx.name("hostile-disk"), "path": "/recordings/sanity-hostile"})
    _camera(ctx, storage_profile_id=profile.id)
    owner = create_user({"username": ctx.name("hostile-owner"), "password": secrets.token_urlsafe(12)})
    create_token({"name": ctx.name("hostile-token")}, owner)
    doc = export_document("manual")
    store = backups.get_store()
    before = [e.name for e in store.list()]
    wrong = []
    table = hostile_files(doc)
    for label, data, status in table:
        try:
            backups.import_backup(data, source=label)
        except BackupError as exc:
            if exc.status != status:
                wrong.append(f"{label}: {exc.status} instead of {status}")
        else:
            wrong.append(f"{label}: accepted")
    expect([e.name for e in store.list()] == before, "a refused import left a file in the backup folder")
    expect(not wrong, "; ".join(wrong))
    delete_user(User.get_by_id(owner.id))
    for camera in Camera.select().where(Camera.storage_profile == profile.id):
        delete_camera(camera)
    delete_profile(StorageProfile.get_by_id(profile.id))
    return f"{len(table)} hostile files refused by import with the right status; none stored"


CHECKS = [
    ("storage_profiles", storage_profiles),
    ("cameras", cameras),
    ("groups", groups),
    ("users", users),
    ("tokens", tokens),
    ("settings", settings),
    ("backup_round_trip", backup_round_trip),
    ("viewer_denied", check_viewer_denied),
    ("hostile_imports", hostile_imports),
]

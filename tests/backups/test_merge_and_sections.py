"""``merge`` adds and updates by natural key and deletes nothing; partial restores keep references whole."""

import pytest

from vibenvr.backups.document.canonical import encode
from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.backups.errors import RestoreRefused
from vibenvr.backups.restore import restore_document
from vibenvr.models import ApiToken, Camera, CameraGroup, Group, Setting, StorageProfile, User

from .helpers import FAKE_ARGON2, recount, signed, snapshot
from builders import make_camera, make_group, make_profile, make_user


@pytest.fixture
def other_site(ctx):
    """A backup from another installation, then a different local configuration in its place."""
    profile = make_profile(name="Fast disk", path="/recordings/fast")
    garage = make_camera(name="Garage", framerate=25, storage_profile_id=profile.id)
    new = make_camera(name="New porch", storage_profile_id=profile.id)
    make_group(name="Outside", camera_ids=[garage.id, new.id])
    make_user("alice", role="admin", email="alice@new.example")
    make_user("bob", role="viewer", allowed_camera_ids=[new.id], restrict_camera_access=True)
    doc = export_document()
    for model in (CameraGroup, Camera, Group, StorageProfile, ApiToken, User):
        model.delete().execute()
    local_garage = make_camera(name="Garage", framerate=5)
    make_camera(name="Only here")
    make_group(name="Outside", camera_ids=[local_garage.id])
    make_user("alice", role="admin", email="alice@old.example")
    make_user("carol", role="admin")
    return doc


def test_merge_updates_by_name_adds_the_rest_and_deletes_nothing(other_site):
    before_ids = dict(Camera.select(Camera.name, Camera.id).tuples())
    result = restore_document(validate_document(encode(other_site)), mode="merge")
    cameras = {c.name: c for c in Camera.select()}
    assert set(cameras) == {"Garage", "Only here", "New porch"}
    assert cameras["Garage"].id == before_ids["Garage"] and cameras["Garage"].framerate == 25
    assert cameras["Garage"].storage_profile.name == "Fast disk"
    assert cameras["New porch"].id not in before_ids.values()
    outside = Group.get(Group.name == "Outside")
    members = {c.name for c in Camera.select().join(CameraGroup).where(CameraGroup.group == outside.id)}
    assert members == {"Garage", "New porch"}
    users = {u.username: u for u in User.select()}
    assert set(users) == {"alice", "bob", "carol"}
    assert users["alice"].email == "alice@new.example"
    assert users["bob"].allowed_camera_ids == [cameras["New porch"].id]
    assert result.counts["cameras"] == 2 and result.mode == "merge"


def test_merge_applies_only_the_settings_the_file_holds(ctx):
    Setting.update(value="Local name").where(Setting.key == "system_name").execute()
    doc = export_document()
    doc["settings"] = {"smtp_port": 2525}
    recount(doc)
    result = restore_document(validate_document(signed(doc)), mode="merge", sections=["settings"])
    assert result.counts == {"settings": 1}
    settings = snapshot()["settings"]
    assert settings["smtp_port"] == 2525 and settings["system_name"] == "Local name"


def test_merge_upserts_tokens_by_hash(other_site):
    make_user("dave", role="admin")
    doc = export_document()
    doc["api_tokens"] = [
        {
            "id": 9,
            "name": "renamed",
            "username": "dave",
            "token_hash": "ab" * 32,
            "created_at": "2026-01-01T00:00:00Z",
            "last_used_at": None,
            "expires_at": None,
            "is_active": True,
        }
    ]
    recount(doc)
    restore_document(validate_document(signed(doc)), mode="merge")
    restore_document(validate_document(signed(doc)), mode="merge")
    assert [(t.name, t.user.username) for t in ApiToken.select().where(ApiToken.token_hash == "ab" * 32)] == [
        ("renamed", "dave")
    ]


def test_merge_refuses_references_it_cannot_satisfy(other_site):
    with pytest.raises(RestoreRefused, match='cameras "New porch"'):
        restore_document(validate_document(encode(other_site)), mode="merge", sections=["associations"])


def test_a_partial_replace_refuses_references_to_rows_that_are_not_there(ctx):
    alice = make_user("alice", role="admin")
    doc = export_document()
    doc["recovery_codes"] = [
        {"id": 1, "username": "alice", "code_hash": FAKE_ARGON2, "created_at": "2026-01-01T00:00:00Z"}
    ]
    recount(doc)
    valid = validate_document(signed(doc))
    alice.delete_instance()
    make_user("root", role="admin")
    with pytest.raises(RestoreRefused, match="User 'alice'; restore those sections too"):
        restore_document(valid, sections=["recovery_codes"])


def test_a_partial_replace_of_cameras_keeps_storage_profiles(ctx):
    make_user("root", role="admin")
    profile = make_profile(name="Disk")
    make_camera(name="Cam", storage_profile_id=profile.id)
    doc = export_document()
    result = restore_document(validate_document(doc), sections=["cameras"])
    assert "storage_profiles" not in result.sections and "associations" in result.sections
    StorageProfile.delete().execute()
    Camera.delete().execute()
    with pytest.raises(RestoreRefused, match="StorageProfile"):
        restore_document(validate_document(doc), sections=["cameras"])

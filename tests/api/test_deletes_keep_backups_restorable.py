"""Deleting a camera or group never makes the next backup unrestorable, and ids are never reused (SPEC §12).

Runs on SQLite and, through ``make test``, on PostgreSQL.
"""

from vibenvr.backups.document.canonical import SECTIONS
from vibenvr.backups.document.validate import validate_document
from vibenvr.backups.restore import restore_document
from vibenvr.models import User

from builders import make_camera, make_group, make_token, make_user


def restricted_viewer(**allowed):
    return make_user("restricted", role="viewer", restrict_camera_access=True, **allowed)


def backup_restores_exactly(api):
    """Take a backup through the API, verify it, restore it and compare: the round trip is exact."""
    created = api.post("/api/backups")
    assert created.status_code == 201, created.get_json()
    name = created.get_json()["name"]
    data = api.get(f"/api/backups/{name}").data
    valid = validate_document(data, source=name)
    restore_document(valid)
    again = validate_document(api.get("/api/config/export").data)
    assert {s: again.doc[s] for s in SECTIONS} == {s: valid.doc[s] for s in SECTIONS}
    return valid


def test_deleting_an_allowed_camera_removes_it_from_allow_lists_and_the_backup_restores(app, api):
    kept, doomed = make_camera(name="Kept"), make_camera(name="Doomed")
    viewer = restricted_viewer(allowed_camera_ids=[kept.id, doomed.id])
    assert api.delete(f"/api/cameras/{doomed.id}").status_code == 204
    assert User.get_by_id(viewer.id).allowed_camera_ids == [kept.id]
    valid = backup_restores_exactly(api)
    (user,) = [u for u in valid.doc["users"] if u["username"] == "restricted"]
    assert user["allowed_camera_ids"] == [kept.id]


def test_deleting_an_allowed_group_removes_it_from_allow_lists_and_the_backup_restores(app, api):
    kept, doomed = make_group(name="Kept"), make_group(name="Doomed")
    viewer = restricted_viewer(allowed_group_ids=[doomed.id, kept.id])
    assert api.delete(f"/api/groups/{doomed.id}").status_code == 204
    assert User.get_by_id(viewer.id).allowed_group_ids == [kept.id]
    backup_restores_exactly(api)


def test_users_who_did_not_list_the_deleted_camera_are_not_written(app, api):
    doomed, other = make_camera(), make_camera()
    bystander = restricted_viewer(allowed_camera_ids=[other.id])
    before = User.get_by_id(bystander.id)
    assert api.delete(f"/api/cameras/{doomed.id}").status_code == 204
    after = User.get_by_id(bystander.id)
    assert (after.allowed_camera_ids, after.hashed_password) == (before.allowed_camera_ids, before.hashed_password)


def test_a_new_camera_never_gets_the_id_of_a_deleted_one(app, api):
    """A viewer allowed to see a deleted camera must never see an unrelated new one in its place."""
    make_camera(name="First")
    last = make_camera(name="Last")
    viewer = restricted_viewer(allowed_camera_ids=[last.id])
    assert api.delete(f"/api/cameras/{last.id}").status_code == 204
    created = api.post("/api/cameras", json={"name": "Brand new", "rtsp_url": "rtsp://h/s"})
    assert created.status_code == 201
    assert created.get_json()["id"] > last.id
    assert User.get_by_id(viewer.id).allowed_camera_ids == []
    visible = api.__class__(app.test_client(), make_token(viewer)).get("/api/cameras").get_json()["cameras"]
    assert visible == []


def test_a_new_group_never_gets_the_id_of_a_deleted_one(app, api):
    last = make_group(name="Last")
    assert api.delete(f"/api/groups/{last.id}").status_code == 204
    created = api.post("/api/groups", json={"name": "Brand new"})
    assert created.get_json()["id"] > last.id

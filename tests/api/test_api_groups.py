"""/api/groups: CRUD, and camera membership changed from either side."""

import pytest

from .conftest import error_text
from builders import make_camera, make_group


def test_create_group_with_cameras(api):
    first, second = make_camera(), make_camera()
    response = api.post(
        "/api/groups", json={"name": "Outside", "description": "Yard", "camera_ids": [second.id, first.id]}
    )
    assert response.status_code == 201
    group = response.get_json()
    assert group == {
        "id": group["id"],
        "name": "Outside",
        "description": "Yard",
        "camera_ids": sorted([first.id, second.id]),
    }
    assert api.get(f"/api/cameras/{first.id}").get_json()["group_ids"] == [group["id"]]


def test_membership_changed_from_the_camera_side_shows_on_the_group(api):
    group = make_group()
    first = make_camera(group_ids=[group.id])
    second = make_camera()
    assert api.patch(f"/api/cameras/{second.id}", json={"group_ids": [group.id]}).status_code == 200
    assert api.get(f"/api/groups/{group.id}").get_json()["camera_ids"] == sorted([first.id, second.id])
    assert api.patch(f"/api/cameras/{first.id}", json={"group_ids": []}).status_code == 200
    assert api.get(f"/api/groups/{group.id}").get_json()["camera_ids"] == [second.id]


def test_membership_changed_from_the_group_side_shows_on_the_cameras(api):
    group = make_group()
    camera = make_camera(group_ids=[group.id])
    other = make_camera()
    assert api.patch(f"/api/groups/{group.id}", json={"camera_ids": [other.id]}).status_code == 200
    assert api.get(f"/api/cameras/{camera.id}").get_json()["group_ids"] == []
    assert api.get(f"/api/cameras/{other.id}").get_json()["group_ids"] == [group.id]


def test_deleting_a_group_keeps_its_cameras(api):
    group = make_group()
    camera = make_camera(group_ids=[group.id])
    assert api.delete(f"/api/groups/{group.id}").status_code == 204
    assert api.get(f"/api/cameras/{camera.id}").get_json()["group_ids"] == []


def test_deleting_a_camera_leaves_its_groups(api):
    group = make_group()
    camera = make_camera(group_ids=[group.id])
    assert api.delete(f"/api/cameras/{camera.id}").status_code == 204
    assert api.get(f"/api/groups/{group.id}").get_json()["camera_ids"] == []


HOSTILE = [
    ("name", ""),
    ("name", "   "),
    ("name", 7),
    ("name", "x" * 101),
    ("description", ["list"]),
    ("description", "x" * 2001),
    ("camera_ids", [999]),
    ("camera_ids", "1"),
    ("camera_ids", [0]),
    ("camera_ids", [-1]),
    ("camera_ids", [1.5]),
    ("camera_ids", [True]),
    ("camera_ids", [1, 1]),
    ("members", [1]),
]


@pytest.mark.parametrize(("field", "value"), HOSTILE, ids=[f"{f}={v!r}"[:50] for f, v in HOSTILE])
def test_hostile_group_input_is_refused(api, unchanged, field, value):
    make_camera()  # camera 1 exists
    group = make_group()
    with unchanged():
        created = api.post("/api/groups", json={"name": "New", field: value})
        assert created.status_code == 422, created.get_json()
        assert field in error_text(created)
        updated = api.patch(f"/api/groups/{group.id}", json={"description": "changed", field: value})
        assert updated.status_code == 422


def test_duplicate_group_name_is_a_conflict(api, unchanged):
    make_group(name="Outside")
    other = make_group(name="Inside")
    with unchanged():
        assert api.post("/api/groups", json={"name": "Outside"}).status_code == 409
        assert api.patch(f"/api/groups/{other.id}", json={"name": "Outside"}).status_code == 409

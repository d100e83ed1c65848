"""Group pages: list for everyone signed in, create/edit with camera checkboxes and delete for admins."""

import pytest

from vibenvr.models import CameraGroup, Group

from .helpers import HTMX, inline_errors, is_full_page
from builders import make_camera, make_group, make_user
from conftest import sign_in


def test_list_page_and_fragment(admin_client):
    group = make_group(name="Outside")
    make_camera(name="Garage", group_ids=[group.id])
    page = admin_client.get("/groups")
    assert is_full_page(page.text) and "Outside" in page.text and "Garage" in page.text
    fragment = admin_client.get("/groups", headers=HTMX)
    assert not is_full_page(fragment.text) and 'id="group-list"' in fragment.text
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]


def test_restricted_viewer_sees_only_groups_and_cameras_they_may_see(app, admin):
    shared = make_group(name="Shared")
    secret = make_group(name="Secret")
    make_camera(name="Visible", group_ids=[shared.id])
    make_camera(name="Hidden", group_ids=[secret.id])
    visible = make_camera(name="Allowed")
    user = make_user(
        "kid",
        role="viewer",
        restrict_camera_access=True,
        allowed_camera_ids=[visible.id],
        allowed_group_ids=[shared.id],
    )
    html = sign_in(app.test_client(), user).get("/groups").text
    assert "Shared" in html and "Secret" not in html
    assert "Visible" in html and "Hidden" not in html
    assert "/groups/new" not in html


def test_create_group_with_cameras(admin_client):
    first, second = make_camera(name="Garage"), make_camera(name="Porch")
    form = {"name": "Outside", "description": "Yard", "camera_ids": [str(first.id), str(second.id)]}
    response = admin_client.post("/groups/new", data=form)
    assert response.status_code == 303
    group = Group.get(Group.name == "Outside")
    assert sorted(m.camera_id for m in group.memberships) == [first.id, second.id]


def test_edit_group_changes_its_cameras(admin_client):
    first, second = make_camera(), make_camera()
    group = make_group(name="Outside", camera_ids=[first.id])
    html = admin_client.get(f"/groups/{group.id}/edit").text
    assert f'name="camera_ids" value="{first.id}"' in html
    response = admin_client.post(
        f"/groups/{group.id}/edit", data={"name": "Outside", "camera_ids": [str(second.id)]}, headers=HTMX
    )
    assert response.headers["HX-Redirect"] == "/groups"
    assert [m.camera_id for m in CameraGroup.select().where(CameraGroup.group == group.id)] == [second.id]


def test_unticking_every_camera_empties_the_group(admin_client):
    camera = make_camera()
    group = make_group(name="Outside", camera_ids=[camera.id])
    assert admin_client.post(f"/groups/{group.id}/edit", data={"name": "Outside"}).status_code == 303
    assert CameraGroup.select().count() == 0


@pytest.mark.parametrize(
    ("form", "field", "text", "status"),
    [
        ({"name": ""}, "name", "must not be empty", 422),
        ({"name": "x" * 101}, "name", "at most 100", 422),
        ({"name": "G", "camera_ids": ["999"]}, "camera_ids", "do not exist", 422),
        ({"name": "G", "camera_ids": ["abc"]}, "camera_ids", "item 1 must be a whole number", 422),
        ({"name": "Taken"}, "name", "already exists", 409),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_invalid_group_is_shown_inline(admin_client, form, field, text, status, htmx):
    make_group(name="Taken")
    make_camera()
    response = admin_client.post("/groups/new", data=form, headers=HTMX if htmx else {})
    assert response.status_code == status
    assert is_full_page(response.text) is not htmx
    assert text in inline_errors(response.text)[field]
    assert Group.select().count() == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/groups/new"),
        ("POST", "/groups/new"),
        ("GET", "/groups/{id}/edit"),
        ("POST", "/groups/{id}/edit"),
        ("GET", "/groups/{id}/delete"),
        ("POST", "/groups/{id}/delete"),
    ],
)
def test_viewer_gets_403(viewer_client, method, path):
    group = make_group(name="Outside")
    response = viewer_client.open(path.format(id=group.id), method=method, data={"name": "Mine"}, headers=HTMX)
    assert response.status_code == 403
    assert [g.name for g in Group.select()] == ["Outside"]


def test_posts_need_the_csrf_token(admin_client):
    del admin_client.environ_base["HTTP_X_CSRFTOKEN"]
    group = make_group(name="Outside")
    assert admin_client.post("/groups/new", data={"name": "New"}).status_code == 400
    assert admin_client.post(f"/groups/{group.id}/delete").status_code == 400
    assert [g.name for g in Group.select()] == ["Outside"]


def test_delete_with_confirmation_page_and_with_htmx(admin_client):
    first, second = make_group(name="One"), make_group(name="Two")
    camera = make_camera(group_ids=[first.id, second.id])
    assert "Delete group “One”?" in admin_client.get(f"/groups/{first.id}/delete").text
    assert admin_client.post(f"/groups/{first.id}/delete").status_code == 303
    response = admin_client.post(f"/groups/{second.id}/delete", headers=HTMX)
    assert "No groups yet" in response.text and "Group “Two” deleted." in response.text
    assert Group.select().count() == 0 and camera.memberships.count() == 0

"""Storage profile pages: admins only; paths must be absolute without "..", names unique."""

import pytest

from vibenvr.models import Camera, StorageProfile

from .helpers import HTMX, inline_errors, is_full_page
from builders import make_camera, make_profile


def test_list_page_and_fragment(admin_client):
    profile = make_profile(name="NAS", path="/mnt/nas", max_size_gb=0)
    make_camera(storage_profile_id=profile.id)
    page = admin_client.get("/storage")
    assert is_full_page(page.text) and "/mnt/nas" in page.text and "no limit" in page.text
    fragment = admin_client.get("/storage", headers=HTMX)
    assert 'id="storage-list"' in fragment.text and not is_full_page(fragment.text)
    assert "HX-Request" in fragment.headers["Vary"]


def test_create_and_edit_profile(admin_client):
    form = {"name": "NAS", "path": "/mnt/nas/recordings", "max_size_gb": "250.5", "description": "Shelf"}
    assert admin_client.post("/storage/new", data=form).status_code == 303
    profile = StorageProfile.get(StorageProfile.name == "NAS")
    assert (profile.path, profile.max_size_gb, profile.description) == ("/mnt/nas/recordings", 250.5, "Shelf")
    assert 'value="250.5"' in admin_client.get(f"/storage/{profile.id}/edit").text
    response = admin_client.post(f"/storage/{profile.id}/edit", data={**form, "max_size_gb": "0"}, headers=HTMX)
    assert response.headers["HX-Redirect"] == "/storage"
    assert StorageProfile.get_by_id(profile.id).max_size_gb == 0


@pytest.mark.parametrize(
    ("overrides", "field", "text", "status"),
    [
        ({"path": "/a/../b"}, "path", "must not contain '..'", 422),
        ({"path": "recordings"}, "path", "absolute path", 422),
        ({"path": ""}, "path", "must not be empty", 422),
        ({"max_size_gb": "-1"}, "max_size_gb", "between 0 and", 422),
        ({"max_size_gb": "lots"}, "max_size_gb", "must be a number", 422),
        ({"max_size_gb": "nan"}, "max_size_gb", "must be a number", 422),
        ({"name": ""}, "name", "must not be empty", 422),
        ({"name": "Taken"}, "name", "already exists", 409),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_invalid_profile_is_shown_inline(admin_client, overrides, field, text, status, htmx):
    make_profile(name="Taken")
    form = {"name": "New", "path": "/mnt/new", "max_size_gb": "0", "description": "", **overrides}
    response = admin_client.post("/storage/new", data=form, headers=HTMX if htmx else {})
    assert response.status_code == status
    assert is_full_page(response.text) is not htmx
    assert text in inline_errors(response.text)[field]
    assert StorageProfile.select().count() == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/storage"),
        ("GET", "/storage/new"),
        ("POST", "/storage/new"),
        ("GET", "/storage/{id}/edit"),
        ("POST", "/storage/{id}/edit"),
        ("GET", "/storage/{id}/delete"),
        ("POST", "/storage/{id}/delete"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_viewer_gets_403_everywhere(viewer_client, method, path, htmx):
    profile = make_profile(name="NAS")
    response = viewer_client.open(
        path.format(id=profile.id), method=method, data={"name": "Mine", "path": "/x"}, headers=HTMX if htmx else {}
    )
    assert response.status_code == 403
    assert [p.name for p in StorageProfile.select()] == ["NAS"]


def test_posts_need_the_csrf_token(admin_client):
    del admin_client.environ_base["HTTP_X_CSRFTOKEN"]
    profile = make_profile(name="NAS")
    assert admin_client.post("/storage/new", data={"name": "X", "path": "/x"}).status_code == 400
    assert admin_client.post(f"/storage/{profile.id}/delete").status_code == 400
    assert StorageProfile.select().count() == 1


def test_delete_moves_cameras_to_default_storage(admin_client):
    profile = make_profile(name="NAS")
    camera = make_camera(storage_profile_id=profile.id)
    confirm = admin_client.get(f"/storage/{profile.id}/delete").text
    assert "1 camera uses it" in confirm
    response = admin_client.post(f"/storage/{profile.id}/delete", headers=HTMX)
    assert "Storage profile “NAS” deleted." in response.text
    assert Camera.get_by_id(camera.id).storage_profile_id is None

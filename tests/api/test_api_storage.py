"""/api/storage-profiles (admins only): absolute paths without "..", sizes ≥ 0, unique names."""

import pytest

from .conftest import error_text
from builders import make_camera, make_profile


def test_create_read_update_delete_profile(api):
    response = api.post("/api/storage-profiles", json={"name": "NAS", "path": "/mnt/nas/rec", "max_size_gb": 500})
    assert response.status_code == 201
    profile = response.get_json()
    assert profile == {
        "id": profile["id"],
        "name": "NAS",
        "path": "/mnt/nas/rec",
        "description": "",
        "max_size_gb": 500.0,
    }
    assert api.get("/api/storage-profiles").get_json() == {"storage_profiles": [profile]}
    patched = api.patch(f"/api/storage-profiles/{profile['id']}", json={"max_size_gb": 0, "description": "No limit"})
    assert patched.get_json()["max_size_gb"] == 0 and patched.get_json()["description"] == "No limit"
    assert api.delete(f"/api/storage-profiles/{profile['id']}").status_code == 204
    assert api.get(f"/api/storage-profiles/{profile['id']}").status_code == 404


def test_deleting_a_profile_moves_its_cameras_to_default_storage(api):
    profile = make_profile()
    camera = make_camera(storage_profile_id=profile.id)
    assert api.delete(f"/api/storage-profiles/{profile.id}").status_code == 204
    assert api.get(f"/api/cameras/{camera.id}").get_json()["storage_profile_id"] is None


@pytest.mark.parametrize("path", ["/mnt/nas", "/", "/a/..b/c", "/recordings/garage cam", "/a/.hidden"])
def test_valid_paths(api, path):
    assert api.post("/api/storage-profiles", json={"name": "P", "path": path}).status_code == 201


HOSTILE = [
    ("path", "/a/../b"),
    ("path", "/a/.."),
    ("path", "../etc"),
    ("path", "relative/path"),
    ("path", "recordings"),
    ("path", ""),
    ("path", "C:\\recordings"),
    ("path", "/a\\..\\b"),
    ("path", 5),
    ("path", None),
    ("path", "/a/\x00b"),
    ("name", ""),
    ("name", ["NAS"]),
    ("max_size_gb", -1),
    ("max_size_gb", "10"),
    ("max_size_gb", True),
    ("max_size_gb", 2_000_000),
    ("unknown", 1),
]


@pytest.mark.parametrize(("field", "value"), HOSTILE, ids=[f"{f}={v!r}" for f, v in HOSTILE])
def test_hostile_profile_input_is_refused(api, unchanged, field, value):
    profile = make_profile()
    body = {"name": "New", "path": "/mnt/new", field: value}
    with unchanged():
        created = api.post("/api/storage-profiles", json=body)
        assert created.status_code == 422, created.get_json()
        assert field in error_text(created)
        assert api.patch(f"/api/storage-profiles/{profile.id}", json={field: value}).status_code == 422


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-1e999"])
def test_non_finite_sizes_are_refused(api, unchanged, literal):
    with unchanged():
        response = api.post(
            "/api/storage-profiles",
            data='{"name": "X", "path": "/x", "max_size_gb": ' + literal + "}",
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 422
    assert "max_size_gb" in error_text(response)


def test_duplicate_profile_name_is_a_conflict(api, unchanged):
    make_profile(name="NAS")
    other = make_profile(name="SSD")
    with unchanged():
        assert api.post("/api/storage-profiles", json={"name": "NAS", "path": "/x"}).status_code == 409
        assert api.patch(f"/api/storage-profiles/{other.id}", json={"name": "NAS"}).status_code == 409

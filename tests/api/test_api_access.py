"""Who may use the resource APIs, and what bodies they refuse before looking at them."""

import pytest

from .conftest import error_text
from builders import make_camera, make_group, make_profile, make_token, make_user
from conftest import Api

RESOURCES = ["/api/cameras", "/api/groups", "/api/storage-profiles"]


@pytest.fixture
def objects(app):
    group = make_group()
    return {
        "/api/cameras": make_camera(group_ids=[group.id]).id,
        "/api/groups": group.id,
        "/api/storage-profiles": make_profile().id,
    }


@pytest.mark.parametrize("path", [*RESOURCES, "/api/settings"])
def test_anonymous_requests_get_401_json(client, unchanged, objects, path):
    with unchanged():
        assert client.get(path).status_code == 401
        response = client.post(path, json={"name": "x"})
        assert response.status_code in (401, 405)
        if path != "/api/settings":
            assert client.get(f"{path}/{objects[path]}").status_code == 401
            assert client.delete(f"{path}/{objects[path]}").status_code == 401
        else:
            assert client.patch(path, json={"system_name": "x"}).status_code == 401
    assert "error" in client.get(path).get_json()


def test_a_wrong_token_is_401(app, unchanged, objects):
    api = Api(app.test_client(), "not-a-real-token")
    with unchanged():
        assert api.get("/api/cameras").status_code == 401
        assert api.delete(f"/api/cameras/{objects['/api/cameras']}").status_code == 401


@pytest.mark.parametrize("path", RESOURCES)
def test_viewer_cannot_write(viewer_api, unchanged, objects, path):
    item = f"{path}/{objects[path]}"
    with unchanged():
        assert viewer_api.post(path, json={"name": "Mine", "path": "/x", "rtsp_url": "rtsp://h/s"}).status_code == 403
        assert viewer_api.patch(item, json={"name": "Renamed"}).status_code == 403
        assert viewer_api.delete(item).status_code == 403


def test_viewer_cannot_read_or_change_settings_and_storage(viewer_api, unchanged, objects):
    with unchanged():
        assert viewer_api.get("/api/settings").status_code == 403
        assert viewer_api.patch("/api/settings", json={"system_name": "Mine"}).status_code == 403
        assert viewer_api.get("/api/storage-profiles").status_code == 403
        assert viewer_api.get(f"/api/storage-profiles/{objects['/api/storage-profiles']}").status_code == 403


def test_viewer_reads_cameras_and_groups(viewer_api, objects):
    assert len(viewer_api.get("/api/cameras").get_json()["cameras"]) == 1
    assert len(viewer_api.get("/api/groups").get_json()["groups"]) == 1


def test_restricted_viewer_sees_only_allowed_cameras(app):
    shared = make_group(name="Shared")
    allowed = make_camera(name="Allowed")
    via_group = make_camera(name="Via group", group_ids=[shared.id])
    hidden = make_camera(name="Hidden")
    hidden_group = make_group(name="Hidden group", camera_ids=[hidden.id])
    user = make_user(
        "restricted",
        role="viewer",
        restrict_camera_access=True,
        allowed_camera_ids=[allowed.id],
        allowed_group_ids=[shared.id],
    )
    api = Api(app.test_client(), make_token(user))
    names = {c["name"] for c in api.get("/api/cameras").get_json()["cameras"]}
    assert names == {"Allowed", "Via group"}
    assert api.get(f"/api/cameras/{hidden.id}").status_code == 404
    assert api.get(f"/api/cameras/{via_group.id}").status_code == 200
    groups = {g["name"]: g for g in api.get("/api/groups").get_json()["groups"]}
    assert set(groups) == {"Shared"}
    assert groups["Shared"]["camera_ids"] == [via_group.id]
    assert api.get(f"/api/groups/{hidden_group.id}").status_code == 404


NESTED = "[" * 10_000 + "]" * 10_000
BAD_BODIES = [
    ("form", "name=Garage&rtsp_url=rtsp://h/s", "application/x-www-form-urlencoded"),
    ("text", "hello", "text/plain"),
    ("truncated", '{"name": "Garage"', "application/json"),
    ("empty", "", "application/json"),
    ("array", '[{"name": "Garage"}]', "application/json"),
    ("string", '"Garage"', "application/json"),
    ("nested-10000", NESTED, "application/json"),
    ("nested-object", '{"extra": ' + '{"a": ' * 10_000 + "1" + "}" * 10_001, "application/json"),
    ("latin-1", b'{"name": "Gar\xe7age"}', "application/json"),
]


@pytest.mark.parametrize("path", [*RESOURCES, "/api/settings"])
@pytest.mark.parametrize(("kind", "body", "content_type"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_unusable_bodies_are_400_not_500(api, unchanged, objects, path, kind, body, content_type):
    method = api.patch if path == "/api/settings" else api.post
    with unchanged():
        response = method(path, data=body, headers={"Content-Type": content_type})
        assert response.status_code == 400, (kind, response.status_code, response.data[:200])
        assert error_text(response)
        if path != "/api/settings":
            response = api.patch(f"{path}/{objects[path]}", data=body, headers={"Content-Type": content_type})
            assert response.status_code == 400


def test_deep_nesting_error_says_what_is_wrong(api):
    response = api.post("/api/cameras", data=NESTED, headers={"Content-Type": "application/json"})
    assert "nested" in error_text(response)

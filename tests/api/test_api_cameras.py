"""/api/cameras: create, read, update, delete; every hostile input is refused with the field named."""

import pytest

from vibenvr.models import Camera

from .conftest import error_text
from builders import camera_data, make_camera, make_group, make_profile

# --- success ------------------------------------------------------------------------------------


def test_create_camera_returns_it_in_the_shared_vocabulary(api):
    profile = make_profile()
    group = make_group()
    body = camera_data(
        name="Nursery",
        storage_profile_id=profile.id,
        group_ids=[group.id],
        schedule={"monday": [["20:00", "07:00"]], "tuesday": [["20:00", "24:00"]], "sunday": []},
    )
    response = api.post("/api/cameras", json=body)
    assert response.status_code == 201, response.get_json()
    camera = response.get_json()
    assert camera["name"] == "Nursery"
    assert camera["group_ids"] == [group.id]
    assert camera["storage_profile_id"] == profile.id
    assert camera["schedule"] == {"monday": [["20:00", "07:00"]], "tuesday": [["20:00", "24:00"]], "sunday": []}
    assert camera["privacy_masks"] == [[[0.1, 0.1], [0.3, 0.1], [0.3, 0.4]]]
    assert camera["enabled"] is True and camera["framerate"] == 15 and camera["extra"] == {}
    assert api.get(f"/api/cameras/{camera['id']}").get_json() == camera


def test_list_cameras(api):
    first, second = make_camera(name="A", sort_order=2), make_camera(name="B", sort_order=1)
    names = [c["name"] for c in api.get("/api/cameras").get_json()["cameras"]]
    assert names == [second.name, first.name]


def test_patch_changes_only_the_fields_sent(api):
    camera = make_camera(location="Porch")
    response = api.patch(
        f"/api/cameras/{camera.id}", json={"framerate": 25, "motion_zones": [[[0, 0], [1, 0], [1, 1]]]}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["framerate"] == 25 and body["location"] == "Porch"
    assert body["motion_zones"] == [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]]


def test_delete_camera(api):
    camera = make_camera()
    assert api.delete(f"/api/cameras/{camera.id}").status_code == 204
    assert api.get(f"/api/cameras/{camera.id}").status_code == 404
    assert api.delete(f"/api/cameras/{camera.id}").status_code == 404


@pytest.mark.parametrize(
    "schedule",
    [
        {"monday": [["20:00", "24:00"]], "tuesday": [["00:00", "07:00"]]},  # 24:00 end, touching the next day
        {"monday": [["20:00", "07:00"]], "tuesday": [["07:00", "09:00"]]},  # overnight, then back to back
        {"sunday": [["22:00", "06:00"]], "monday": [["06:00", "08:00"]]},  # Sunday night runs into Monday
        {"monday": [["00:00", "24:00"]]},
        {"monday": [], "wednesday": [["08:00", "12:00"], ["13:00", "18:00"]]},
        {},
    ],
    ids=["24h-end", "overnight-then-morning", "sunday-wrap", "whole-day", "never-and-two", "always"],
)
def test_valid_schedules_are_accepted(api, schedule):
    response = api.post("/api/cameras", json=camera_data(schedule=schedule))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["schedule"] == schedule


@pytest.mark.parametrize(
    ("url", "answered"),
    [
        (
            "rtsp://admin:p%40ss%3Aw0rd@192.168.1.20:554/Streaming/Channels/101",
            "rtsp://admin:***@192.168.1.20:554/Streaming/Channels/101",
        ),
        ("rtsps://cam.example.com/live", "rtsps://cam.example.com/live"),
        ("http://192.168.1.21/mjpeg?user=a&pass=b", "http://192.168.1.21/mjpeg?user=a&pass=***"),
        ("https://user:%E2%9C%93@cam.local:8443/video", "https://user:***@cam.local:8443/video"),
    ],
)
def test_stream_urls_with_allowed_schemes_and_encoded_credentials(api, url, answered):
    """Stored as written; answered with the password masked (SPEC §12, tests/auth/test_secrets_masked.py)."""
    response = api.post("/api/cameras", json=camera_data(rtsp_url=url, sub_rtsp_url=url))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["rtsp_url"] == answered
    assert Camera.get_by_id(response.get_json()["id"]).rtsp_url == url


# --- hostile input ------------------------------------------------------------------------------

HOSTILE = [
    # wrong types
    ("name", 123),
    ("name", None),
    ("enabled", "yes"),
    ("framerate", "15"),
    ("framerate", True),
    ("framerate", 1.5),
    ("resolution_width", [1920]),
    ("privacy_masks", "none"),
    ("schedule", []),
    ("extra", []),
    ("group_ids", "1"),
    ("group_ids", ["a"]),
    # out of range / not a choice
    ("name", ""),
    ("name", "x" * 101),
    ("name", "bad\x00name"),
    ("framerate", 0),
    ("framerate", 121),
    ("rotation", 45),
    ("recording_mode", "always"),
    ("retention_days", 0),
    ("retention_days", 3651),
    ("recording_quality", 101),
    ("onvif_port", 70000),
    ("motion_gap", -1),
    # polygons
    ("privacy_masks", [[[0, 0], [1, 1]]]),
    ("privacy_masks", [[[0, 0], [1, 1], [1.5, 0]]]),
    ("privacy_masks", [[[0, 0], [1, 1], [-0.1, 0]]]),
    ("privacy_masks", [[["a", "b"], [0, 0], [1, 1]]]),
    ("privacy_masks", [[[0, 0, 0], [1, 1], [0, 1]]]),
    ("privacy_masks", [[[True, 0], [1, 1], [0, 1]]]),
    ("privacy_masks", [[[0, 0], [1, 1], None]]),
    ("privacy_masks", [[[0, 0]] * 65]),
    ("motion_zones", [[[0.5, 0.5]]]),
    ("motion_zones", [[[0, 0], [1, 0], [0, 2]]]),
    # schedules
    ("schedule", {"monday": [["08:00", "12:00"], ["11:00", "13:00"]]}),
    ("schedule", {"monday": [["20:00", "07:00"]], "tuesday": [["06:00", "08:00"]]}),
    ("schedule", {"sunday": [["22:00", "06:00"]], "monday": [["05:00", "07:00"]]}),
    ("schedule", {"monday": [["20:00", "07:00"], ["21:00", "22:00"]]}),
    ("schedule", {"monday": [["25:00", "26:00"]]}),
    ("schedule", {"monday": [["24:00", "12:00"]]}),
    ("schedule", {"monday": [["8:00", "12:00"]]}),
    ("schedule", {"monday": [["08:00", "08:00"]]}),
    ("schedule", {"monday": [["08:00"]]}),
    ("schedule", {"monday": "08:00-12:00"}),
    ("schedule", {"funday": []}),
    # stream URLs
    ("rtsp_url", "file:///etc/passwd"),
    ("rtsp_url", "javascript:alert(1)"),
    ("rtsp_url", "ftp://192.168.1.2/stream"),
    ("rtsp_url", "rtsp://"),
    ("rtsp_url", "rtsp://host:99999/s"),
    ("rtsp_url", "rtsp://us er@host/s"),
    ("rtsp_url", "rtsp://a%zz@host/s"),
    ("rtsp_url", ""),
    ("sub_rtsp_url", "data:text/html,<script>alert(1)</script>"),
    # references and unknown fields
    ("storage_profile_id", 999),
    ("storage_profile_id", "1"),
    ("group_ids", [999]),
    ("group_ids", [1, 1]),
    ("bogus_field", 1),
]


@pytest.mark.parametrize(("field", "value"), HOSTILE, ids=[f"{f}={v!r}"[:60] for f, v in HOSTILE])
def test_create_refuses_hostile_input_and_names_the_field(api, unchanged, field, value):
    make_group()  # group 1 exists, so [1, 1] fails for the duplicate, not the reference
    body = camera_data(**{field: value})
    with unchanged():
        response = api.post("/api/cameras", json=body)
        assert response.status_code == 422, response.get_json()
        assert field in error_text(response)


@pytest.mark.parametrize(("field", "value"), HOSTILE[:40], ids=[f"{f}={v!r}"[:60] for f, v in HOSTILE[:40]])
def test_update_refuses_hostile_input_and_changes_nothing(api, unchanged, field, value):
    camera = make_camera()
    make_group()
    with unchanged():
        response = api.patch(f"/api/cameras/{camera.id}", json={"location": "Moved", field: value})
        assert response.status_code == 422, response.get_json()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinite_coordinates_are_refused(api, unchanged, literal):
    raw = '{"name": "N", "rtsp_url": "rtsp://h/s", "privacy_masks": [[[' + literal + ", 0], [1, 1], [0, 1]]]}"
    with unchanged():
        response = api.post("/api/cameras", data=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 422
        assert "privacy_masks[0][0]" in error_text(response)


def test_overnight_overlap_names_both_windows(api, unchanged):
    body = camera_data(schedule={"monday": [["20:00", "07:00"]], "tuesday": [["06:00", "08:00"]]})
    with unchanged():
        response = api.post("/api/cameras", json=body)
    assert response.status_code == 422
    text = error_text(response)
    assert "schedule.tuesday[0]" in text and "schedule.monday[0]" in text and "overlaps" in text


def test_sunday_night_overlapping_monday_morning_is_refused(api, unchanged):
    body = camera_data(schedule={"sunday": [["23:00", "02:00"]], "monday": [["01:00", "03:00"]]})
    with unchanged():
        response = api.post("/api/cameras", json=body)
    assert response.status_code == 422
    assert "schedule.sunday[0]" in error_text(response)


def test_every_wrong_field_is_listed(api, unchanged):
    with unchanged():
        response = api.post("/api/cameras", json={"name": "", "rtsp_url": "ftp://x", "framerate": 0})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert len(errors) == 3
    assert {e.split()[0] for e in errors} == {"name", "rtsp_url", "framerate"}


def test_missing_required_fields(api, unchanged):
    with unchanged():
        response = api.post("/api/cameras", json={})
    assert response.status_code == 422
    assert "name is required" in error_text(response) and "rtsp_url is required" in error_text(response)


def test_duplicate_name_is_a_conflict(api, unchanged):
    make_camera(name="Garage")
    other = make_camera(name="Porch")
    with unchanged():
        assert api.post("/api/cameras", json=camera_data(name="Garage")).status_code == 409
        response = api.patch(f"/api/cameras/{other.id}", json={"name": "Garage"})
        assert response.status_code == 409
        assert "Garage" in error_text(response)


def test_unknown_camera_is_404(api):
    assert api.get("/api/cameras/999").status_code == 404
    assert api.patch("/api/cameras/999", json={"name": "x"}).status_code == 404

"""Camera pages: list, create, edit, delete; fragments for htmx, pages otherwise; inline errors."""

import re

import pytest

from vibenvr.models import Camera

from .helpers import HTMX, camera_form, inline_errors, is_full_page
from builders import make_camera, make_group, make_profile, make_user
from conftest import sign_in


def test_list_is_a_page_without_htmx_and_a_fragment_with_it(admin_client):
    make_camera(name="Garage")
    page = admin_client.get("/cameras")
    assert page.status_code == 200 and is_full_page(page.text) and "Garage" in page.text
    assert "HX-Request" in page.headers["Vary"]
    fragment = admin_client.get("/cameras", headers=HTMX)
    assert not is_full_page(fragment.text) and 'id="camera-list"' in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]


def test_list_shows_status_mode_and_groups(admin_client):
    group = make_group(name="Outside")
    make_camera(name="Garage", enabled=False, recording_mode="continuous", group_ids=[group.id])
    html = admin_client.get("/cameras").text
    assert "Disabled" in html and "Continuous" in html and "Outside" in html


def test_home_redirects_to_the_camera_list(admin_client):
    response = admin_client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/cameras")


def test_anonymous_visitor_is_sent_to_sign_in(client, admin):
    response = client.get("/cameras")
    assert response.status_code == 302 and "/login?next=/cameras" in response.headers["Location"]


def test_viewer_sees_the_list_without_edit_controls(viewer_client):
    camera = make_camera(name="Garage")
    html = viewer_client.get("/cameras").text
    assert "Garage" in html
    assert f"/cameras/{camera.id}/edit" not in html and "Add camera" not in html


def test_restricted_viewer_sees_only_allowed_cameras(app, admin):
    allowed, hidden = make_camera(name="Allowed cam"), make_camera(name="Hidden cam")
    user = make_user("kid", role="viewer", restrict_camera_access=True, allowed_camera_ids=[allowed.id])
    html = sign_in(app.test_client(), user).get("/cameras").text
    assert "Allowed cam" in html and hidden.name not in html


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/cameras/new"),
        ("POST", "/cameras/new"),
        ("GET", "/cameras/{id}/edit"),
        ("POST", "/cameras/{id}/edit"),
        ("GET", "/cameras/{id}/delete"),
        ("POST", "/cameras/{id}/delete"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_viewer_gets_403_on_every_admin_page(viewer_client, method, path, htmx):
    camera = make_camera(name="Garage")
    response = viewer_client.open(
        path.format(id=camera.id), method=method, data=camera_form(name="Hacked"), headers=HTMX if htmx else {}
    )
    assert response.status_code == 403
    assert Camera.get_by_id(camera.id).name == "Garage" and Camera.select().count() == 1


def test_create_form_has_every_section_and_defaults(admin_client):
    html = admin_client.get("/cameras/new").text
    for legend in (
        "Camera",
        "Stream",
        "Recording",
        "Weekly schedule",
        "Motion detection",
        "Privacy masks",
        "Notifications",
        "Overlay",
        "ONVIF",
        "Groups",
    ):
        assert f"<legend>{legend}</legend>" in html
    for name in (
        "rtsp_url",
        "sub_rtsp_url",
        "motion_threshold",
        "notify_email_to",
        "onvif_password",
        "extra",
        "schedule-monday-mode",
        "schedule-sunday-0-start",
        "storage_profile_id",
    ):
        assert f'name="{name}"' in html
    assert "overnight" in html and 'type="time"' in html and "<svg" in html


def test_create_camera_through_the_form(admin_client):
    profile, group = make_profile(name="NAS"), make_group(name="Kids")
    form = camera_form(
        storage_profile_id=str(profile.id),
        group_ids=[str(group.id)],
        onvif_password="s3cret",
        motion_zones="[[[0, 0], [1, 0], [1, 1]]]",
        extra='{"vendor": "acme"}',
        **{
            "schedule-monday-mode": "windows",
            "schedule-monday-0-start": "20:00",
            "schedule-monday-0-end": "07:00",
            "schedule-monday-1-start": "",
            "schedule-monday-1-end": "",
            "schedule-tuesday-mode": "windows",
            "schedule-tuesday-3-start": "20:00",
            "schedule-tuesday-3-end": "00:00",
            "schedule-sunday-mode": "never",
        },
    )
    response = admin_client.post("/cameras/new", data=form)
    assert response.status_code == 303 and response.headers["Location"].endswith("/cameras")
    camera = Camera.get(Camera.name == "Nursery")
    assert camera.schedule == {"monday": [["20:00", "07:00"]], "tuesday": [["20:00", "24:00"]], "sunday": []}
    assert camera.privacy_masks == [[[0.1, 0.1], [0.4, 0.1], [0.4, 0.5]]]
    assert camera.motion_zones == [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]]
    assert camera.storage_profile_id == profile.id and camera.onvif_password == "s3cret"
    assert camera.extra == {"vendor": "acme"} and camera.enabled is True
    assert [m.group_id for m in camera.memberships] == [group.id]
    assert "Nursery" in admin_client.get("/cameras").text  # the flashed message and the row


def test_htmx_create_redirects_with_hx_redirect(admin_client):
    response = admin_client.post("/cameras/new", data=camera_form(), headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/cameras"
    assert Camera.select().count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"name": ""}, "name", "must not be empty"),
        ({"rtsp_url": "file:///etc/passwd"}, "rtsp_url", "must start with rtsp://"),
        ({"rtsp_url": "javascript:alert(1)"}, "rtsp_url", "must start with"),
        ({"framerate": "fast"}, "framerate", "whole number"),
        ({"framerate": "500"}, "framerate", "between 1 and 120"),
        ({"rotation": "45"}, "rotation", "must be one of"),
        ({"privacy_masks": "[[[0, 0], [1, 1]]]"}, "privacy_masks", "polygon 1 has 2 points"),
        ({"privacy_masks": "[[[0, 0], [1, 1], [2, 0]]]"}, "privacy_masks", "polygon 1, point 3 has 2"),
        ({"privacy_masks": "[[[0, 0], [1, 1]"}, "privacy_masks", "not valid JSON"),
        ({"privacy_masks": "[" * 200 + "]" * 200}, "privacy_masks", "nested more than"),
        ({"motion_zones": "{}"}, "motion_zones", "must be a list of polygons"),
        ({"extra": "[1]"}, "extra", "must be a JSON object"),
        ({"storage_profile_id": "999"}, "storage_profile_id", "does not exist"),
        ({"group_ids": ["999"]}, "group_ids", "do not exist"),
        ({"schedule-monday-mode": "windows"}, "schedule-monday", "has no window"),
        ({"schedule-monday-mode": "sometimes"}, "schedule-monday", "choose All day"),
        (
            {"schedule-monday-mode": "windows", "schedule-monday-0-start": "08:00", "schedule-monday-0-end": ""},
            "schedule-monday",
            "Monday window 1 has ''",
        ),
        (
            {
                "schedule-monday-mode": "windows",
                "schedule-monday-0-start": "20:00",
                "schedule-monday-0-end": "07:00",
                "schedule-tuesday-mode": "windows",
                "schedule-tuesday-0-start": "06:00",
                "schedule-tuesday-0-end": "08:00",
            },
            "schedule-tuesday",
            "Tuesday window 1 (06:00–08:00) overlaps Monday window 1 (20:00–07:00)",
        ),
        (
            {
                "schedule-sunday-mode": "windows",
                "schedule-sunday-0-start": "22:00",
                "schedule-sunday-0-end": "06:00",
                "schedule-monday-mode": "windows",
                "schedule-monday-0-start": "05:00",
                "schedule-monday-0-end": "09:00",
            },
            "schedule-monday",
            "Monday window 1 (05:00–09:00) overlaps Sunday window 1 (22:00–06:00)",
        ),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_invalid_input_is_shown_inline_and_nothing_is_saved(admin_client, overrides, field, text, htmx):
    make_group()
    response = admin_client.post("/cameras/new", data=camera_form(**overrides), headers=HTMX if htmx else {})
    assert response.status_code == 422
    assert is_full_page(response.text) is not htmx
    assert "HX-Request" in response.headers["Vary"]
    errors = inline_errors(response.text)
    assert field in errors, errors
    assert text in errors[field]
    assert 'aria-invalid="true"' in response.text
    assert Camera.select().count() == 0


def test_a_form_error_and_a_service_error_are_shown_together(admin_client):
    response = admin_client.post("/cameras/new", data=camera_form(privacy_masks="nope", rtsp_url="ftp://x"))
    errors = inline_errors(response.text)
    assert "privacy_masks" in errors and "rtsp_url" in errors


def test_what_was_typed_is_kept_and_drawn_after_an_error(admin_client):
    masks = "[[[0.5, 0.5], [1, 0.5], [1, 1]]]"
    response = admin_client.post("/cameras/new", data=camera_form(name="", privacy_masks=masks, location="Attic"))
    html = response.text
    assert masks in html and 'value="Attic"' in html
    assert '<polygon class="shape" points="80.00,45.00 160.00,45.00 160.00,90.00">' in html


def test_an_invalid_polygon_is_drawn_flagged(admin_client):
    response = admin_client.post("/cameras/new", data=camera_form(privacy_masks="[[[0, 0], [1.5, 0], [1, 1]]]"))
    assert 'class="shape shape-bad"' in response.text


def test_duplicate_name_is_409_next_to_the_name(admin_client):
    make_camera(name="Nursery")
    response = admin_client.post("/cameras/new", data=camera_form(), headers=HTMX)
    assert response.status_code == 409
    assert "already exists" in inline_errors(response.text)["name"]
    assert Camera.select().count() == 1


def test_page_posts_need_the_csrf_token(admin_client):
    del admin_client.environ_base["HTTP_X_CSRFTOKEN"]
    camera = make_camera(name="Garage")
    assert admin_client.post("/cameras/new", data=camera_form()).status_code == 400
    assert admin_client.post(f"/cameras/{camera.id}/edit", data=camera_form(name="Changed")).status_code == 400
    assert admin_client.post(f"/cameras/{camera.id}/delete").status_code == 400
    ok = admin_client.post("/cameras/new", data=camera_form(csrf_token=admin_client.csrf_token))
    assert ok.status_code == 303
    assert {c.name for c in Camera.select()} == {"Garage", "Nursery"}


def test_edit_shows_the_stored_camera(admin_client):
    camera = make_camera(
        name="Nursery", schedule={"monday": [["20:00", "24:00"]], "sunday": []}, onvif_password="hidden-pass"
    )
    html = admin_client.get(f"/cameras/{camera.id}/edit").text
    assert 'value="Nursery"' in html
    assert 'name="schedule-monday-0-end" value="00:00"' in html and "until midnight (24:00)" in html
    assert re.search(r'name="schedule-sunday-mode" value="never"\s+checked', html)
    assert re.search(r'name="schedule-friday-mode" value="all"\s+checked', html)
    assert "hidden-pass" not in html and "(stored)" in html
    assert "<polygon" in html  # the builder's privacy mask


def test_edit_keeps_the_password_when_left_blank_and_clears_it_on_request(admin_client):
    camera = make_camera(name="Nursery", onvif_password="keep-me")
    assert admin_client.post(f"/cameras/{camera.id}/edit", data=camera_form(location="Hall")).status_code == 303
    camera = Camera.get_by_id(camera.id)
    assert camera.onvif_password == "keep-me" and camera.location == "Hall"
    form = camera_form(onvif_password_clear="on")
    assert admin_client.post(f"/cameras/{camera.id}/edit", data=form).status_code == 303
    assert Camera.get_by_id(camera.id).onvif_password == ""


def test_edit_with_an_error_changes_nothing(admin_client):
    camera = make_camera(name="Nursery", location="Hall")
    response = admin_client.post(
        f"/cameras/{camera.id}/edit", data=camera_form(location="Moved", framerate="0"), headers=HTMX
    )
    assert response.status_code == 422 and "framerate" in inline_errors(response.text)
    assert Camera.get_by_id(camera.id).location == "Hall"


def test_unknown_camera_is_404(admin_client):
    assert admin_client.get("/cameras/999/edit").status_code == 404


def test_delete_asks_for_confirmation_without_javascript(admin_client):
    camera = make_camera(name="Garage")
    page = admin_client.get(f"/cameras/{camera.id}/delete")
    assert page.status_code == 200 and "Delete camera “Garage”?" in page.text
    assert f'action="/cameras/{camera.id}/delete"' in page.text
    assert Camera.select().count() == 1
    response = admin_client.post(f"/cameras/{camera.id}/delete")
    assert response.status_code == 303 and Camera.select().count() == 0


def test_htmx_delete_swaps_the_list_and_says_so(admin_client):
    camera, other = make_camera(name="Garage"), make_camera(name="Porch")
    list_html = admin_client.get("/cameras").text
    assert 'hx-confirm="Delete camera “Garage”?' in list_html
    response = admin_client.post(f"/cameras/{camera.id}/delete", headers=HTMX)
    assert response.status_code == 200
    assert 'id="camera-list"' in response.text and other.name in response.text
    assert 'hx-swap-oob="innerHTML"' in response.text and "Camera “Garage” deleted." in response.text
    assert Camera.select().count() == 1

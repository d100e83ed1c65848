"""Odd values through every write path (SPEC §12): never a 500, a refusal names the field and changes
nothing, and a backup taken afterwards verifies and restores exactly.

Each case sends every value of the table through one field of one write path, then takes a backup
through the API, validates it as a restore would, restores it into the database and exports again.
"""

import hashlib
import io
import json
import re

import pytest

from tests.pages.helpers import camera_form, inline_errors
from vibenvr.backups.document.canonical import SECTIONS
from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.backups.restore import restore_document

from builders import make_camera, make_group, make_profile, make_user

# name -> JSON text of the value (sent as it is, so NaN and lone surrogates reach the server unchanged)
ODD = {
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "1e400": "1e400",
    "-0.0": "-0.0",
    "lone surrogate": '"\\ud800"',
    "lone low surrogate in text": '"ok \\udfff"',
    "NUL": '"a\\u0000b"',
    "1 MB string": json.dumps("x" * 1_000_000),
    "2^63": str(2**63),
    "2^64": str(2**64),
    "-2^63-1": str(-(2**63) - 1),
    "deep list": "[" * 200 + "]" * 200,
    "deep object": '{"a":' * 100 + "1" + "}" * 100,
}
PLAIN = {"-0.0", "2^63", "2^64", "-2^63-1"}  # ordinary JSON numbers: refused only where out of range
DEEP = {"deep list", "deep object"}  # refused before parsing: the message says how deep, not where


def config_now():
    """The whole configuration, as a backup holds it, without usage stamps (a request marks its token)."""
    doc = export_document()
    sections = {s: doc[s] for s in SECTIONS}
    sections["api_tokens"] = [{**t, "last_used_at": None} for t in sections["api_tokens"]]
    return sections


def assert_backup_restores(api):
    created = api.post("/api/backups")
    assert created.status_code == 201, created.get_json()
    data = api.get(f"/api/backups/{created.get_json()['name']}").data
    valid = validate_document(data)  # the same validation as a restore
    restore_document(valid, force=True)
    again = export_document()
    assert {s: again[s] for s in SECTIONS} == {s: valid.doc[s] for s in SECTIONS}


def with_field(body, path, raw):
    """JSON text of ``body`` with ``raw`` (JSON text) at ``path`` (``extra.x``, ``privacy_masks``)."""
    marker = "__ODD_VALUE__"
    target = body = json.loads(json.dumps(body))
    keys = path.split(".")
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = marker
    return json.dumps(body).replace(json.dumps(marker), raw)


def send_all(api, method, url, body, field, named=None):
    """Send each odd value at ``field``; a refusal must be a 4xx naming it and change nothing."""
    named = named or field.split(".")[0]
    accepted = []
    for n, (name, raw) in enumerate(ODD.items()):
        before = config_now()
        unique = {k: f"{body[k]}{n}" for k in ("name", "username", "path") if k in body and k != field}
        response = api.request(
            method, url, data=with_field({**body, **unique}, field, raw), headers={"Content-Type": "application/json"}
        )
        assert response.status_code < 500, (name, response.status_code, response.data[:300])
        if response.status_code >= 400:
            text = json.dumps(response.get_json())
            assert name in DEEP and "nested" in text or named in text, (name, text[:300])
            assert config_now() == before, f"{method} {url} with {name} at {field} was refused but changed something"
        else:
            accepted.append(name)
    # plain numbers, where a number may be any; inside free JSON a NUL is text like any other (stored as \u0000)
    assert set(accepted) <= PLAIN | ({"NUL"} if field.startswith("extra.") else set()), accepted
    assert_backup_restores(api)
    return accepted


CAMERA = {"name": "Odd", "rtsp_url": "rtsp://h/s"}
CAMERA_FIELDS = [
    "name",
    "location",
    "rtsp_url",
    "framerate",
    "rotation",
    "retention_days",
    "storage_profile_id",
    "motion_threshold",
    "onvif_port",
    "onvif_password",
    "overlay_text",
    "sort_order",
    "enabled",
    "extra.x",
    "extra",
    "privacy_masks",
    "motion_zones",
    "schedule",
    "schedule.monday",
    "group_ids",
]


@pytest.mark.parametrize("field", CAMERA_FIELDS)
def test_odd_values_through_the_camera_api(app, api, field):
    camera = make_camera(name="Existing")
    send_all(api, "POST", "/api/cameras", CAMERA, field)
    send_all(api, "PATCH", f"/api/cameras/{camera.id}", {}, field)


@pytest.mark.parametrize("field", ["privacy_masks", "motion_zones"])
def test_odd_coordinates_through_the_camera_api(app, api, field):
    for name, raw in ODD.items():
        body = json.dumps({**CAMERA, field: "__P__"}).replace('"__P__"', f"[[[{raw}, 0], [1, 1], [0, 1]]]")
        response = api.post("/api/cameras", data=body, headers={"Content-Type": "application/json"})
        assert response.status_code < 500 and (response.status_code >= 400 or name == "-0.0"), name
    assert_backup_restores(api)


@pytest.mark.parametrize("field", ["name", "description", "camera_ids"])
def test_odd_values_through_the_group_api(app, api, field):
    group = make_group(name="Existing")
    send_all(api, "POST", "/api/groups", {"name": "Odd"}, field)
    send_all(api, "PATCH", f"/api/groups/{group.id}", {}, field)


@pytest.mark.parametrize("field", ["name", "path", "description", "max_size_gb"])
def test_odd_values_through_the_storage_profile_api(app, api, field):
    profile = make_profile(name="Existing")
    send_all(api, "POST", "/api/storage-profiles", {"name": "Odd", "path": "/odd"}, field)
    send_all(api, "PATCH", f"/api/storage-profiles/{profile.id}", {}, field)


@pytest.mark.parametrize(
    "field",
    [
        "username",
        "email",
        "role",
        "language",
        "password",
        "restrict_camera_access",
        "allowed_camera_ids",
        "allowed_group_ids",
    ],
)
def test_odd_values_through_the_user_api(app, api, field):
    user = make_user("existing", role="viewer")
    send_all(
        api, "POST", "/api/users", {"username": "odd", "password": "a long enough password", "role": "viewer"}, field
    )
    send_all(api, "PATCH", f"/api/users/{user.id}", {}, field)


@pytest.mark.parametrize("field", ["name", "expires_in_days"])
def test_odd_values_through_the_token_api(app, api, field):
    send_all(api, "POST", "/api/tokens", {"name": "odd"}, field)


@pytest.mark.parametrize(
    "field",
    [
        "system_name",
        "timezone",
        "max_storage_gb",
        "min_free_space_gb",
        "default_retention_days",
        "smtp_port",
        "opt_live_view_quality",
        "backup_auto_enabled",
        "backup_auto_frequency_hours",
        "backup_auto_retention",
    ],
)
def test_odd_values_through_patch_settings(app, api, field):
    send_all(api, "PATCH", "/api/settings", {}, field)


# --- files: import, restore and merge ------------------------------------------------------------


def poisoned_file(section, index, path, raw):
    """A backup whose checksum matches (computed as Python's lenient json would) with ``raw`` at a field."""
    doc = export_document()
    doc.pop("checksum")
    marker = "__ODD_VALUE__"
    target = doc[section][index] if index is not None else doc[section]
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = marker
    value = json.loads(raw)  # NaN, inf, a lone surrogate: what an attacker's json.dumps would checksum
    target[keys[-1]] = value
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    doc["checksum"] = {
        "algorithm": "sha256",
        "value": hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest(),
    }
    target[keys[-1]] = marker
    return json.dumps(doc).replace(json.dumps(marker), raw).encode()


FILE_FIELDS = [
    ("cameras", 0, "name"),
    ("cameras", 0, "extra.x"),
    ("cameras", 0, "framerate"),
    ("cameras", 0, "id"),
    ("settings", None, "max_storage_gb"),
    ("settings", None, "system_name"),
    ("users", 0, "allowed_camera_ids"),
    ("storage_profiles", 0, "max_size_gb"),
    ("groups", 0, "name"),
]


@pytest.fixture
def configured(app, admin):
    profile = make_profile(name="Disk")
    camera = make_camera(name="Cam", storage_profile_id=profile.id, extra={"x": 1})
    make_group(name="Group", camera_ids=[camera.id])


@pytest.mark.parametrize(("section", "index", "field"), FILE_FIELDS)
def test_odd_values_in_a_backup_file_are_refused_by_import_restore_and_merge(configured, api, section, index, field):
    for name, raw in ODD.items():
        if name in DEEP or name == "1 MB string":
            continue  # covered by the hostile-file table (tests/backups/test_hostile_files.py)
        data = poisoned_file(section, index, field, raw)
        before = config_now()
        listed = api.get("/api/backups").get_json()["backups"]
        answers = [
            api.post(
                "/api/backups/import", data={"file": (io.BytesIO(data), "odd.json")}, content_type="multipart/form-data"
            ),
            api.post("/api/config/restore?safety=false", data=data, headers={"Content-Type": "application/json"}),
            api.post(
                "/api/config/restore?safety=false&mode=merge", data=data, headers={"Content-Type": "application/json"}
            ),
        ]
        for response in answers:
            assert response.status_code < 500, (name, response.data[:300])
            if response.status_code >= 400:
                assert config_now() == before
            elif name not in PLAIN and not (name == "NUL" and field.startswith("extra.")):
                pytest.fail(f"{name} at {section}.{field} was accepted: {response.get_json()}")
        if answers[0].status_code >= 400:
            assert api.get("/api/backups").get_json()["backups"] == listed  # nothing stored
    assert_backup_restores(api)


# --- page forms ------------------------------------------------------------------------------------

FORM_ODD = {
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "1e400": "1e400",
    "-0.0": "-0.0",
    "NUL": "a\x00b",
    "1 MB string": "x" * 1_000_000,
    "2^63": str(2**63),
    "2^64": str(2**64),
    "json NaN": '{"x": NaN}',
    "json surrogate": '{"x": "\\ud800"}',
    "json 1e400": "[[[1e400, 0], [1, 1], [0, 1]]]",
    "json deep": "[" * 200 + "]" * 200,
}


def send_form(admin_client, url, base, field, api):
    for n, (name, value) in enumerate(FORM_ODD.items()):
        before = config_now()
        unique = {k: f"{base[k]}{n}" for k in ("name", "username", "path") if k in base and k != field}
        paired = {"confirm": value} if field == "password" else {}  # the form's second password box
        response = admin_client.post(url, data={**base, **unique, field: value, **paired})
        assert response.status_code < 500, (name, field, response.status_code)
        if response.status_code >= 400:
            assert config_now() == before, (name, field)
            html = response.get_data(as_text=True)
            errors = inline_errors(html)  # {field: message} beside each input, or the page's list of problems
            alert = re.search(r'class="message message-error" role="alert"[^>]*>(.*?)</div>', html, re.S)
            assert field in errors or (alert and re.search(rf"\b{field}\b", alert.group(1))), (name, field, errors)
    assert_backup_restores(api)


@pytest.mark.parametrize(
    "field",
    ["name", "framerate", "onvif_port", "extra", "privacy_masks", "motion_zones", "overlay_text", "storage_profile_id"],
)
def test_odd_values_through_the_camera_form(app, admin_client, api, field):
    send_form(admin_client, "/cameras/new", camera_form(), field, api)


@pytest.mark.parametrize("field", ["name", "description", "camera_ids"])
def test_odd_values_through_the_group_form(app, admin_client, api, field):
    send_form(admin_client, "/groups/new", {"name": "Odd"}, field, api)


@pytest.mark.parametrize("field", ["name", "path", "max_size_gb"])
def test_odd_values_through_the_storage_form(app, admin_client, api, field):
    send_form(admin_client, "/storage/new", {"name": "Odd", "path": "/odd", "max_size_gb": "1"}, field, api)


@pytest.mark.parametrize("field", ["system_name", "max_storage_gb", "smtp_port", "backup_auto_frequency_hours"])
def test_odd_values_through_the_global_settings_form(app, admin_client, api, field):
    from vibenvr.settings.forms import shown_values
    from vibenvr.settings.service import get_settings

    base = {k: ("on" if v is True else "" if v is False else str(v)) for k, v in shown_values(get_settings()).items()}
    send_form(admin_client, "/settings/global", base, field, api)


@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_odd_values_through_the_user_form(app, admin_client, api, field):
    base = {
        "username": "odd",
        "email": "",
        "role": "viewer",
        "password": "a long enough password",
        "confirm": "a long enough password",
    }
    send_form(admin_client, "/users", base, field, api)


# --- ids beyond the database's range --------------------------------------------------------------

HUGE_IDS = [str(2**63), str(2**64), "9" * 40]
ID_ROUTES = ["/api/cameras/{}", "/api/groups/{}", "/api/storage-profiles/{}", "/api/users/{}", "/api/tokens/{}"]
ID_PAGES = ["/cameras/{}/edit", "/groups/{}/edit", "/storage/{}/edit", "/users/{}"]


@pytest.mark.parametrize("huge", HUGE_IDS)
@pytest.mark.parametrize("route", ID_ROUTES)
def test_ids_beyond_the_database_range_are_404_on_every_api_route(app, api, route, huge):
    for method in ("GET", "PATCH", "DELETE"):
        response = api.request(method, route.format(huge), json={"name": "x"} if method == "PATCH" else None)
        assert response.status_code == 404, (method, response.status_code)
        assert response.get_json()["error"]
    assert api.get(route.format(2**63 - 1)).status_code == 404  # the largest id the database can hold: absent


@pytest.mark.parametrize("route", ID_PAGES)
def test_ids_beyond_the_database_range_are_404_on_every_page(app, admin_client, route):
    for huge in HUGE_IDS:
        assert admin_client.get(route.format(huge)).status_code == 404
        assert admin_client.post(route.format(huge), data={"name": "x"}).status_code == 404

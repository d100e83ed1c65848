"""Hostile backup files: each gets a clear error naming the place, changes nothing and writes no file."""

import copy
import io
import json

import pytest

from vibenvr.backups.document.canonical import SCHEMA_VERSION, encode
from vibenvr.backups.document.export import export_document

from .helpers import backup_files, build_rich_config, recount, snapshot


def _tampered(mutate, sign=True):
    def make(doc):
        doc = copy.deepcopy(doc)
        doc.pop("checksum", None)
        mutate(doc)
        recount(doc)
        return encode(doc) if sign else json.dumps({**doc, "checksum": {"algorithm": "sha256", "value": "0" * 64}})

    return make


def _raw(data):
    return lambda doc: data


def _set_camera(**fields):
    return lambda doc: doc["cameras"][0].update(fields)


def _checksum_mismatch(doc):
    data = json.loads(encode(doc))
    data["settings"]["system_name"] = "Tampered"
    return json.dumps(data)


def _no_admin(doc):
    for user in doc["users"]:
        user["role"] = "viewer"


HOSTILE = {
    "not JSON": (_raw(b"this is not a backup"), 400, "is not valid JSON: Expecting value (line 1 column 1)"),
    "empty": (_raw(b""), 400, "is empty"),
    "a JSON array": (_raw(b"[1, 2, 3]"), 400, "holds an array; a backup is a JSON object"),
    "truncated": (lambda doc: encode(doc)[:5000], 400, "the file looks truncated"),
    "invalid UTF-8": (lambda doc: encode(doc).replace(b"Fast disk", b"Fast \xff\xfeisk"), 400, "is not UTF-8 text"),
    "10,000-level nesting": (_raw(b'{"a":' + b"[" * 10000 + b"]" * 10000 + b"}"), 400, "nested too deeply"),
    "wrong format": (
        _tampered(lambda d: d.update(format="camera-export")),
        422,
        'format is \'camera-export\'; a VibeNVR backup has "format": "vibenvr-backup"',
    ),
    "a future schema_version": (
        _tampered(lambda d: d.update(schema_version=SCHEMA_VERSION + 1)),
        422,
        f"schema_version is {SCHEMA_VERSION + 1}, newer than the {SCHEMA_VERSION}",
    ),
    "a checksum mismatch": (_checksum_mismatch, 422, "checksum does not match the contents"),
    "a missing section": (_tampered(lambda d: d.pop("groups")), 422, "groups: the section is missing"),
    "wrong types": (
        _tampered(_set_camera(framerate="fast")),
        422,
        'cameras[0] "Garage 🚗": framerate must be a whole number',
    ),
    "duplicate ids": (
        _tampered(lambda d: d["cameras"][1].update(id=d["cameras"][0]["id"])),
        422,
        'cameras[1] "Nursery": id 1 is already used by cameras[0] "Garage 🚗"',
    ),
    "duplicate usernames": (
        _tampered(lambda d: d["users"][2].update(username="alice")),
        422,
        'users[2] "alice": username "alice" is already used by users[1] "alice"',
    ),
    "an association to a missing camera": (
        _tampered(lambda d: d["associations"].append({"camera_id": 999, "group_id": 1})),
        422,
        "camera_id 999 refers to a camera that is not in the backup",
    ),
    "a token owned by a missing user": (
        _tampered(lambda d: d["api_tokens"][1].update(username="ghost")),
        422,
        'api_tokens[1] "ci": username "ghost" is not a user in the backup',
    ),
    "a storage path with ..": (
        _tampered(lambda d: d["storage_profiles"][0].update(path="/recordings/../etc")),
        422,
        "storage_profiles[0] \"Fast disk\": path must not contain '..'",
    ),
    "a polygon out of range": (
        _tampered(_set_camera(privacy_masks=[[[0.1, 0.1], [1.5, 0.2], [0.3, 0.4]]])),
        422,
        'cameras[0] "Garage 🚗": privacy_masks[0][1] has 1.5, coordinates must be between 0 and 1',
    ),
    "a polygon with two points": (
        _tampered(_set_camera(motion_zones=[[[0.1, 0.1], [0.2, 0.2]]])),
        422,
        'cameras[0] "Garage 🚗": motion_zones[0] has 2 points, a polygon needs at least 3',
    ),
    "an overlapping schedule": (
        _tampered(_set_camera(schedule={"monday": [["20:00", "07:00"]], "tuesday": [["06:00", "09:00"]]})),
        422,
        'cameras[0] "Garage 🚗": schedule.tuesday[0] 06:00–09:00 overlaps schedule.monday[0] 20:00–07:00',
    ),
    "a non-base32 TOTP secret": (
        _tampered(lambda d: d["users"][1].update(totp_secret="NOT-BASE32-SECRET!")),
        422,
        'users[1] "alice": totp_secret is not base32',
    ),
    "no admin": (_tampered(_no_admin), 409, "no active administrator"),
}


@pytest.fixture
def configured(api):
    build_rich_config()  # no app context stays pushed: each request gets its own, as in production
    return export_document()


def _error_text(response):
    body = response.get_json()
    assert body is not None and "error" in body, response.data[:300]
    return " | ".join([body["error"], *body.get("errors", [])])


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_restoring_a_hostile_file_is_refused_and_changes_nothing(app, api, configured, case):
    make, status, message = HOSTILE[case]
    before = snapshot()
    response = api.post("/api/config/restore", data=make(configured), headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.get_json()
    assert message in _error_text(response)
    assert snapshot() == before
    assert backup_files(app) == []


@pytest.mark.parametrize("case", [c for c in HOSTILE if HOSTILE[c][1] != 409])
def test_importing_a_hostile_file_is_refused_and_writes_nothing(app, api, configured, case):
    make, status, message = HOSTILE[case]
    data = make(configured)
    data = data.encode() if isinstance(data, str) else data
    response = api.post(
        "/api/backups/import", data={"file": (io.BytesIO(data), "evil.json")}, content_type="multipart/form-data"
    )
    assert response.status_code == status
    assert message in _error_text(response)
    assert backup_files(app) == []


def test_a_file_without_admins_may_be_imported_it_is_only_refused_at_restore(app, api, configured):
    data = HOSTILE["no admin"][0](configured)
    response = api.post(
        "/api/backups/import", data={"file": (io.BytesIO(data), "viewers.json")}, content_type="multipart/form-data"
    )
    assert response.status_code == 201
    name = response.get_json()["name"]
    assert api.post(f"/api/backups/{name}/restore").status_code == 409
    assert backup_files(app) == [name]

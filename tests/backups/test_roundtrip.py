"""Round trip: export, restore into an empty database, export again: the sections are identical."""

import datetime as dt
import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vibenvr.backups.document.canonical import FORMAT, SCHEMA_VERSION, SECTIONS, encode
from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.backups.restore import restore_document
from vibenvr.db import db
from vibenvr.settings.registry import SETTINGS
from vibenvr.timeutil import iso

from .helpers import FAKE_ARGON2, RECIPIENTS, build_rich_config, location_item, sections
from conftest import make_app

WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

names = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=24).map(str.strip).filter(bool)
times = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)).map(
    lambda t: iso(t.replace(microsecond=0))
)
coordinates = st.floats(min_value=0, max_value=1, allow_nan=False)
polygons = st.lists(st.lists(st.tuples(coordinates, coordinates).map(list), min_size=3, max_size=6), max_size=3)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | names,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def day_windows(draw):
    """Zero to two windows inside one day, in order and apart; a window may end at 24:00."""
    marks = sorted(draw(st.lists(st.integers(0, 288), min_size=0, max_size=4, unique=True)))
    marks = marks[: len(marks) // 2 * 2]
    text = [f"{m * 5 // 60:02d}:{m * 5 % 60:02d}" for m in marks]
    return [[text[i], text[i + 1]] for i in range(0, len(text), 2) if text[i] != "24:00"]


schedules = st.dictionaries(st.sampled_from(WEEK), day_windows(), max_size=7)


def _setting_values():
    chosen = {}
    for key, definition in SETTINGS.items():
        if definition.type == "bool":
            chosen[key] = st.booleans()
        elif definition.type == "int":
            chosen[key] = st.integers(int(definition.min), int(definition.max))
        elif definition.type == "float":
            chosen[key] = st.floats(definition.min, definition.max, allow_nan=False)
        elif definition.type == "choice":
            chosen[key] = st.sampled_from(definition.choices)
    chosen["system_name"] = names
    return st.fixed_dictionaries({}, optional=chosen)


@st.composite
def configurations(draw):
    """A valid v2 document with every kind of row, unicode names, gaps in ids and empty sections."""
    ids = lambda n: draw(st.lists(st.integers(1, 10_000), min_size=n, max_size=n, unique=True))  # noqa: E731
    profile_names = draw(st.lists(names, max_size=3, unique=True))
    profiles = [
        {
            "id": i,
            "name": name,
            "path": f"/recordings/{n}",
            "description": draw(names),
            "max_size_gb": draw(st.floats(0, 1000, allow_nan=False)),
        }
        for n, (i, name) in enumerate(zip(ids(len(profile_names)), profile_names, strict=True))
    ]
    camera_names = draw(st.lists(names, max_size=4, unique=True))
    cameras = [
        {
            "id": i,
            "name": name,
            "rtsp_url": f"rtsp://u:p%40ss@10.0.0.{n + 1}:554/s",
            "created_at": draw(times),
            "enabled": draw(st.booleans()),
            "privacy_masks": draw(polygons),
            "motion_zones": draw(polygons),
            "schedule": draw(schedules),
            "overlay_text": draw(names),
            "extra": draw(st.dictionaries(names, json_values, max_size=3)),
            "storage_profile_id": draw(st.sampled_from([None] + [p["id"] for p in profiles])),
            "recording_mode": draw(st.sampled_from(("continuous", "motion", "off"))),
        }
        for n, (i, name) in enumerate(zip(ids(len(camera_names)), camera_names, strict=True))
    ]
    group_names = draw(st.lists(names, max_size=3, unique=True))
    groups = [
        {"id": i, "name": name, "description": draw(names)}
        for i, name in zip(ids(len(group_names)), group_names, strict=True)
    ]
    pairs = [(c["id"], g["id"]) for c in cameras for g in groups]
    links = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    usernames = draw(st.lists(names.map(lambda s: s[:64]), min_size=1, max_size=3, unique=True))
    users = []
    for n, (i, username) in enumerate(zip(ids(len(usernames)), usernames, strict=True)):
        two_factor = draw(st.booleans())
        users.append(
            {
                "id": i,
                "username": username,
                "hashed_password": FAKE_ARGON2,
                "created_at": draw(times),
                "role": "admin" if n == 0 else draw(st.sampled_from(("admin", "viewer"))),
                "is_active": n == 0 or draw(st.booleans()),
                "is_2fa_enabled": two_factor,
                "totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
                if two_factor
                else draw(st.sampled_from([None, "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"])),
                "restrict_camera_access": draw(st.booleans()),
                "allowed_camera_ids": sorted(draw(st.sets(st.sampled_from([c["id"] for c in cameras] or [0]))) - {0}),
                "allowed_group_ids": sorted(draw(st.sets(st.sampled_from([g["id"] for g in groups] or [0]))) - {0}),
                "language": draw(st.sampled_from(("en", "fr", "de"))),
            }
        )
    owner = st.sampled_from(usernames)
    tokens = [
        {
            "id": i,
            "name": draw(names),
            "username": draw(owner),
            "created_at": draw(times),
            "token_hash": hashlib.sha256(f"token {i}".encode()).hexdigest(),
            "is_active": draw(st.booleans()),
            "last_used_at": draw(st.none() | times),
            "expires_at": draw(st.none() | times),
        }
        for i in ids(draw(st.integers(0, 3)))
    ]
    codes = [
        {"id": i, "username": draw(owner), "code_hash": FAKE_ARGON2, "created_at": draw(times)}
        for i in ids(draw(st.integers(0, 3)))
    ]
    devices = [
        {
            "id": i,
            "username": draw(owner),
            "name": draw(names),
            "created_at": draw(times),
            "token_hash": hashlib.sha256(f"device {i}".encode()).hexdigest(),
            "expires_at": draw(times),
            "last_used": draw(st.none() | times),
        }
        for i in ids(draw(st.integers(0, 2)))
    ]
    keys = [
        {"id": i, "name": f"key {n} {draw(names)}".strip(), "recipient": RECIPIENTS[n], "created_at": draw(times)}
        for n, i in enumerate(ids(draw(st.integers(0, len(RECIPIENTS)))))
    ]
    places = [
        {
            **location_item(draw(st.sampled_from(("folder", "s3", "sftp", "webdav")))),
            "id": i,
            "name": f"place {n} {draw(names)}".strip(),
            "enabled": draw(st.booleans()),
            "retention": draw(st.none() | st.integers(1, 1000)),
            "created_at": draw(times),
        }
        for n, i in enumerate(ids(draw(st.integers(0, 2))))
    ]
    doc = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "version": "2.0",
        "timestamp": draw(times),
        "kind": draw(st.sampled_from(("auto", "manual", "imported", "safety"))),
        "app_version": "test",
        "settings": draw(_setting_values()),
        "storage_profiles": profiles,
        "cameras": cameras,
        "groups": groups,
        "associations": [{"camera_id": c, "group_id": g} for c, g in links],
        "users": users,
        "api_tokens": tokens,
        "recovery_codes": codes,
        "trusted_devices": devices,
        "backup_recipients": keys,
        "backup_locations": places,
    }
    doc["counts"] = {s: len(doc[s]) for s in SECTIONS}
    return doc


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(doc=configurations())
def test_generated_configurations_survive_a_round_trip(app, doc):
    valid = validate_document(encode(doc))
    restore_document(valid)
    first = export_document()
    assert sections(first) == sections(valid.doc)
    restore_document(validate_document(encode(first)))
    assert sections(export_document()) == sections(first)


def test_a_rich_configuration_restored_into_an_empty_database_exports_the_same(app, tmp_path):
    build_rich_config()
    original = export_document()
    data = encode(original)
    db.close()
    make_app(tmp_path / "empty")  # binds the database to a new, empty data folder
    db.connect()
    assert export_document()["counts"]["cameras"] == 0
    restore_document(validate_document(data))
    assert sections(export_document()) == sections(original)

"""The backup document: export covers everything in the shared vocabulary, the checksum rule, encoding."""

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from vibenvr.backups.document import checks
from vibenvr.backups.document.canonical import (
    FORMAT,
    SCHEMA_VERSION,
    SECTIONS,
    canonical_bytes,
    compute_checksum,
    encode,
)
from vibenvr.backups.document.export import export_bytes, export_document
from vibenvr.backups.document.validate import parse_bytes, validate_document
from vibenvr.backups.errors import BackupError
from vibenvr.cameras.service import camera_to_dict
from vibenvr.groups.service import group_to_dict
from vibenvr.models import Camera, Group, StorageProfile
from vibenvr.settings.registry import SETTINGS
from vibenvr.storage.service import profile_to_dict

from .helpers import recount, sections, signed

NOW = dt.datetime(2026, 11, 29, 22, 40, 0)


def test_export_has_the_header_every_section_counts_and_checksum(rich):
    doc = export_document("manual", now=NOW, app_version="9.9.9")
    assert doc["format"] == FORMAT and doc["schema_version"] == SCHEMA_VERSION
    assert doc["version"] == "2.0"
    assert doc["timestamp"] == "2026-11-29T22:40:00Z"
    assert doc["kind"] == "manual" and doc["app_version"] == "9.9.9"
    assert all(section in doc for section in SECTIONS)
    assert doc["counts"] == {s: len(doc[s]) for s in SECTIONS}
    assert doc["counts"]["cameras"] == 3 and doc["counts"]["recovery_codes"] == 3
    assert doc["checksum"] == compute_checksum(doc)


def test_export_uses_the_api_vocabulary_for_cameras_groups_and_profiles(rich):
    doc = export_document()
    assert doc["cameras"] == [camera_to_dict(c) for c in Camera.select().order_by(Camera.id)]
    assert doc["groups"] == [group_to_dict(g) for g in Group.select().order_by(Group.id)]
    assert doc["storage_profiles"] == [profile_to_dict(p) for p in StorageProfile.select().order_by(StorageProfile.id)]


def test_export_carries_every_setting_users_secrets_and_security_rows(rich):
    doc = export_document()
    assert set(doc["settings"]) == set(SETTINGS)
    assert doc["settings"]["system_name"] == "Home NVR" and doc["settings"]["max_storage_gb"] == 12.5
    admin = next(u for u in doc["users"] if u["username"] == "alice")
    assert admin["hashed_password"].startswith("$argon2")
    assert admin["totp_secret"] and admin["is_2fa_enabled"] is True and admin["is_active"] is True
    viewer = next(u for u in doc["users"] if u["username"] == "zoë")
    assert viewer["allowed_camera_ids"] and viewer["allowed_group_ids"] and viewer["language"] == "fr"
    assert {t["name"] for t in doc["api_tokens"]} == {"ci", "phone"}
    assert all(len(t["token_hash"]) == 64 and t["username"] for t in doc["api_tokens"])
    assert all(c["username"] == "alice" for c in doc["recovery_codes"])
    assert doc["trusted_devices"][0]["expires_at"] == "2026-12-29T22:40:00Z"
    assert {a["group_id"] for a in doc["associations"]} and all(
        set(a) == {"camera_id", "group_id"} for a in doc["associations"]
    )


def test_canonical_bytes_are_exactly_the_specified_json_dumps(rich):
    doc = export_document()
    body = {k: v for k, v in doc.items() if k != "checksum"}
    expected = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert canonical_bytes(doc) == expected
    assert compute_checksum(doc) == {"algorithm": "sha256", "value": hashlib.sha256(expected).hexdigest()}


def test_encoded_file_parses_back_to_the_same_document_with_a_matching_checksum(rich):
    data = export_bytes("auto", now=NOW)
    doc = export_document("auto", now=NOW)
    assert data.startswith(f'{{"format":"vibenvr-backup",\n"schema_version":{SCHEMA_VERSION},'.encode())
    parsed = json.loads(data)
    assert parsed == doc
    assert list(parsed)[-1] == "checksum"
    assert encode(doc) == data


def test_export_refuses_an_unknown_kind(ctx):
    with pytest.raises(ValueError, match="kind must be one of"):
        export_document("weekly")


def test_a_valid_file_gives_its_kind_time_version_and_counts(rich):
    valid = validate_document(encode(export_document("safety", now=NOW, app_version="2.0.0")))
    assert (valid.kind, valid.created_at, valid.app_version, valid.schema_version) == (
        "safety",
        NOW,
        "2.0.0",
        SCHEMA_VERSION,
    )
    assert valid.legacy is False and valid.report == []
    assert valid.counts["cameras"] == 3
    assert valid.summary()["created_at"] == "2026-11-29T22:40:00Z"


def test_validation_normalises_times_ids_and_numbers(rich):
    doc = export_document()
    doc["cameras"][0]["created_at"] = "2026-11-29T23:40:00+01:00"
    doc["cameras"][0]["privacy_masks"] = [[[0, 0], [1, 0], [1, 1]]]
    doc["storage_profiles"][0]["max_size_gb"] = 7
    valid = validate_document(signed(doc))
    camera = valid.doc["cameras"][0]
    assert camera["created_at"] == "2026-11-29T22:40:00Z"
    assert camera["privacy_masks"] == [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]]
    assert valid.doc["storage_profiles"][0]["max_size_gb"] == 7.0


def test_missing_settings_take_their_defaults(rich):
    doc = export_document()
    del doc["settings"]["system_name"]
    doc["counts"]["settings"] -= 1
    assert validate_document(signed(doc)).doc["settings"]["system_name"] == "VibeNVR"


def test_validation_accepts_a_parsed_dict_and_text(rich):
    doc = export_document()
    assert validate_document(doc).counts == validate_document(encode(doc).decode()).counts


def test_a_byte_order_mark_is_tolerated(rich):
    assert validate_document(b"\xef\xbb\xbf" + encode(export_document())).counts["cameras"] == 3


def test_errors_are_collected_up_to_a_cap(rich):
    doc = export_document()
    doc["api_tokens"] = [
        {"id": i, "name": "", "username": "nobody", "token_hash": "x", "created_at": "now"} for i in range(1, 200)
    ]
    doc["counts"]["api_tokens"] = 199
    with pytest.raises(BackupError) as caught:
        validate_document(signed(doc))
    assert len(caught.value.errors) == checks.MAX_ERRORS + 1
    assert "stopped after 50 problems" in caught.value.errors[-1]
    assert caught.value.summary.startswith("The backup has 51 problems")


def test_all_errors_of_different_items_are_reported_together(rich):
    doc = export_document()
    doc["cameras"][0]["framerate"] = 0
    doc["groups"][1]["name"] = ""
    doc["settings"]["smtp_port"] = 70000
    with pytest.raises(BackupError) as caught:
        validate_document(signed(doc))
    text = "\n".join(caught.value.errors)
    assert 'cameras[0] "Garage 🚗": framerate must be between 1 and 120' in text
    assert "groups[1]: name must not be empty" in text
    assert "settings.smtp_port must be at most 65535" in text


CONTENT_PROBLEMS = [
    (lambda d: d.update(counts={**d["counts"], "cameras": 9}), "counts.cameras says 9, but the section has 3"),
    (lambda d: d.update(kind="weekly"), "kind is 'weekly'"),
    (lambda d: d.update(timestamp="yesterday"), "timestamp has 'yesterday'"),
    (lambda d: d.update(comment="hi"), "comment is not a known top-level key"),
    (lambda d: d.update(app_version=3), "app_version must be text"),
    (lambda d: d.update(counts=[]), "counts must be an object"),
    (lambda d: d.update(settings=[]), "settings must be an object"),
    (lambda d: d.update(users={}), "users must be a list of objects"),
    (lambda d: d["cameras"].append(5), "cameras[3] must be an object"),
    (lambda d: d["settings"].update(colour="red"), "settings.colour is not a known setting"),
    (lambda d: d["cameras"][1].update(colour="red"), 'cameras[1] "Nursery": colour is not a known field'),
    (
        lambda d: d["users"][0].update(is_2fa_enabled=True, totp_secret=None),
        'users[0] "alice": is_2fa_enabled is true but totp_secret is empty',
    ),
    (lambda d: d["users"][1].update(allowed_group_ids=[99]), "allowed_group_ids refers to groups that are not"),
    (lambda d: d["cameras"][0].update(storage_profile_id=42), "refers to storage profile 42, which is not in"),
    (lambda d: d["associations"].append(dict(d["associations"][0])), "is linked to group"),
    (lambda d: d["trusted_devices"][0].update(token_hash="zz"), "token_hash must be 64 hexadecimal digits"),
    (lambda d: d["recovery_codes"][0].update(code_hash="plain"), "code_hash is not an argon2 hash"),
    (lambda d: d["recovery_codes"].append(dict(d["recovery_codes"][0])), "id 1 is already used by"),
    (lambda d: d["api_tokens"][1].update(token_hash=d["api_tokens"][0]["token_hash"]), "token_hash"),
    (lambda d: d["users"][0].update(totp_secret="ABC"), "totp_secret cannot be used by an authenticator"),
    (lambda d: d["api_tokens"][0].update(expires_at="2026-13-45T00:00:00Z"), "expires_at has"),
    (lambda d: d["cameras"][0].update(id=[1]), 'cameras[0] "Garage 🚗": id must be a whole number'),
    (lambda d: d["users"][0].update(username={"a": 1}), "users[0]: username must be text"),
]


@pytest.mark.parametrize("mutate, message", CONTENT_PROBLEMS, ids=[m for _, m in CONTENT_PROBLEMS])
def test_content_problems_are_named_precisely(rich, mutate, message):
    doc = export_document()
    mutate(doc)
    if "counts" not in message:
        recount(doc)
    with pytest.raises(BackupError) as caught:
        validate_document(signed(doc))
    assert caught.value.status == 422
    assert any(message in error for error in caught.value.errors), caught.value.errors


def test_the_admin_label_uses_the_username_and_codes_their_owner(rich):
    doc = export_document()
    doc["recovery_codes"][2]["username"] = "ghost"
    with pytest.raises(BackupError) as caught:
        validate_document(signed(doc))
    assert caught.value.errors == ['recovery_codes[2] (user "ghost"): username "ghost" is not a user in the backup']


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "is empty"),
        ("   ", "is empty"),
        (b"\xff\xfe{}", "is not UTF-8 text (byte 0xff at position 0)"),
        (b'{"a": NaN}', "a is NaN; only finite numbers are allowed"),
        (b"[1,2", "looks truncated"),
    ],
)
def test_parse_errors_are_400_and_readable(data, message):
    with pytest.raises(BackupError) as caught:
        parse_bytes(data, "the file")
    assert caught.value.status == 400
    assert message in caught.value.errors[0]


def test_check_sections_reports_missing_sections_without_crashing():
    with pytest.raises(BackupError) as caught:
        checks.check_sections(
            {
                "format": FORMAT,
                "schema_version": SCHEMA_VERSION,
                "timestamp": "2026-11-29T22:40:00Z",
                "kind": "manual",
                "app_version": "x",
                "counts": {},
            }
        )
    assert "settings: the section is missing" in caught.value.errors
    assert len([e for e in caught.value.errors if "section is missing" in e]) == len(SECTIONS)


def test_only_the_header_depends_on_when_the_export_is_made(rich):
    early, late = export_document(now=NOW), export_document(now=NOW + dt.timedelta(days=1))
    assert early["timestamp"] != late["timestamp"] and early["checksum"] != late["checksum"]
    assert sections(early) == sections(late)
    assert sorted(c["name"] for c in early["cameras"]) == sorted(c.name for c in Camera.select())


def test_the_documented_example_is_a_valid_backup():
    text = (Path(__file__).resolve().parents[2] / "docs" / "backup-format.md").read_text(encoding="utf-8")
    example = text.split("## A complete example", 1)[1].split("```json\n", 1)[1].split("\n```", 1)[0]
    valid = validate_document(example.encode("utf-8"))
    assert valid.counts == {s: (24 if s == "settings" else 1) for s in SECTIONS}
    assert valid.doc["cameras"][0]["schedule"]["monday"] == [["08:00", "12:00"], ["20:00", "07:00"]]


def test_export_bytes_is_encode_of_export_document_before_and_after_changes(rich):
    from vibenvr.cameras.service import update_camera
    from vibenvr.models import ApiToken

    assert export_bytes(now=NOW) == encode(export_document(now=NOW))
    update_camera(Camera.get(Camera.name == "Nursery"), {"privacy_masks": [[[0.5, 0.5], [0.6, 0.5], [0.6, 0.7]]]})
    ApiToken.delete().where(ApiToken.name == "ci").execute()
    build_more = export_document()
    assert export_bytes(now=NOW) == encode(export_document(now=NOW))
    data = export_bytes(now=NOW)
    assert validate_document(data).doc["cameras"][1]["privacy_masks"] == [[[0.5, 0.5], [0.6, 0.5], [0.6, 0.7]]]
    assert len(build_more["api_tokens"]) == 1

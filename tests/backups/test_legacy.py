"""VibeNVR 1.x files: mapped to this model, unmodelled fields kept in extra, a report, and old secrets work."""

import copy
import datetime as dt
import io
import json
from pathlib import Path

import pyotp
import pytest

from vibenvr.auth.passwords import verify_password
from vibenvr.auth.tokens import user_for_token
from vibenvr.auth.twofactor import matching_step
from vibenvr.backups.document.canonical import encode
from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.backups.errors import BackupError
from vibenvr.backups.restore import restore_document
from vibenvr.models import RecoveryCode, TrustedDevice, User

from .helpers import backup_files, sections

LEGACY = Path(__file__).with_name("data") / "vibenvr_1x_backup.json"


@pytest.fixture
def legacy_bytes():
    return LEGACY.read_bytes()


def _legacy(**changes):
    data = json.loads(LEGACY.read_text())
    data.update(changes)
    return data


def test_a_1x_file_is_recognised_mapped_and_reported(legacy_bytes):
    valid = validate_document(legacy_bytes, source="old.json")
    assert valid.legacy is True and valid.kind == "imported" and valid.app_version == "VibeNVR 1.0"
    assert valid.created_at.isoformat() == "2025-11-29T23:40:12"
    assert valid.counts == {
        "settings": 25,
        "storage_profiles": 2,
        "cameras": 2,
        "groups": 2,
        "associations": 2,
        "users": 2,
        "api_tokens": 1,
        "recovery_codes": 1,
        "trusted_devices": 1,
        "backup_recipients": 0,
        "backup_locations": 0,
    }
    report = "\n".join(valid.report)
    assert report.startswith("VibeNVR 1.0 file from 2025-11-29T23:40:12Z: mapped 9 settings, 2 storage profiles")
    assert "kept 3 setting(s) this version does not use in settings.extra" in report
    assert 'storage_profiles[1] "NAS": dropped sftp_host' in report
    assert 'users[2] "sso-user": dropped, no password' in report
    assert "api_tokens[1]: dropped, its owner None is not among the users" in report
    assert "dropped the section federated_nodes" in report
    assert "cameras: kept fields this version does not model in extra: ai_enabled, ai_object_types" in report


def test_camera_fields_masks_and_the_overnight_schedule_are_mapped(legacy_bytes):
    doc = validate_document(legacy_bytes).doc
    garage, nursery = doc["cameras"]
    assert (garage["id"], garage["recording_mode"], garage["schedule"]) == (3, "motion", {})
    assert nursery["recording_mode"] == "continuous" and nursery["enabled"] is True
    assert nursery["schedule"] == {"monday": [["20:00", "07:00"]], "tuesday": []}
    assert nursery["privacy_masks"] == [[[0.0, 0.0], [0.2, 0.0], [0.2, 0.3]]]
    assert nursery["motion_zones"] == [[[0.5, 0.5], [1.0, 0.5], [1.0, 1.0], [0.5, 1.0]]]
    assert nursery["notify_email_to"] == "parents@example.com" and nursery["notify_email"] is True
    assert nursery["extra"]["ai_object_types"] == ["person"] and nursery["extra"]["captured_before"] == 30
    assert "status" not in nursery["extra"] and "last_seen" not in nursery["extra"]
    assert doc["settings"]["smtp_host"] == "mail.example.com" and doc["settings"]["max_storage_gb"] == 500.0
    assert doc["settings"]["backup_auto_frequency_hours"] == 12 and doc["settings"]["backup_auto_enabled"] is True
    assert doc["settings"]["extra"] == {
        "opt_ffmpeg_preset": "veryslow",
        "cleanup_enabled": "true",
        "default_landing_page": "live",
    }
    assert [g["id"] for g in doc["groups"]] == [1, 2]
    assert doc["associations"] == [{"camera_id": 3, "group_id": 1}, {"camera_id": 7, "group_id": 2}]


def test_imported_users_keep_passwords_totp_tokens_codes_and_devices(ctx, legacy_bytes):
    restore_document(validate_document(legacy_bytes))
    admin = User.get(User.username == "admin")
    assert verify_password(admin.hashed_password, "old admin password")
    assert verify_password(User.get(User.username == "guest").hashed_password, "old guest password")
    assert pyotp.TOTP(admin.totp_secret).verify(pyotp.TOTP("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").now())
    assert user_for_token("vnvr_legacy_token_from_1x").username == "admin"
    assert verify_password(RecoveryCode.get().code_hash, "ABCD-EFGH")
    assert TrustedDevice.get().name == "Chrome on laptop"
    assert admin.extra == {"auth_source": "local", "avatar_path": "/data/avatars/admin.png", "oauth_enabled": True}


def test_the_next_backup_still_carries_what_was_kept(ctx, legacy_bytes):
    valid = validate_document(legacy_bytes)
    restore_document(valid)
    first = export_document()
    assert sections(first) == sections(valid.doc)
    restore_document(validate_document(encode(first)))
    assert sections(export_document()) == sections(first)
    assert first["settings"]["extra"]["cleanup_enabled"] == "true"


def test_legacy_files_need_no_checksum_but_are_still_fully_checked():
    data = _legacy()
    data["cameras"][0]["rtsp_url"] = "ftp://camera.lan/stream"
    with pytest.raises(BackupError) as caught:
        validate_document(json.dumps(data))
    assert caught.value.errors == ['cameras[0] "Garage": rtsp_url must start with rtsp://, rtsps://, http://, https://']


def test_an_unreadable_legacy_timestamp_is_refused():
    with pytest.raises(BackupError, match="timestamp 'yesterday'"):
        validate_document(json.dumps(_legacy(timestamp="yesterday")))


def test_overlapping_overnight_windows_are_cut_at_midnight_and_reported():
    data = _legacy()
    camera = data["cameras"][1]
    camera.update(schedule_tuesday=True, schedule_tuesday_start="06:00", schedule_tuesday_end="22:00")
    valid = validate_document(json.dumps(data))
    assert valid.doc["cameras"][1]["schedule"]["monday"] == [["20:00", "24:00"]]
    assert any("schedule.monday 20:00–07:00 overlapped the next day" in line for line in valid.report)


def test_odd_legacy_values_are_mapped_with_a_report():
    data = _legacy()
    data["cameras"][0].update(recording_mode="Timelapse", privacy_masks="not json")
    data["users"][1]["role"] = "operator"
    data["settings"] = {"smtp_port": "25", "theme": "dark"}
    valid = validate_document(json.dumps(copy.deepcopy(data)))
    report = "\n".join(valid.report)
    assert "recording_mode 'Timelapse' became motion" in report
    assert 'cameras[0] "Garage": privacy_masks: dropped, not readable as polygons' in report
    assert "role 'operator' became viewer" in report
    assert valid.doc["settings"]["smtp_port"] == 25 and valid.doc["settings"]["extra"] == {"theme": "dark"}


@pytest.mark.parametrize("depth", [100, 5000, 100_000])
def test_a_mask_string_nested_far_deeper_than_a_polygon_is_refused_naming_the_camera(app, api, depth):
    """SPEC §12: no RecursionError (a 500) from a 1.x mask string; the file is refused and nothing stored."""
    data = _legacy()
    data["cameras"][0]["privacy_masks"] = "[" * depth + "]" * depth
    with pytest.raises(BackupError) as caught:
        validate_document(json.dumps(data))
    assert caught.value.status == 422
    assert 'cameras[0] "Garage": privacy_masks is nested more than 64 levels deep' in caught.value.errors[0]
    response = api.post(
        "/api/backups/import",
        data={"file": (io.BytesIO(json.dumps(data).encode()), "old.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "nested" in response.get_json()["error"]
    assert backup_files(app) == []


@pytest.mark.parametrize(
    "value", ['[{"points": [[NaN, 0], [1, 1], [0, 1]]}]', '[{"points": [[1e400, 0], [1, 1], [0, 1]]}]']
)
def test_a_mask_string_with_a_non_finite_number_is_dropped_with_a_report(value):
    data = _legacy()
    data["cameras"][0]["privacy_masks"] = value
    valid = validate_document(json.dumps(data))
    assert valid.doc["cameras"][0]["privacy_masks"] == []
    assert any("privacy_masks: dropped, not readable as polygons" in line for line in valid.report)


def test_legacy_files_can_be_imported_and_restored_through_the_api(app, api, legacy_bytes):
    response = api.post(
        "/api/backups/import",
        data={"file": (io.BytesIO(legacy_bytes), "vibenvr_1x.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    name = response.get_json()["name"]
    assert (app.config["BACKUP_DIR"] / name).read_bytes() == legacy_bytes
    restored = api.post(f"/api/backups/{name}/restore", json={"mode": "merge"})
    assert restored.status_code == 200, restored.get_json()
    assert len(backup_files(app)) == 2


def test_cli_verify_prints_the_report(runner, app, tmp_path):
    result = runner.invoke(args=["backup", "verify", str(LEGACY)])
    assert result.exit_code == 0
    assert "is a valid VibeNVR 1.x file, made 2025-11-29 23:40:12 UTC" in result.output
    assert "  - dropped the section federated_nodes" in result.output


def _rfc6238_code(secret, moment):
    """The 6-digit TOTP code of ``secret`` at ``moment`` (naive UTC), computed by hand per RFC 6238."""
    import base64
    import hashlib
    import hmac
    import struct

    counter = int(moment.replace(tzinfo=dt.UTC).timestamp()) // 30
    digest = hmac.new(base64.b32decode(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def test_an_80_bit_totp_secret_from_an_authenticator_app_still_signs_in(ctx, legacy_bytes):
    """Many authenticators (and 1.x installs) used 16-character secrets; they keep working."""
    legacy = json.loads(legacy_bytes)
    next(u for u in legacy["users"] if u["username"] == "admin")["totp_secret"] = "JBSWY3DPEHPK3PXP"
    restore_document(validate_document(json.dumps(legacy).encode()))
    admin = User.get(User.username == "admin")
    moment = dt.datetime(2026, 11, 29, 22, 40)
    assert matching_step(admin.totp_secret, _rfc6238_code("JBSWY3DPEHPK3PXP", moment), moment) is not None

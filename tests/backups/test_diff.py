"""The semantic diff (SPEC §15): matching by id then natural key, field changes, summaries, secrets never shown,
the security summary first, and its faces: ``GET /api/backups/<name>/diff`` and ``flask backup diff``."""

import copy
import json

import pytest

from vibenvr.backups import service
from vibenvr.backups.document.diff import diff_documents
from vibenvr.models import User
from vibenvr.settings.service import update_settings

from .helpers import FAKE_ARGON2, RECIPIENTS, location_item

OTHER_HASH = "$argon2id$v=19$m=65536,t=3,p=4$b3RoZXJzYWx0c2FsdA$b3RoZXJoYXNob3RoZXJoYXNob3RoZXJoYXNob3RoZXI"
MANUAL = "vibe_backup_manual_20261129_224000.json"


@pytest.fixture
def doc(rich):
    """The rich configuration as a document, with an SFTP location holding a password."""
    document = service.current_document()
    document["backup_locations"] = [
        {"id": 1, "name": "NAS", "created_at": "2026-11-29T22:40:00Z", **location_item("sftp")}
    ]
    return document


def find(doc, section, **where):
    return next(item for item in doc[section] if all(item[k] == v for k, v in where.items()))


def changed(result, section):
    return {entry["item"]: entry["fields"] for entry in result["sections"][section]["changed"]}


def nothing_but(result, section):
    """Every other section reports no difference."""
    for name, part in result["sections"].items():
        if name != section:
            assert (part["added"], part["removed"], part["changed"]) == ([], [], []), name


def test_a_configuration_against_itself_is_identical(doc):
    result = diff_documents(doc, copy.deepcopy(doc))
    assert result["identical"] is True
    assert result["security"] == []
    assert {s: p["unchanged"] for s, p in result["sections"].items()} == {s: len(doc[s]) for s in result["sections"]}
    json.dumps(result)  # plain JSON


def test_a_changed_name_with_the_same_id_is_a_rename(doc):
    new = copy.deepcopy(doc)
    find(new, "cameras", name="Nursery")["name"] = "Baby room"
    result = diff_documents(doc, new)
    part = result["sections"]["cameras"]
    assert (part["added"], part["removed"]) == ([], [])
    assert changed(result, "cameras") == {
        'cameras[1] "Baby room"': [{"field": "name", "old": "Nursery", "new": "Baby room"}]
    }
    nothing_but(result, "cameras")  # the viewer's allowed camera and the groups' links follow the id
    assert result["identical"] is False


def test_the_same_name_under_another_id_is_the_same_item_and_references_follow(doc):
    new = copy.deepcopy(doc)
    garage = find(new, "cameras", name="Garage 🚗")
    old_id, garage["id"] = garage["id"], 999
    for link in new["associations"]:
        if link["camera_id"] == old_id:
            link["camera_id"] = 999
    profile = find(new, "storage_profiles", name="Fast disk")
    profile["id"] = 500
    garage["storage_profile_id"] = 500
    result = diff_documents(doc, new)
    assert result["identical"] is True
    assert result["sections"]["associations"]["unchanged"] == len(doc["associations"])


def test_a_reference_to_another_item_shows_the_names(doc):
    new = copy.deepcopy(doc)
    nursery = find(new, "cameras", name="Nursery")
    find(new, "users", username="zoë")["allowed_camera_ids"] = sorted(
        [nursery["id"], find(new, "cameras", name="Spare")["id"]]
    )
    result = diff_documents(doc, new)
    assert changed(result, "users") == {
        'users[1] "zoë"': [{"field": "allowed_camera_ids", "old": ["Nursery"], "new": ["Nursery", "Spare"]}]
    }
    assert result["security"] == ['user "zoë": camera access widened: may now also see cameras "Spare"']


def test_added_and_removed_items_and_links(doc):
    new = copy.deepcopy(doc)
    empty = find(new, "groups", name="Empty")
    new["groups"].remove(empty)
    outside = find(new, "groups", name="Outside")
    spare = find(new, "cameras", name="Spare")
    new["associations"].append({"camera_id": spare["id"], "group_id": outside["id"]})
    new["storage_profiles"].append(
        {"id": 77, "name": "Archive", "path": "/archive", "description": "", "max_size_gb": 0}
    )
    result = diff_documents(doc, new)
    assert result["sections"]["groups"]["removed"] == ['groups[2] "Empty"']
    assert result["sections"]["storage_profiles"]["added"] == ['storage_profiles[1] "Archive"']
    links = result["sections"]["associations"]
    assert links["added"] == [f'associations[{len(new["associations"]) - 1}] (camera "Spare", group "Outside")']
    assert links["removed"] == [] and links["unchanged"] == len(doc["associations"])
    removed = diff_documents(new, doc)["sections"]["associations"]["removed"]
    assert removed == [f'associations[{len(new["associations"]) - 1}] (camera "Spare", group "Outside")']


def test_settings_are_compared_by_key(doc):
    new = copy.deepcopy(doc)
    new["settings"]["system_name"] = "Office NVR"
    new["settings"]["webhook_url"] = "https://hook:hook-SECRETPW3@example.com/x"
    result = diff_documents(doc, new)
    assert changed(result, "settings") == {
        "settings.system_name": [{"field": "system_name", "old": "Home NVR", "new": "Office NVR"}],
        "settings.webhook_url": [{"field": "webhook_url", "old": "", "new": "https://hook:***@example.com/x"}],
    }
    assert result["sections"]["settings"]["unchanged"] == len(doc["settings"]) - 2


def test_polygons_and_schedules_are_summarised(doc):
    new = copy.deepcopy(doc)
    garage = find(new, "cameras", name="Garage 🚗")
    garage["privacy_masks"].append([[0.0, 0.0], [0.2, 0.0], [0.2, 0.2]])
    garage["motion_zones"][0][0] = [0.1, 0.0]
    garage["schedule"]["monday"] = [["08:00", "13:00"], ["20:00", "07:00"]]
    del garage["schedule"]["sunday"]
    garage["schedule"]["wednesday"] = []
    result = diff_documents(doc, new)
    assert changed(result, "cameras") == {
        'cameras[0] "Garage 🚗"': [
            {"field": "privacy_masks", "summary": "2 → 3 polygons"},
            {"field": "motion_zones", "summary": "1 polygon, 1 changed"},
            {"field": "schedule", "summary": "monday: 08:00–12:00, 20:00–07:00 → 08:00–13:00, 20:00–07:00"},
            {"field": "schedule", "summary": "wednesday: all day → never"},
            {"field": "schedule", "summary": "sunday: never → all day"},
        ]
    }


SECRET_VALUES = ("cam-SECRETPW1", "onvif-SECRETPW2", "smtp-SECRETPW4", "tg-SECRETPW5", "sftp-NEWPW6", "extra-SECRETPW7")


def test_secrets_show_as_changed_and_never_with_their_values(doc):
    doc["settings"]["smtp_password"] = "smtp-OLDPW"
    new = copy.deepcopy(doc)
    garage = find(new, "cameras", name="Garage 🚗")
    garage["rtsp_url"] = garage["rtsp_url"].replace("p%40ss", "cam-SECRETPW1")
    garage["onvif_password"] = "onvif-SECRETPW2"
    garage["extra"]["api_key"] = "extra-SECRETPW7"
    new["settings"]["smtp_password"] = "smtp-SECRETPW4"
    new["settings"]["telegram_bot_token"] = "tg-SECRETPW5"
    alice = find(new, "users", username="alice")
    alice["hashed_password"] = OTHER_HASH
    alice["totp_secret"] = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
    new["backup_locations"][0]["password"] = "sftp-NEWPW6"
    for code in new["recovery_codes"][:1]:
        code["code_hash"] = OTHER_HASH
    result = diff_documents(doc, new)
    text = json.dumps(result, ensure_ascii=False)
    for secret in (
        *SECRET_VALUES,
        "smtp-OLDPW",
        "p%40ss",
        "sftp-SECRETPW8",
        OTHER_HASH,
        FAKE_ARGON2,
        "KRSXG5CTMVRXEZLU",
    ):
        assert secret not in text
    assert changed(result, "cameras")['cameras[0] "Garage 🚗"'] == [
        {"field": "rtsp_url", "summary": "changed (the password)"},
        {"field": "onvif_password", "summary": "changed"},
        {"field": "extra.api_key", "summary": "changed"},
    ]
    assert changed(result, "users")['users[0] "alice"'] == [
        {"field": "hashed_password", "summary": "changed"},
        {"field": "totp_secret", "summary": "changed"},
    ]
    assert changed(result, "settings")["settings.smtp_password"] == [{"field": "smtp_password", "summary": "changed"}]
    assert changed(result, "backup_locations") == {
        'backup_locations[0] "NAS"': [{"field": "password", "summary": "changed"}]
    }
    assert changed(result, "recovery_codes") == {
        'recovery_codes[0] (user "alice")': [{"field": "code_hash", "summary": "changed"}]
    }
    assert 'user "alice": 1 new recovery code' in result["security"]
    assert 'user "alice": password changed' in result["security"]
    assert 'user "alice": two-factor secret changed' in result["security"]
    assert 'backup location "NAS": credentials changed (password)' in result["security"]


def test_the_security_summary_says_what_changes_who_may_do_what(doc):
    new = copy.deepcopy(doc)
    zoe = find(new, "users", username="zoë")
    zoe["role"] = "admin"
    zoe["restrict_camera_access"] = False
    find(new, "users", username="alice")["is_2fa_enabled"] = False
    new["users"].append({**copy.deepcopy(zoe), "id": 90, "username": "mallory", "role": "admin", "email": ""})
    token = find(new, "api_tokens", name="ci")
    new["api_tokens"].remove(token)
    new["api_tokens"].append({**token, "id": 91, "name": "backdoor", "token_hash": "cd" * 32, "username": "mallory"})
    new["backup_recipients"].append(
        {"id": 92, "name": "Stranger", "recipient": RECIPIENTS[0], "created_at": token["created_at"]}
    )
    new["backup_locations"][0]["host"] = "evil.example.com"
    new["backup_locations"][0]["username"] = "mallory"
    result = diff_documents(doc, new)
    assert result["security"] == [
        'admin "mallory" added',
        'user "alice": two-factor sign-in turned off',
        'user "zoë": role viewer → admin',
        'user "zoë": camera access widened: no longer restricted, sees every camera',
        'API token "backdoor" of "mallory" added',
        'API token "ci" of "alice" removed',
        'backup recipient "Stranger" added: encrypted backups can be opened with its key',
        'backup location "NAS": credentials changed (username)',
        'backup location "NAS": destination changed',
    ]
    reverse = diff_documents(new, doc)["security"]
    assert reverse[:2] == ['admin "mallory" removed', 'user "alice": two-factor sign-in turned on']
    assert 'backup recipient "Stranger" removed' in reverse


# --- the faces ------------------------------------------------------------------------------------


@pytest.fixture
def saved(app, rich, clock, api):
    """A manual backup of the rich configuration, then the configuration changed."""
    name = service.create_backup("manual").name
    update_settings({"system_name": "Changed", "smtp_password": "smtp-SECRETPW4"})
    return name


def test_api_diff_against_the_current_configuration(saved, api):
    answer = api.get(f"/api/backups/{saved}/diff")
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["backup"], body["against"], body["identical"]) == (saved, "current", False)
    assert changed(body, "settings") == {
        "settings.system_name": [{"field": "system_name", "old": "Changed", "new": "Home NVR"}],
        "settings.smtp_password": [{"field": "smtp_password", "summary": "changed"}],
    }
    assert "smtp-SECRETPW4" not in answer.get_data(as_text=True)
    assert api.get(f"/api/backups/{saved}/diff?against=current").get_json() == body


def test_api_diff_against_another_backup(saved, api, clock):
    clock.advance(minutes=1)
    later = service.create_backup("manual").name
    body = api.get(f"/api/backups/{saved}/diff?against={later}").get_json()
    assert body["against"] == later
    assert changed(body, "settings")["settings.system_name"] == [
        {"field": "system_name", "old": "Changed", "new": "Home NVR"}
    ]
    same = api.get(f"/api/backups/{saved}/diff?against={saved}").get_json()
    assert same["identical"] is True and same["security"] == []


def test_api_diff_of_an_encrypted_backup_opens_with_the_server_key(app, rich, clock, api):
    assert api.patch("/api/settings", json={"backup_encrypt": "all"}).status_code == 200
    name = service.create_backup("manual").name
    assert name.endswith(".json.age")
    body = api.get(f"/api/backups/{name}/diff").get_json()
    assert body["identical"] is True, body


def test_api_diff_missing_backups_are_404_and_bad_names_400(saved, api):
    missing = api.get("/api/backups/vibe_backup_manual_20200101_000000.json/diff")
    assert missing.status_code == 404
    assert api.get(f"/api/backups/{saved}/diff?against=vibe_backup_manual_20200101_000000.json").status_code == 404
    assert api.get(f"/api/backups/{saved}/diff?against=../etc.json").status_code == 400


def test_api_diff_is_admin_only(app, clock, viewer_api, client):
    with app.app_context():  # not kept pushed: each request then signs in on its own
        name = service.create_backup("manual").name
    forbidden = viewer_api.get(f"/api/backups/{name}/diff")
    assert forbidden.status_code == 403 and "sections" not in forbidden.get_data(as_text=True)
    assert client.get(f"/api/backups/{name}/diff").status_code == 401


def test_cli_diff_prints_the_security_summary_first(saved, runner):
    User.update(role="admin").where(User.username == "zoë").execute()  # the backup has her a viewer
    result = runner.invoke(args=["backup", "diff", saved])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == [
        f"Restoring {saved} over the current configuration:",
        "Security:",
        '  ! user "zoë": role admin → viewer',
    ]
    assert "settings: 2 changed" in result.output
    assert '  ~ settings.system_name\n      system_name: "Changed" → "Home NVR"\n' in result.output
    assert "      smtp_password: changed\n" in result.output
    assert "smtp-SECRETPW4" not in result.output


def test_cli_diff_json_and_two_backups(saved, runner, api, clock):
    clock.advance(minutes=1)
    later = service.create_backup("manual").name
    result = runner.invoke(args=["backup", "diff", saved, later, "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == api.get(f"/api/backups/{saved}/diff?against={later}").get_json()
    same = runner.invoke(args=["backup", "diff", later, later])
    assert same.output == f"Restoring {later} over {later}:\nNo differences: the configurations are the same.\n"
    missing = runner.invoke(args=["backup", "diff", "vibe_backup_manual_20200101_000000.json"])
    assert missing.exit_code == 1 and "no backup named" in missing.output

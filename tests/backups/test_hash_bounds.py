"""Imported hashes are bounded (SPEC §12): an argon2 hash in a backup sets what every sign-in attempt for its
user costs, so validation refuses parameters above m = 262144 KiB (256 MiB), t = 10, p = 8, and anything that
is not a readable argon2 hash, naming the user, on every path a file comes in by: import, restore, merge,
verify (the terminal too) and VibeNVR 1.x files."""

import copy
import io
import json
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from vibenvr.auth.passwords import verify_password
from vibenvr.backups.document.canonical import encode
from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.backups.errors import BackupError
from vibenvr.models import RecoveryCode, User

from .helpers import FAKE_ARGON2, backup_files, recount, signed, snapshot
from builders import make_user

LEGACY = Path(__file__).with_name("data") / "vibenvr_1x_backup.json"
SALT, DIGEST = "c2FsdHNhbHRzYWx0", "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
HAND_PLACED = "vibe_backup_manual_20261128_120000.json"


def argon2(params, kind="argon2id", version="v=19$"):
    return f"${kind}${version}{params}${SALT}${DIGEST}"


TOO_COSTLY = argon2("m=262145,t=3,p=4")
LIMIT = "above the limit m ≤ 262144 KiB (256 MiB), t ≤ 10, p ≤ 8"
BOB_REFUSED = f'users[1] "bob": hashed_password uses argon2 parameters m=262145, t=3, p=4 {LIMIT}'


def _with_user_hash(value, index=1):
    doc = export_document()
    doc["users"][index]["hashed_password"] = value
    return signed(recount(doc))


def _error(value, field="hashed_password"):
    doc = _with_user_hash(value) if field == "hashed_password" else _with_code_hash(value)
    with pytest.raises(BackupError) as caught:
        validate_document(encode(doc))
    return "\n".join(caught.value.errors)


def _with_code_hash(value):
    doc = export_document()
    doc["recovery_codes"] = [{"id": 1, "username": "bob", "code_hash": value, "created_at": "2026-01-01T00:00:00Z"}]
    return signed(recount(doc))


@pytest.fixture
def users(admin, ctx, clock):
    """The admin (users[0] in an export) and "bob" (users[1])."""
    return admin, make_user("bob", role="viewer")


ACCEPTED = [
    pytest.param(PasswordHasher().hash("a long passphrase"), id="argon2-cffi's own defaults"),
    pytest.param(argon2("m=262144,t=10,p=8"), id="exactly at every bound"),
    pytest.param(argon2("m=262144,t=8,p=1"), id="the issue's m=262144,t=8 is at the bound, not above it"),
    pytest.param(argon2("m=19456,t=2,p=1"), id="OWASP's minimum, as VibeNVR 1.x wrote"),
    pytest.param(argon2("m=65536,t=3,p=4", kind="argon2i"), id="argon2i"),
    pytest.param(argon2("m=65536,t=3,p=4", kind="argon2d"), id="argon2d"),
    pytest.param(argon2("m=4096,t=3,p=1", kind="argon2i", version=""), id="argon2 1.2 without v="),
]


@pytest.mark.parametrize("value", ACCEPTED)
def test_hashes_within_the_bounds_are_accepted(users, value):
    valid = validate_document(encode(_with_user_hash(value)))
    assert valid.doc["users"][1]["hashed_password"] == value


@pytest.mark.parametrize(
    "params, shown",
    [
        ("m=262145,t=3,p=4", "m=262145, t=3, p=4"),
        ("m=65536,t=11,p=4", "m=65536, t=11, p=4"),
        ("m=65536,t=3,p=9", "m=65536, t=3, p=9"),
        ("m=4294967295,t=4294967295,p=255", "m=4294967295, t=4294967295, p=255"),
    ],
)
def test_hashes_above_a_bound_are_refused_naming_the_user_and_what_to_do(users, params, shown):
    message = _error(argon2(params))
    assert f'users[1] "bob": hashed_password uses argon2 parameters {shown} {LIMIT}' in message
    assert "flask --app app users set-password USERNAME" in message


@pytest.mark.parametrize(
    "value, expected",
    [
        (
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "is not an argon2 hash (this one starts with $2b$)",
        ),
        ("pbkdf2_sha256$600000$salt$hash", "is not an argon2 hash: only argon2 hashes"),
        ("$argon2id$garbage", "is not a readable argon2 hash"),
        ("$argon2x$v=19$m=65536,t=3,p=4$" + SALT + "$" + DIGEST, "is not a readable argon2 hash"),
        (argon2("t=3,m=65536,p=4"), "is not a readable argon2 hash"),
        (argon2("m=1_000,t=3,p=4"), "is not a readable argon2 hash"),
        (argon2("m= 1000,t=3,p=4"), "is not a readable argon2 hash"),
        (argon2("m=-5,t=3,p=4"), "is not a readable argon2 hash"),
        (argon2("m=65536,t=0,p=4"), "is not a readable argon2 hash"),
        (argon2("m=8,t=3,p=4"), "is not a readable argon2 hash"),
        (argon2("m=65536,t=3,p=4", version="v=99$"), "is not a readable argon2 hash"),
        ("$argon2id$v=19$m=65536,t=3,p=4$x$y", "is not a readable argon2 hash"),
        ("$argon2id$v=19$m=65536,t=3,p=4$c2Fs!HNhbHQ$" + DIGEST, "is not a readable argon2 hash"),
    ],
)
def test_unreadable_or_foreign_hashes_are_refused_clearly(users, value, expected):
    message = _error(value)
    assert f'users[1] "bob": hashed_password {expected}' in message


def test_recovery_codes_are_bounded_the_same_way(users):
    message = _error(argon2("m=65536,t=11,p=1"), field="code_hash")
    assert f'recovery_codes[0] (user "bob"): code_hash uses argon2 parameters m=65536, t=11, p=1 {LIMIT}' in message
    assert "the user makes new codes on the Security page" in message
    assert "code_hash is not a readable argon2 hash" in _error("$argon2id$v=19$m=8,t=1,p=1$x$y", field="code_hash")


def test_the_hashes_this_app_writes_pass_its_own_bounds(users):
    """Passwords and the recovery codes 2FA makes: a backup of this app always validates."""
    from vibenvr.auth.twofactor import replace_recovery_codes

    replace_recovery_codes(users[0])
    doc = validate_document(encode(export_document())).doc
    assert len(doc["recovery_codes"]) == RecoveryCode.select().count() == 10


# --- every path a file comes in by -------------------------------------------------------------------


def _bob_gone(users):
    """The file has bob; the database no longer does (a merge would add him)."""
    doc = _with_user_hash(TOO_COSTLY)
    users[1].delete_instance(recursive=True)
    return doc


def test_import_refuses_the_file_naming_the_user_and_stores_nothing(app, api, users):
    doc = _bob_gone(users)
    response = api.post(
        "/api/backups/import", data={"file": (io.BytesIO(encode(doc)), "old.json")}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert BOB_REFUSED in response.get_json()["error"]
    assert backup_files(app) == []


@pytest.mark.parametrize("mode", ["replace", "merge"])
def test_restore_and_merge_of_a_file_in_the_folder_refuse_and_change_nothing(app, api, users, mode):
    (app.config["BACKUP_DIR"] / HAND_PLACED).write_bytes(encode(_bob_gone(users)))
    before = snapshot()
    response = api.post(f"/api/backups/{HAND_PLACED}/restore", json={"mode": mode})
    assert response.status_code == 422 and BOB_REFUSED in response.get_json()["error"]
    assert snapshot() == before and User.get_or_none(User.username == "bob") is None
    assert backup_files(app) == [HAND_PLACED]  # no safety backup either: nothing was about to change


def test_a_merge_through_the_config_restore_api_refuses(app, api, users):
    doc = _bob_gone(users)
    before = snapshot()
    response = api.post("/api/config/restore?mode=merge&safety=false", json=doc)
    assert response.status_code == 422 and BOB_REFUSED in response.get_json()["error"]
    assert snapshot() == before


def test_the_terminal_verify_and_restore_refuse_with_the_user_named(app, runner, users, tmp_path):
    path = tmp_path / "costly.json"
    path.write_bytes(encode(_bob_gone(users)))
    before = snapshot()
    verify = runner.invoke(args=["backup", "verify", str(path)])
    assert verify.exit_code == 1 and BOB_REFUSED in verify.stderr
    for mode in ("replace", "merge"):
        restore = runner.invoke(args=["backup", "restore", str(path), "--mode", mode, "--yes"])
        assert restore.exit_code == 1 and BOB_REFUSED in restore.stderr, restore.stderr
        assert "Traceback" not in restore.output + restore.stderr
    assert snapshot() == before and backup_files(app) == []


def _legacy_with(change):
    data = json.loads(LEGACY.read_text())
    change(data)
    return json.dumps(data).encode()


def test_a_1x_file_with_a_costly_password_hash_is_refused_naming_the_user(app, api, users):
    def costly_guest(data):
        data["users"][1]["hashed_password"] = argon2("m=1048576,t=2,p=1")

    response = api.post(
        "/api/backups/import",
        data={"file": (io.BytesIO(_legacy_with(costly_guest)), "v1.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert (
        f'users[1] "guest": hashed_password uses argon2 parameters m=1048576, t=2, p=1 {LIMIT}'
        in response.get_json()["error"]
    )
    assert backup_files(app) == []


def test_a_1x_file_with_a_costly_recovery_code_is_refused_naming_its_user(users):
    def costly_code(data):
        data["recovery_codes"][0]["code_hash"] = argon2("m=19456,t=2,p=16")

    with pytest.raises(BackupError) as caught:
        validate_document(_legacy_with(costly_code))
    assert any(
        f'(user "admin"): code_hash uses argon2 parameters m=19456, t=2, p=16 {LIMIT}' in e for e in caught.value.errors
    )


def test_the_1x_file_as_shipped_still_imports_and_its_passwords_verify(app, users):
    valid = validate_document(LEGACY.read_bytes())
    admin = next(u for u in valid.doc["users"] if u["username"] == "admin")
    assert admin["hashed_password"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(admin["hashed_password"], "wrong password") is False  # readable: a real check ran


def test_a_refused_file_reports_every_costly_user_at_once(users):
    doc = copy.deepcopy(export_document())
    for user in doc["users"]:
        user["hashed_password"] = TOO_COSTLY
    with pytest.raises(BackupError) as caught:
        validate_document(encode(signed(doc)))
    message = "\n".join(caught.value.errors)
    assert 'users[0] "admin": hashed_password uses argon2' in message and BOB_REFUSED in message


def test_the_fake_hash_the_other_tests_use_is_within_the_bounds(users):
    validate_document(encode(_with_user_hash(FAKE_ARGON2)))

"""Encrypted backups on this server (SPEC §13): with ``backup_encrypt = all`` every backup file is age-encrypted
to the server key, listed with ``encrypted``, restorable, counted by startup protection and retention; the kit
opens them with Debian's ``age``; encrypted imports stay encrypted; the key never enters a backup or the log."""

import io
import logging
import shutil
import stat
import subprocess

import pytest
from pyrage import x25519

from vibenvr.backups import keys, service
from vibenvr.backups.automation.rules import newest_valid_auto
from vibenvr.backups.document import envelope
from vibenvr.backups.document.validate import validate_document
from vibenvr.models import Camera

from builders import PASSWORD, make_camera

AGE = shutil.which("age")


@pytest.fixture
def encrypt_all(api):
    assert api.patch("/api/settings", json={"backup_encrypt": "all"}).status_code == 200
    return api


def _folder(app):
    return app.config["BACKUP_DIR"]


def test_with_all_a_manual_backup_is_an_age_file_named_json_age(app, encrypt_all):
    make_camera(name="Porch")
    made = encrypt_all.post("/api/backups")
    assert made.status_code == 201
    entry = made.get_json()
    assert entry["name"].endswith(".json.age") and entry["encrypted"] is True
    path = _folder(app) / entry["name"]
    data = path.read_bytes()
    assert data.startswith(envelope.MAGIC) and b"Porch" not in data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert encrypt_all.get("/api/backups").get_json()["backups"][0]["encrypted"] is True
    download = encrypt_all.get(f"/api/backups/{entry['name']}")
    assert download.data == data and download.mimetype == "application/octet-stream"


def test_an_encrypted_backup_restores_with_the_server_key(app, encrypt_all):
    make_camera(name="Porch")
    name = encrypt_all.post("/api/backups").get_json()["name"]
    Camera.delete().execute()
    answer = encrypt_all.post(f"/api/backups/{name}/restore", json={})
    assert answer.status_code == 200, answer.get_json()
    assert [c.name for c in Camera.select()] == ["Porch"]
    assert answer.get_json()["safety_backup"].endswith(".json.age")  # the safety backup is encrypted too


@pytest.mark.skipif(AGE is None, reason="Debian's age CLI is missing: make test installs it as root")
def test_the_kit_opens_a_backup_made_here_with_the_age_cli(app, encrypt_all, tmp_path):
    make_camera(name="Porch")
    name = encrypt_all.post("/api/backups").get_json()["name"]
    kit = encrypt_all.client.post("/api/backups/key/kit", json={"password": PASSWORD}, headers=encrypt_all.headers)
    assert kit.status_code == 200 and kit.mimetype == "text/plain"
    assert "attachment; filename=vibenvr-emergency-kit-" in kit.headers["Content-Disposition"]
    (tmp_path / "kit.txt").write_bytes(kit.data)
    opened = subprocess.run(
        [AGE, "-d", "-i", str(tmp_path / "kit.txt"), str(_folder(app) / name)], capture_output=True, timeout=60
    )
    assert opened.returncode == 0, opened.stderr
    assert validate_document(opened.stdout).doc["cameras"][0]["name"] == "Porch"  # exact bytes: checksum holds
    assert encrypt_all.get("/api/backups/key").get_json()["kit_downloaded"] is True


def test_the_kit_asks_for_the_password(app, encrypt_all):
    for body in ({}, {"password": "not the password"}):
        answer = encrypt_all.client.post("/api/backups/key/kit", json=body, headers=encrypt_all.headers)
        assert answer.status_code == 422 and "AGE-SECRET-KEY" not in answer.get_data(as_text=True)
    assert encrypt_all.get("/api/backups/key").get_json()["kit_downloaded"] is False


def test_automatic_encrypted_backups_count_for_startup_protection_and_retention(app, encrypt_all, clock):
    with app.app_context():
        first = service.create_backup("auto")
        assert first.name.endswith(".json.age") and not first.damaged  # validated with the server key
        assert newest_valid_auto(service.get_store())[0] == first.name
        encrypt_all.patch("/api/settings", json={"backup_auto_retention": 2})
        for _ in range(3):
            clock.advance(hours=1)
            service.create_backup("auto")
        autos = [e for e in service.get_store().list() if e.kind == "auto"]
    assert len(autos) == 2 and all(e.encrypted for e in autos)


def test_the_server_key_is_never_in_a_backup_nor_in_the_backup_folder_nor_logged(app, encrypt_all, caplog):
    with caplog.at_level(logging.DEBUG):
        name = encrypt_all.post("/api/backups").get_json()["name"]
        encrypt_all.client.post("/api/backups/key/kit", json={"password": PASSWORD}, headers=encrypt_all.headers)
    secret = str(keys.load_identity(app.config["DATA_DIR"]))
    with app.app_context():
        plain = service.get_store().open(name)
    assert secret not in repr(plain.doc)
    assert not any(secret in p.read_text(errors="replace") for p in _folder(app).iterdir() if p.is_file())
    assert secret not in caplog.text


def test_an_encrypted_import_is_opened_with_the_server_key_and_kept_encrypted(app, api):
    make_camera(name="Porch")
    with app.app_context():
        plain = service.get_store().read_bytes(service.create_backup("manual").name)
        recipient = service.encryption_recipients()[0]
    sealed = envelope.encrypt(plain, [recipient])
    answer = api.client.post(
        "/api/backups/import",
        data={"file": (io.BytesIO(sealed), "laptop.json.age")},
        headers=api.headers,
    )
    assert answer.status_code == 201, answer.get_json()
    entry = answer.get_json()
    assert entry["kind"] == "imported" and entry["encrypted"] is True and entry["name"].endswith(".json.age")
    assert (_folder(app) / entry["name"]).read_bytes() == sealed  # stored as it came


def test_an_import_for_another_key_is_refused_and_nothing_is_stored(app, api):
    with app.app_context():
        plain = service.get_store().read_bytes(service.create_backup("manual").name)
    before = sorted(p.name for p in _folder(app).iterdir())
    other = x25519.Identity.generate()
    sealed = envelope.encrypt(plain, [other.to_public()])
    files = {"file": (io.BytesIO(sealed), "other.json.age")}
    answer = api.client.post("/api/backups/import", data=files, headers=api.headers)
    assert answer.status_code == 422 and "keys this server does not hold" in answer.get_json()["error"]
    assert sorted(p.name for p in _folder(app).iterdir()) == before
    files = {"file": (io.BytesIO(sealed), "other.json.age"), "identity": f"{other}\n"}
    answer = api.client.post("/api/backups/import", data=files, headers=api.headers)
    assert answer.status_code == 201  # the identity given for this request opens it


def test_the_cli_shows_the_recipient_and_writes_the_kit_0600(app, runner, tmp_path):
    shown = runner.invoke(args=["backup", "key", "show"])
    assert shown.exit_code == 0 and shown.output.startswith("age1")
    target = tmp_path / "kit.txt"
    made = runner.invoke(args=["backup", "key", "kit", str(target), "--yes"])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and "AGE-SECRET-KEY-1" in target.read_text()
    again = runner.invoke(args=["backup", "key", "kit", str(target), "--yes"])
    assert again.exit_code == 1 and "never written over" in again.output


# --- downloads: as stored, plain, to the recipients, with a passphrase ------------------------------------


def test_the_api_downloads_plain_or_encrypted_to_the_server_key(app, api):
    make_camera(name="Porch")
    name = api.post("/api/backups").get_json()["name"]
    plain = (_folder(app) / name).read_bytes()
    sealed = api.get(f"/api/backups/{name}?encrypt=recipients")
    assert sealed.status_code == 200 and sealed.mimetype == "application/octet-stream"
    assert sealed.headers["Content-Disposition"] == f"attachment; filename={name}.age"
    with app.app_context():
        assert envelope.decrypt(sealed.data, service.identities()) == plain
    assert api.get(f"/api/backups/{name}?encrypt=plain").data == plain
    refused = api.get(f"/api/backups/{name}?encrypt=passphrase")
    assert refused.status_code == 400 and "POST body" in refused.get_json()["error"]
    assert api.get(f"/api/backups/{name}?encrypt=zip").status_code == 422


def test_a_passphrase_download_opens_with_that_passphrase_only(app, api):
    name = api.post("/api/backups").get_json()["name"]
    plain = (_folder(app) / name).read_bytes()
    body = {"encrypt": "passphrase", "passphrase": "a long download passphrase"}
    answer = api.post(f"/api/backups/{name}/download", json=body)
    assert answer.status_code == 200 and answer.data.startswith(envelope.MAGIC)
    assert envelope.decrypt(answer.data, phrase="a long download passphrase") == plain
    short = api.post(f"/api/backups/{name}/download", json={"encrypt": "passphrase", "passphrase": "short"})
    assert short.status_code == 422 and short.get_json()["errors"][0].startswith("passphrase must be at least 12")


def test_an_encrypted_backup_downloads_as_plain_json_with_the_server_key(app, encrypt_all):
    name = encrypt_all.post("/api/backups").get_json()["name"]
    answer = encrypt_all.get(f"/api/backups/{name}?encrypt=plain")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"] == f"attachment; filename={name[: -len('.age')]}"
    assert validate_document(answer.data).kind == "manual"


def test_the_page_offers_the_choice_and_checks_the_passphrase_twice(app, admin_client):
    with app.app_context():
        name = service.create_backup("manual").name
    page = admin_client.get(f"/settings/backups/{name}/download-as")
    assert page.status_code == 200 and "Encrypted with a passphrase" in page.text
    differ = admin_client.post(
        f"/settings/backups/{name}/download-as",
        data={"encrypt": "passphrase", "passphrase": "a long download passphrase", "confirm": "something else"},
    )
    assert differ.status_code == 422 and "The two passphrases differ." in differ.text
    short = admin_client.post(
        f"/settings/backups/{name}/download-as", data={"encrypt": "passphrase", "passphrase": "x", "confirm": "x"}
    )
    assert short.status_code == 422 and "The passphrase must be at least 12 characters." in short.text
    made = admin_client.post(f"/settings/backups/{name}/download-as", data={"encrypt": "recipients"})
    assert made.status_code == 200 and made.data.startswith(envelope.MAGIC)


def test_the_terminal_restores_a_file_for_another_key_with_identity_or_passphrase(app, runner, tmp_path):
    make_camera(name="Porch")
    with app.app_context():
        plain = service.get_store().read_bytes(service.create_backup("manual").name)
    Camera.delete().execute()
    laptop = x25519.Identity.generate()
    (tmp_path / "laptop.json.age").write_bytes(envelope.encrypt(plain, [laptop.to_public()]))
    (tmp_path / "laptop-key.txt").write_text(f"# my laptop\n{laptop}\n")
    without = runner.invoke(args=["backup", "verify", str(tmp_path / "laptop.json.age")])
    assert without.exit_code == 1 and "keys this server does not hold" in without.output
    done = runner.invoke(
        args=[
            "backup",
            "restore",
            str(tmp_path / "laptop.json.age"),
            "--identity",
            str(tmp_path / "laptop-key.txt"),
            "--yes",
            "--force",  # this configuration has no administrator; the point here is the key
        ]
    )
    assert done.exit_code == 0, done.output
    assert [c.name for c in Camera.select()] == ["Porch"]
    (tmp_path / "phrase.json.age").write_bytes(envelope.encrypt_with_passphrase(plain, "a long restore passphrase"))
    checked = runner.invoke(
        args=["backup", "verify", str(tmp_path / "phrase.json.age"), "--passphrase-stdin"],
        input="a long restore passphrase\n",
    )
    assert checked.exit_code == 0 and checked.output.startswith("OK:")


def test_the_import_page_takes_a_pasted_key_for_this_upload_only(app, admin_client, tmp_path):
    with app.app_context():
        plain = service.get_store().read_bytes(service.create_backup("manual").name)
    laptop = x25519.Identity.generate()
    sealed = envelope.encrypt(plain, [laptop.to_public()])
    refused = admin_client.post(
        "/settings/backups/import",
        data={"file": (io.BytesIO(sealed), "laptop.json.age")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "keys this server does not hold" in refused.text
    assert "Encrypted for another key" in refused.text and '<details class="import-keys" open>' in refused.text
    done = admin_client.post(
        "/settings/backups/import",
        data={"file": (io.BytesIO(sealed), "laptop.json.age"), "identity": str(laptop)},
        content_type="multipart/form-data",
    )
    assert done.status_code == 303
    stored = [p.name for p in _folder(app).iterdir() if p.name.startswith("vibe_backup_imported_")]
    assert len(stored) == 1 and stored[0].endswith(".json.age")
    assert str(laptop) not in (_folder(app) / stored[0]).read_text(errors="replace")

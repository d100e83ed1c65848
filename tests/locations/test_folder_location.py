"""Backup locations of kind ``folder`` end to end (SPEC §14), against a real second folder: the API with
write-only credentials, copies made by the scheduler's work (never in the request), encrypted when they
leave the machine, checked by size and SHA-256, retried with backoff, retention there (only names this
server wrote), status, the files at a location and fetching one back as an imported backup."""

import hashlib
import shutil
import subprocess
import time

import pytest

from vibenvr.backups import service
from vibenvr.backups.automation.scheduler import BackupScheduler
from vibenvr.backups.document import envelope
from vibenvr.backups.document.validate import validate_document
from vibenvr.runtime import LocationCopy

from builders import PASSWORD
from support import backups as shared

clock = shared.clock  # the app's injected clock (2026-11-29 22:40:00 UTC)


@pytest.fixture
def nas(tmp_path):
    folder = tmp_path / "nas"
    folder.mkdir()
    return folder


def add_folder(api, folder, **fields):
    response = api.post("/api/backup-locations", json={"name": "NAS", "kind": "folder", "path": str(folder), **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def run_copies(app):
    with app.app_context():
        return service.copy_locations()


def names(folder):
    return sorted(p.name for p in folder.iterdir())


# --- the API ------------------------------------------------------------------------------------


def test_locations_are_validated_by_kind_and_named_in_errors(api, nas):
    cases = [
        ({"name": "A", "kind": "folder"}, "path is required for a folder location"),
        ({"name": "A", "kind": "folder", "path": "mnt/nas"}, "path must be an absolute path"),
        ({"name": "A", "kind": "sftp", "host": "nas.local"}, "username is required for a sftp location"),
        ({"name": "A", "kind": "sftp", "host": "nas.local", "username": "u"}, "password or private_key is required"),
        ({"name": "A", "kind": "webdav", "url": "ftp://x"}, "url must be an http:// or https:// address"),
        ({"name": "A", "kind": "webdav", "url": "https://u:p@x/dav"}, "url must not hold a user or password"),
        ({"name": "A", "kind": "s3", "bucket": "Bad_Bucket"}, "bucket must be an S3 bucket name"),
        ({"name": "A", "kind": "tape"}, "kind must be one of folder, sftp, webdav, s3"),
        (
            {"name": "A", "kind": "folder", "path": str(nas), "receives": ["weekly"]},
            "'weekly', which is not a backup kind",
        ),
        ({"name": "A", "kind": "folder", "path": str(nas), "retention": 0}, "retention must be between 1 and 1000"),
    ]
    for body, expected in cases:
        response = api.post("/api/backup-locations", json=body)
        assert response.status_code == 422, body
        errors = " | ".join([response.get_json()["error"], *response.get_json().get("errors", [])])
        assert expected in errors, (body, errors)
    assert api.get("/api/backup-locations").get_json()["backup_locations"] == []


def test_credentials_are_write_only_and_a_masked_answer_written_back_keeps_them(app, api):
    body = {
        "name": "Bucket",
        "kind": "s3",
        "bucket": "nvr-backups",
        "access_key_id": "AK",
        "secret_access_key": "S3CRET-KEY",
    }
    made = api.post("/api/backup-locations", json=body).get_json()
    assert made["secret_access_key"] is None and made["secret_access_key_set"] is True
    assert "S3CRET-KEY" not in api.get("/api/backup-locations").get_data(as_text=True)
    changed = api.patch(f"/api/backup-locations/{made['id']}", json={**made, "prefix": "home"}).get_json()
    assert changed["prefix"] == "home/" and changed["secret_access_key_set"] is True
    with app.app_context():
        from vibenvr.models import BackupLocation

        assert BackupLocation.get().secret_access_key == "S3CRET-KEY"
    cleared = api.patch(f"/api/backup-locations/{made['id']}", json={"secret_access_key": ""})
    assert cleared.status_code == 422  # an s3 location needs its secret key
    assert api.post("/api/backup-locations", json=body).status_code == 409


def test_only_admins_reach_locations(app, api, viewer_api, client, nas):
    made = add_folder(api, nas)
    for caller, status in ((viewer_api, 403), (client, 401)):
        for method, path in (
            ("get", "/api/backup-locations"),
            ("get", f"/api/backup-locations/{made['id']}"),
            ("post", f"/api/backup-locations/{made['id']}/test"),
            ("get", f"/api/backup-locations/{made['id']}/files"),
            ("post", f"/api/backup-locations/{made['id']}/files/vibe_backup_manual_20261129_224000.json/fetch"),
            ("delete", f"/api/backup-locations/{made['id']}"),
        ):
            assert getattr(caller, method)(path).status_code == status, (method, path)
    assert names(nas) == []


# --- copies -------------------------------------------------------------------------------------


def test_a_backup_is_copied_encrypted_off_the_machine_after_the_request_and_checked(app, api, nas, clock):
    add_folder(api, nas)
    created = api.post("/api/backups").get_json()
    assert created["copies"] == {"pending": 1, "message": "copy to 1 location pending"}
    assert names(nas) == []  # never in the request
    assert run_copies(app) == {1: (1, 0)}
    remote = nas / f"{created['name']}.age"  # backup_encrypt = offsite: copies that leave are encrypted
    assert names(nas) == [remote.name]
    local = (app.config["BACKUP_DIR"] / created["name"]).read_bytes()
    with app.app_context():
        opened = envelope.decrypt(remote.read_bytes(), service.identities())
    assert opened == local
    copy = LocationCopy.get()
    assert copy.state == "done" and copy.sha256 == hashlib.sha256(remote.read_bytes()).hexdigest()
    status = api.get("/api/backups/status").get_json()["locations"]
    assert status[0]["pending"] == 0 and status[0]["last_success_at"] == "2026-11-29T22:40:00Z"
    assert run_copies(app) == {}  # nothing is sent twice


def test_with_encryption_off_the_copy_is_the_file_itself(app, api, nas, clock):
    api.patch("/api/settings", json={"backup_encrypt": "off"})
    add_folder(api, nas, receives=["manual"])
    name = api.post("/api/backups").get_json()["name"]
    run_copies(app)
    assert (nas / name).read_bytes() == (app.config["BACKUP_DIR"] / name).read_bytes()


def test_an_unmounted_nas_fails_with_the_reason_keeps_the_backup_and_is_retried(app, api, nas, clock):
    add_folder(api, nas)
    shutil.rmtree(nas)
    name = api.post("/api/backups").get_json()["name"]
    assert run_copies(app) == {1: (0, 1)}
    assert (app.config["BACKUP_DIR"] / name).exists()
    state = api.get("/api/backups/status").get_json()["locations"][0]
    assert state["last_reason"] == "missing" and "is it mounted?" in state["last_failure"] and state["pending"] == 1
    assert run_copies(app) == {}  # the next attempt waits a minute, then 5, then 30
    nas.mkdir()
    clock.advance(seconds=61)
    assert run_copies(app) == {1: (1, 0)}
    assert names(nas) == [f"{name}.age"]


def test_retention_at_the_location_deletes_only_automatic_copies_it_wrote(app, api, nas, clock):
    api.patch("/api/settings", json={"backup_encrypt": "off"})
    add_folder(api, nas, retention=2)
    (nas / "vibe_backup_auto_20200101_000000.json").write_text("{}")  # not ours: never deleted
    manual = api.post("/api/backups").get_json()["name"]
    autos = []
    for _ in range(4):
        clock.advance(hours=1)
        with app.app_context():
            autos.append(service.create_backup("auto").name)
        run_copies(app)
    assert names(nas) == sorted(["vibe_backup_auto_20200101_000000.json", manual, *autos[-2:]])


def test_the_files_at_a_location_are_listed_and_one_is_fetched_back_as_imported(app, api, nas, clock):
    made = add_folder(api, nas)
    name = api.post("/api/backups").get_json()["name"]
    run_copies(app)
    (nas / "notes.txt").write_text("not a backup")
    files = api.get(f"/api/backup-locations/{made['id']}/files").get_json()["files"]
    assert [(f["name"], f["encrypted"]) for f in files] == [(f"{name}.age", True)]
    fetched = api.post(f"/api/backup-locations/{made['id']}/files/{name}.age/fetch")
    assert fetched.status_code == 201, fetched.get_json()
    body = fetched.get_json()
    assert body["kind"] == "imported" and body["encrypted"] is True and body["from_location"] == "NAS"
    with app.app_context():
        assert (
            service.load_backup(body["name"]).counts
            == validate_document((app.config["BACKUP_DIR"] / name).read_bytes()).counts
        )
    assert api.post(f"/api/backup-locations/{made['id']}/files/..%2Fetc/fetch").status_code in (400, 404)
    missing = api.post(f"/api/backup-locations/{made['id']}/files/vibe_backup_manual_20000101_000000.json/fetch")
    assert missing.status_code == 502 and missing.get_json()["reason"] == "not_found"


def test_test_connection_writes_and_removes_a_probe(api, nas):
    made = add_folder(api, nas)
    answer = api.post(f"/api/backup-locations/{made['id']}/test")
    assert answer.status_code == 200 and answer.get_json()["ok"] is True and answer.get_json()["free_bytes"] > 0
    assert names(nas) == []
    shutil.rmtree(nas)
    failed = api.post(f"/api/backup-locations/{made['id']}/test")
    assert failed.status_code == 502 and failed.get_json()["reason"] == "missing"


def test_deleting_a_location_keeps_its_files(app, api, nas, clock):
    made = add_folder(api, nas)
    api.post("/api/backups")
    run_copies(app)
    assert api.delete(f"/api/backup-locations/{made['id']}").status_code == 204
    assert len(names(nas)) == 1 and LocationCopy.select().count() == 0


def test_the_scheduler_thread_sends_the_copy(app, api, nas):
    add_folder(api, nas)
    scheduler = BackupScheduler(app, tick_seconds=3600, retry_seconds=1, check_seconds=0.05).start()
    app.extensions["backup_scheduler"] = scheduler
    try:
        assert scheduler.leading.wait(10)
        name = api.post("/api/backups").get_json()["name"]  # wakes the scheduler of this process
        deadline = time.monotonic() + 20  # the tick an hour away: only the wake can send it this soon
        while names(nas) != [f"{name}.age"] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop()
    assert names(nas) == [f"{name}.age"]


def test_the_terminal_lists_tests_shows_files_and_fetches(app, api, runner, nas, clock):
    add_folder(api, nas)
    name = api.post("/api/backups").get_json()["name"]
    run_copies(app)

    def cli(*args):
        return runner.invoke(args=["backup", "locations", *args])

    listed = cli("list")
    assert listed.exit_code == 0 and listed.output.startswith(
        "NAS\tfolder\ton\t0 pending\tlast copy 2026-11-29 22:40 UTC"
    )
    assert cli("test", "NAS").output.startswith('OK: location "NAS" works (free_bytes ')
    assert cli("files", "NAS").output.startswith(f"{name}.age\t")
    fetched = cli("fetch", "NAS", f"{name}.age")
    assert fetched.exit_code == 0 and "as vibe_backup_imported_" in fetched.output
    missing = cli("test", "Nowhere")
    assert missing.exit_code == 1 and 'there is no location named "Nowhere" (locations: NAS)' in missing.output
    shutil.rmtree(nas)
    down = cli("files", "NAS")
    assert down.exit_code == 1 and "the location failed: the folder, bucket or path does not exist" in down.output


@pytest.mark.skipif(shutil.which("age") is None, reason="Debian's age CLI is missing: make age installs it")
def test_an_encrypted_copy_opens_with_the_emergency_kit_and_the_age_cli(app, api, nas, clock, tmp_path):
    add_folder(api, nas)
    name = api.post("/api/backups").get_json()["name"]
    run_copies(app)
    kit = api.post("/api/backups/key/kit", json={"password": PASSWORD})
    assert kit.status_code == 200
    (tmp_path / "kit.txt").write_bytes(kit.data)
    opened = subprocess.run(
        ["age", "-d", "-i", tmp_path / "kit.txt", nas / f"{name}.age"], check=True, capture_output=True
    ).stdout
    assert opened == (app.config["BACKUP_DIR"] / name).read_bytes()


def test_a_sanity_run_leaves_no_copy_at_a_location(app, api, nas, clock):
    add_folder(api, nas)
    assert api.post("/api/sanity/pause", json={"minutes": 10}).status_code == 201
    name = api.post("/api/backups").get_json()["name"]
    assert run_copies(app) == {}
    assert api.delete(f"/api/backups/{name}").status_code == 204
    assert api.delete("/api/sanity/pause").status_code == 204
    assert run_copies(app) == {} and names(nas) == []  # the deleted backup is not sent afterwards either
    assert LocationCopy.select().count() == 0

"""The copy engine against real network servers (SPEC §14): for each kind, ``rclone serve`` on 127.0.0.1 with
credentials; a backup is copied (encrypted, as it leaves the machine), checked and recorded; the server going
away fails the copy with its reason, keeps the local file, and the copy completes after it returns; the
location's retention; a wrong password; the files listed and one fetched back and restored."""

import hashlib

import pytest

from vibenvr.backups import service
from vibenvr.backups.document import envelope
from vibenvr.runtime import LocationCopy

from support import backups as shared
from support.rclone import ACCESS_KEY, PASSWORD, SECRET_KEY, USER, RcloneServer

clock = shared.clock
KINDS = ["webdav", "sftp", "s3"]


def _body(kind, server):
    if kind == "webdav":
        return {"url": f"http://{server.address}/backups", "username": USER, "password": PASSWORD}
    if kind == "sftp":
        host, port = server.address.split(":")
        return {"host": host, "port": int(port), "username": USER, "password": PASSWORD, "path": "backups"}
    return {
        "endpoint_url": f"http://{server.address}",
        "bucket": "backups",
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
    }


@pytest.fixture(params=KINDS)
def remote(request, tmp_path):
    root = tmp_path / "served"
    (root / "backups").mkdir(parents=True)
    with RcloneServer(request.param, root, extra=["--dir-cache-time", "0s"]) as server:
        yield request.param, server, root / "backups"


def add(api, kind, server, **fields):
    response = api.post(
        "/api/backup-locations", json={"name": "Off-site", "kind": kind, **_body(kind, server), **fields}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def run_copies(app):
    with app.app_context():
        return service.copy_locations()


def stored(folder):
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_a_copy_lands_encrypted_checked_and_recorded(app, api, remote, clock):
    kind, server, folder = remote
    made = add(api, kind, server)
    name = api.post("/api/backups").get_json()["name"]
    assert run_copies(app) == {made["id"]: (1, 0)}
    if kind == "sftp":  # pinned on the first connection, by the copy as by a test
        pinned = api.get(f"/api/backup-locations/{made['id']}").get_json()["host_key"]
        assert pinned.startswith(("ssh-", "ecdsa-"))
    assert api.post(f"/api/backup-locations/{made['id']}/test").get_json()["ok"] is True
    data = (folder / f"{name}.age").read_bytes()
    with app.app_context():
        assert envelope.decrypt(data, service.identities()) == (app.config["BACKUP_DIR"] / name).read_bytes()
    assert LocationCopy.get().sha256 == hashlib.sha256(data).hexdigest()


def test_the_server_going_away_fails_the_copy_keeps_the_backup_and_it_completes_later(app, api, remote, clock):
    kind, server, folder = remote
    made = add(api, kind, server)
    server.stop()
    name = api.post("/api/backups").get_json()["name"]
    assert run_copies(app) == {made["id"]: (0, 1)}
    state = api.get("/api/backups/status").get_json()["locations"][0]
    assert state["last_reason"] == "refused" and state["pending"] == 1
    assert (app.config["BACKUP_DIR"] / name).exists()
    server.start()
    clock.advance(seconds=61)
    assert run_copies(app) == {made["id"]: (1, 0)}
    assert stored(folder) == [f"{name}.age"]


def test_a_wrong_password_is_an_auth_failure(app, api, remote, clock):
    kind, server, _folder = remote
    secret = "secret_access_key" if kind == "s3" else "password"
    made = add(api, kind, server, **{secret: "not-the-password"})
    answer = api.post(f"/api/backup-locations/{made['id']}/test")
    assert answer.status_code == 502 and answer.get_json()["reason"] == "auth"
    assert "not-the-password" not in answer.get_data(as_text=True)


def test_retention_there_and_a_file_fetched_back_restores(app, api, remote, clock):
    kind, server, folder = remote
    made = add(api, kind, server, retention=2)
    autos = []
    for _ in range(3):
        clock.advance(hours=1)
        with app.app_context():
            autos.append(service.create_backup("auto").name)
        run_copies(app)
    assert stored(folder) == sorted(f"{n}.age" for n in autos[-2:])
    files = api.get(f"/api/backup-locations/{made['id']}/files").get_json()["files"]
    assert [f["name"] for f in files] == [f"{autos[-1]}.age", f"{autos[-2]}.age"]
    fetched = api.post(f"/api/backup-locations/{made['id']}/files/{autos[-1]}.age/fetch")
    assert fetched.status_code == 201, fetched.get_json()
    restored = api.post(f"/api/backups/{fetched.get_json()['name']}/restore", json={"mode": "replace"})
    assert restored.status_code == 200 and restored.get_json()["restored"] is True

"""A fresh install restores a backup from /setup (SPEC §16): the first choice, the three ways to the file (an
upload, plain or encrypted; a file of <data>/backups; a backup location typed in), validation before anything
is written, the preview, the restore and the sign-in with an account of the backup; the setup code after a
data loss (SPEC §12); closed once a user exists; CSRF; keys and passwords never kept, logged or echoed."""

import datetime as dt
import io
import json
import logging
import re
import subprocess

import pytest
from pyrage import x25519

from vibenvr.auth import setupcode
from vibenvr.backups import keys
from vibenvr.backups.document import envelope
from vibenvr.backups.document.canonical import compute_checksum
from vibenvr.backups.document.envelope import NO_KEY
from vibenvr.firstrun import sealed, staging
from vibenvr.hardening import ANONYMOUS_BODY_LIMIT
from vibenvr.models import Camera, User
from vibenvr.runtime import SignInFailure

from .conftest import login_form, page_csrf
from backups.helpers import PHRASE, backup_files, recount
from builders import PASSWORD, make_user
from conftest import connected_app
from support.rclone import ACCESS_KEY, SECRET_KEY, RcloneServer, free_port
from support.rclone import PASSWORD as NET_PASSWORD
from support.rclone import USER as NET_USER
from support.source_backup import source_backup

_MADE = {}
HOLDS = "This will restore <strong>12 cameras, 1 group, 3 users (admins: anna, bob) and "


@pytest.fixture
def backup(tmp_path):
    """``(name, bytes)`` of another install's backup: 12 cameras, a group, admins anna and bob, viewer carol."""
    if "rich" not in _MADE:
        _MADE["rich"] = source_backup(tmp_path / "old-server")
    return _MADE["rich"]


@pytest.fixture
def app(tmp_path, backup):
    """The fresh install under test (built after the backup: building an app binds the database)."""
    with connected_app(tmp_path / "data") as app:
        yield app


def _token(client, path="/setup/restore"):
    return page_csrf(client.get(path).get_data(as_text=True))


def _upload(client, data, filename="vibe_backup_manual_20261129_224000.json", **fields):
    body = {"csrf_token": _token(client), "file": (io.BytesIO(data), filename), **fields}
    return client.post("/setup/restore/upload", data=body, content_type="multipart/form-data")


def _confirm(client):
    html = client.get("/setup/restore/preview").get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    return client.post("/setup/restore/confirm", data={"csrf_token": page_csrf(html), "token": token})


def _staged(app):
    folder = staging.folder(app.config["DATA_DIR"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _nothing_written(app):
    assert User.select().count() == 0 and Camera.select().count() == 0
    assert backup_files(app) == []
    assert _staged(app) == []
    assert not (app.config["DATA_DIR"] / setupcode.MARKER_NAME).exists()


def _restored(app):
    assert sorted(u.username for u in User.select()) == ["anna", "bob", "carol"]
    assert Camera.select().count() == 12
    assert _staged(app) == []  # the waiting file is gone
    marker = json.loads((app.config["DATA_DIR"] / setupcode.MARKER_NAME).read_text())
    return marker


def _document(data, change):
    """The backup's document changed by ``change`` and signed again."""
    doc = json.loads(data)
    doc.pop("checksum")
    change(doc)
    recount(doc)
    doc["checksum"] = compute_checksum(doc)
    return json.dumps(doc).encode()


# --- the first choice --------------------------------------------------------------------------------


def test_setup_starts_with_the_two_choices_and_the_restore_with_its_three_ways(client):
    html = client.get("/setup").get_data(as_text=True)
    assert 'aria-label="How to start"' in html
    assert re.search(r'href="/setup"\s+aria-current="page">\s*<span class="start-title">Create the administrator', html)
    assert re.search(r'href="/setup/restore"\s*>\s*<span class="start-title">Restore from a backup', html)
    html = client.get("/setup/restore").get_data(as_text=True)
    assert re.search(r'href="/setup/restore"\s+aria-current="page">\s*<span class="start-title">Restore', html)
    for way, label in (("upload", "Upload a file"), ("server", "On this server"), ("location", "From a location")):
        assert f'href="/setup/restore?way={way}"' in html and label in html
    assert 'name="file" type="file"' in html  # a fresh folder has no backups: the upload is open
    assert "/setup/restore/code" not in html and 'name="setup_code"' not in html


# --- the three ways ----------------------------------------------------------------------------------


def test_an_upload_is_previewed_before_anything_changes_then_restored_and_kept_as_imported(app, client, backup):
    name, data = backup
    answer = _upload(client, data, filename=name)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/setup/restore/preview")
    assert User.select().count() == 0 and backup_files(app) == [] and len(_staged(app)) == 1
    html = client.get("/setup/restore/preview").get_data(as_text=True)
    assert HOLDS in html
    assert "as an administrator: <strong>anna or bob</strong>" in html
    assert "Restore this backup</button>" in html
    answer = _confirm(client)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/login")
    marker = _restored(app)
    assert marker["how"] == "/setup (restored a backup)"
    imported = [f for f in backup_files(app) if f.startswith("vibe_backup_imported_")]
    assert len(imported) == 1 and (app.config["BACKUP_DIR"] / imported[0]).read_bytes() == data
    assert len([f for f in backup_files(app) if f.startswith("vibe_backup_safety_")]) == 1
    page = client.get("/login").get_data(as_text=True)
    assert "The backup is restored: 12 cameras, 1 group, 3 users (admins: anna, bob) and" in page
    assert "Sign in with an administrator account from it: anna or bob." in page
    assert f"The file is kept as {imported[0]} on System Backups." in page
    assert login_form(client, "anna", PASSWORD).status_code == 302
    assert client.get("/cameras").status_code == 200
    assert client.get("/setup/restore").status_code == 404


@pytest.mark.parametrize("opened_with", ["kit", "passphrase"])
def test_an_encrypted_upload_opens_with_the_emergency_kit_or_its_passphrase(app, client, backup, opened_with):
    name, data = backup
    identity = x25519.Identity.generate()  # the old server's key: this one never held it
    if opened_with == "kit":
        sealed_file = envelope.encrypt(data, [identity.to_public()])
        given = {"identity": keys.kit_text(identity, "Old NVR", dt.datetime(2026, 11, 29, 22, 40))}
    else:
        sealed_file = envelope.encrypt_with_passphrase(data, PHRASE)
        given = {"passphrase": PHRASE}
    refused = _upload(client, sealed_file, filename=name + ".age")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    wanted = NO_KEY if opened_with == "kit" else "is encrypted with a passphrase, not to a key: enter the passphrase"
    assert wanted in html and "Nothing was changed." in html
    assert re.search(r"<details[^>]*data-restore-keys open>", html)  # the key fields are open
    _nothing_written(app)
    assert _upload(client, sealed_file, filename=name + ".age", **given).status_code == 303
    preview = client.get("/setup/restore/preview").get_data(as_text=True)
    assert HOLDS in preview and "Yes, and it opened: the key or passphrase is not kept." in preview
    assert _confirm(client).status_code == 303
    _restored(app)
    imported = [f for f in backup_files(app) if f.startswith("vibe_backup_imported_")]
    assert imported[0].endswith(".json.age")  # kept as it came: still encrypted
    assert (app.config["BACKUP_DIR"] / imported[0]).read_bytes() == sealed_file
    page = client.get("/login").get_data(as_text=True)
    assert "new key of this server: download its emergency kit" in page


def test_a_file_of_the_backup_folder_is_restored_once_the_setup_code_is_entered(app, client, runner, backup):
    name, data = backup
    (app.config["BACKUP_DIR"] / name).write_bytes(data)  # a reused volume: that is an earlier install
    gate = client.get("/setup/restore").get_data(as_text=True)
    assert "This server has been set up before:" in gate and 'name="setup_code"' in gate
    code = runner.invoke(args=["users", "setup-code"]).stdout.strip()
    answer = client.post("/setup/restore/code", data={"csrf_token": page_csrf(gate), "setup_code": code})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/setup/restore")
    html = client.get("/setup/restore").get_data(as_text=True)
    assert re.search(r'href="/setup/restore\?way=server" aria-current="page"', html)  # the folder has a backup
    assert re.search(rf'name="name" value="{re.escape(name)}" checked', html)
    answer = client.post("/setup/restore/server", data={"csrf_token": page_csrf(html), "name": name})
    assert answer.status_code == 303
    assert HOLDS in client.get("/setup/restore/preview").get_data(as_text=True)
    assert _confirm(client).status_code == 303
    _restored(app)
    files = backup_files(app)
    assert name in files and len(files) == 2 and any(f.startswith("vibe_backup_safety_") for f in files)  # no copy
    assert not (app.config["DATA_DIR"] / setupcode.CODE_NAME).exists()  # the code is spent


def test_a_folder_location_lists_its_backups_and_the_one_chosen_is_fetched_and_restored(app, client, tmp_path, backup):
    name, data = backup
    nas = tmp_path / "nas"
    nas.mkdir()
    (nas / name).write_bytes(data)
    (nas / "notes.txt").write_text("not a backup")
    token = _token(client, "/setup/restore?way=location")
    answer = client.post(
        "/setup/restore/location",
        data={"csrf_token": token, "action": "connect", "kind": "folder", "folder-path": str(nas)},
    )
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert re.search(rf"Connected to the folder {re.escape(str(nas))}</strong>:\s+1 backup file\.", html)
    assert f'value="{name}" checked' in html and "notes.txt" not in html
    connection = re.search(r'name="connection" value="([^"]+)"', html).group(1)
    fetch = {"csrf_token": token, "action": "fetch", "connection": connection, "name": name}
    assert client.post("/setup/restore/location", data=fetch).status_code == 303
    assert User.select().count() == 0 and backup_files(app) == []  # fetched, not yet restored
    assert HOLDS in client.get("/setup/restore/preview").get_data(as_text=True)
    assert _confirm(client).status_code == 303
    _restored(app)
    imported = [f for f in backup_files(app) if f.startswith("vibe_backup_imported_")]
    assert (app.config["BACKUP_DIR"] / imported[0]).read_bytes() == data
    assert sorted(p.name for p in nas.iterdir()) == sorted([name, "notes.txt"])  # the location is left as it was


def _network_form(kind, server):
    if kind == "webdav":
        fields = {"url": f"http://{server.address}/backups", "username": NET_USER, "password": NET_PASSWORD}
    else:
        fields = {"endpoint_url": f"http://{server.address}", "bucket": "backups", "region": "us-east-1"}
        fields |= {"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY}
    return {"action": "connect", "kind": kind, **{f"{kind}-{key}": value for key, value in fields.items()}}


@pytest.mark.parametrize("kind", ["webdav", "s3"])
def test_a_network_location_restores_and_its_secret_is_never_echoed_kept_or_logged(
    app, client, tmp_path, backup, caplog, kind
):
    caplog.set_level(logging.DEBUG)
    name, data = backup
    secret = NET_PASSWORD if kind == "webdav" else SECRET_KEY
    (tmp_path / "served" / "backups").mkdir(parents=True)
    (tmp_path / "served" / "backups" / name).write_bytes(data)
    token = _token(client, "/setup/restore?way=location")
    with RcloneServer(kind, tmp_path / "served") as server:
        listed = client.post("/setup/restore/location", data={"csrf_token": token, **_network_form(kind, server)})
        html = listed.get_data(as_text=True)
        assert listed.status_code == 200 and f'value="{name}" checked' in html
        assert secret not in html  # it travels sealed
        connection = re.search(r'name="connection" value="([^"]+)"', html).group(1)
        fetch = {"csrf_token": token, "action": "fetch", "connection": connection, "name": name}
        assert client.post("/setup/restore/location", data=fetch).status_code == 303
    kept = b"".join(p.read_bytes() for p in staging.folder(app.config["DATA_DIR"]).iterdir())
    assert secret.encode() not in kept
    assert _confirm(client).status_code == 303
    _restored(app)
    assert secret not in caplog.text


def test_an_sftp_location_shows_the_host_key_it_accepted_and_fetches_from_that_server_only(
    app, client, tmp_path, backup, caplog
):
    caplog.set_level(logging.DEBUG)
    name, data = backup
    host_key = tmp_path / "host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    (tmp_path / "sftp" / "backups").mkdir(parents=True)
    (tmp_path / "sftp" / "backups" / name).write_bytes(data)
    token = _token(client, "/setup/restore?way=location")
    with RcloneServer("sftp", tmp_path / "sftp", extra=["--key", str(host_key)]) as server:
        form = {"csrf_token": token, "action": "connect", "kind": "sftp", "sftp-host": "127.0.0.1"}
        form |= {"sftp-port": str(server.port), "sftp-username": NET_USER, "sftp-password": NET_PASSWORD}
        listed = client.post("/setup/restore/location", data={**form, "sftp-path": "backups"})
        html = listed.get_data(as_text=True)
        assert listed.status_code == 200 and f'value="{name}" checked' in html
        assert 'The SSH server showed the host key <code class="fingerprint">SHA256:' in html
        connection = re.search(r'name="connection" value="([^"]+)"', html).group(1)
        carried = sealed.unseal(app.config["SECRET_KEY"], connection, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        assert carried["settings"]["host_key"].startswith("ssh-ed25519 ")  # the fetch checks the same server
        fetch = {"csrf_token": token, "action": "fetch", "connection": connection, "name": name}
        assert client.post("/setup/restore/location", data=fetch).status_code == 303
        other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN+3Lt/u+IkdlAdyiZgQb2ZxYns2737EztCwrQJIozm0"
        refused = client.post("/setup/restore/location", data={**form, "sftp-host_key": other})
        assert refused.status_code == 502
        assert "The SSH host key does not match the pinned one" in refused.get_data(as_text=True)
    assert HOLDS in client.get("/setup/restore/preview").get_data(as_text=True)
    assert NET_PASSWORD not in caplog.text


# --- problems: said, and nothing written ---------------------------------------------------------------


@pytest.mark.parametrize(
    "make, status, message",
    [
        (lambda data: b'{"format": "vibenvr-backup", ', 400, "is not valid JSON"),
        (
            lambda data: data.replace(b'"name":"Camera 1"', b'"name":"Camera one"'),
            422,
            "checksum does not match the contents",
        ),
        (
            lambda data: _document(data, lambda doc: doc["cameras"][0].update(rtsp_url="ftp://camera")),
            422,
            "rtsp_url",
        ),
        (lambda data: b"", 400, "is empty; a backup is a JSON object"),
    ],
    ids=["not JSON", "altered after it was written", "an invalid camera", "empty"],
)
def test_an_invalid_file_says_what_is_wrong_and_nothing_is_written(app, client, backup, make, status, message):
    answer = _upload(client, make(backup[1]))
    assert answer.status_code == status
    html = answer.get_data(as_text=True)
    assert message in html and "Nothing was changed." in html
    _nothing_written(app)


def test_an_upload_without_a_file_asks_for_one(app, client):
    body = {"csrf_token": _token(client)}
    answer = client.post("/setup/restore/upload", data=body, content_type="multipart/form-data")
    assert answer.status_code == 400
    assert "Choose a backup file (.json or .json.age) from your computer first." in answer.get_data(as_text=True)
    _nothing_written(app)


def test_a_backup_without_an_active_administrator_is_refused(app, client, backup):
    viewers = _document(backup[1], lambda doc: [user.update(role="viewer") for user in doc["users"]])
    assert _upload(client, viewers).status_code == 303
    html = client.get("/setup/restore/preview").get_data(as_text=True)
    assert "This backup cannot be restored here.</strong> The backup has no active administrator" in html
    assert "Restore this backup</button>" not in html and "Choose another backup" in html
    answer = _confirm(client)
    assert answer.status_code == 409
    assert "The restore did not happen; nothing was changed." in answer.get_data(as_text=True)
    assert User.select().count() == 0 and backup_files(app) == []  # not even a safety backup
    assert not (app.config["DATA_DIR"] / setupcode.MARKER_NAME).exists()


@pytest.mark.parametrize(
    "form, status, field, message",
    [
        ({"kind": ""}, 422, None, "Choose the kind of location."),
        ({"kind": "folder", "folder-path": "nas/backups"}, 422, "folder-path", "Must be an absolute path"),
        ({"kind": "folder", "folder-path": ""}, 422, "folder-path", "Required."),
        (
            {"kind": "sftp", "sftp-host": "nas.local", "sftp-username": "backup"},
            422,
            "sftp-password",
            "Enter the password or a private key.",
        ),
        ({"kind": "sftp", "sftp-host": "nas.local", "sftp-port": "99999"}, 422, "sftp-port", "65535"),
        (
            {"kind": "webdav", "webdav-url": "ftp://nas/dav"},
            422,
            "webdav-url",
            "Must be an http:// or https:// address",
        ),
        ({"kind": "folder", "folder-path": "/nonexistent/nas"}, 502, None, "The folder, bucket or path does not exist"),
        ({"kind": "webdav", "webdav-url": "http://127.0.0.1:{port}/dav"}, 502, None, "The connection was refused"),
    ],
    ids=["no kind", "relative path", "no path", "no password", "port", "url scheme", "missing folder", "refused"],
)
def test_a_location_that_is_wrong_or_fails_says_why_and_nothing_is_written(app, client, form, status, field, message):
    form = {key: value.format(port=free_port()) for key, value in form.items()}
    body = {"csrf_token": _token(client), "action": "connect", **form}
    answer = client.post("/setup/restore/location", data=body)
    assert answer.status_code == status
    html = answer.get_data(as_text=True)
    assert message in html
    if field:
        assert re.search(rf'<p class="field-error" id="e-{field}">[^<]*{re.escape(message)}', html)
    _nothing_written(app)


PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----"


@pytest.mark.parametrize(
    "path, form, status",
    [
        ("/setup/restore/server", {"name": "../vibenvr.db"}, 400),
        ("/setup/restore/server", {"name": "vibe_backup_manual_20200101_000000.json"}, 404),
        ("/setup/restore/server", {"name": ""}, 400),
        ("/setup/restore/location", {"action": "connect", "kind": "ftp"}, 422),
        ("/setup/restore/location", {"action": "connect", "kind": "sftp", "sftp-port": "twenty-two"}, 422),
        ("/setup/restore/location", {"action": "connect", "kind": "s3", "s3-bucket": "UPPER_case"}, 422),
        (
            "/setup/restore/location",
            {
                "action": "connect",
                "kind": "sftp",
                "sftp-host": "127.0.0.1",
                "sftp-port": "{port}",
                "sftp-username": "u",
                "sftp-private_key": PRIVATE_KEY,
            },
            502,
        ),
        ("/setup/restore/upload", {"file": "not a file field"}, 400),
        ("/setup/restore/upload", {"file": (io.BytesIO(b"{}"), "b.json"), "identity": "not a key"}, 422),
    ],
    ids=[
        "traversal",
        "missing file",
        "no name",
        "unknown kind",
        "port",
        "bucket",
        "bad key",
        "no file",
        "bad identity",
    ],
)
def test_hostile_input_is_a_clear_answer_never_a_500(app, client, path, form, status):
    form = {k: v.format(port=free_port()) if isinstance(v, str) else v for k, v in form.items()}
    answer = client.post(path, data={"csrf_token": _token(client), **form}, content_type="multipart/form-data")
    html = answer.get_data(as_text=True)
    assert answer.status_code == status, html[-3000:]
    assert 'class="message message-error' in html or 'class="field-error"' in html  # said on the page
    _nothing_written(app)


def test_an_altered_or_expired_connection_asks_to_connect_again(app, client, clock, tmp_path, backup):
    (tmp_path / "nas").mkdir()
    (tmp_path / "nas" / backup[0]).write_bytes(backup[1])
    settings = {"kind": "folder", "path": str(tmp_path / "nas")}
    good = sealed.seal(app.config["SECRET_KEY"], {"settings": settings, "files": [], "fingerprint": None}, clock())
    token = _token(client)
    for connection, advance in (("not-a-sealed-text", 0), (good[:-4] + "AAAA", 0), (good, 16)):
        clock.advance(minutes=advance)
        body = {"csrf_token": token, "action": "fetch", "connection": connection, "name": backup[0]}
        answer = client.post("/setup/restore/location", data=body)
        assert answer.status_code == 422
        assert "The connection has expired (it is kept for 15 minutes)" in answer.get_data(as_text=True)
    _nothing_written(app)


def test_a_choice_waits_an_hour_and_only_the_last_one_counts(app, client, clock, backup):
    assert _upload(client, backup[1]).status_code == 303
    first = re.search(r'name="token" value="([^"]+)"', client.get("/setup/restore/preview").get_data(as_text=True))
    assert _upload(client, backup[1]).status_code == 303  # another choice replaces it
    assert len(_staged(app)) == 1
    answer = client.post("/setup/restore/confirm", data={"csrf_token": _token(client), "token": first.group(1)})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/setup/restore")
    assert User.select().count() == 0
    clock.advance(minutes=61)
    answer = client.get("/setup/restore/preview")
    assert answer.status_code == 303
    assert "That backup is no longer waiting to be restored" in client.get("/setup/restore").get_data(as_text=True)
    assert _staged(app) == [] and User.select().count() == 0


def test_creating_the_administrator_instead_removes_the_waiting_file(app, client, backup):
    assert _upload(client, backup[1]).status_code == 303
    data = {"csrf_token": _token(client, "/setup"), "username": "owner", "password": PASSWORD, "confirm": PASSWORD}
    assert client.post("/setup", data=data).status_code == 302
    assert not staging.folder(app.config["DATA_DIR"]).exists()
    assert [u.username for u in User.select()] == ["owner"]


def test_an_upload_over_64_kb_is_taken_before_any_user_exists_and_refused_after(app, client, clock, backup):
    padded = backup[1] + b" " * (ANONYMOUS_BODY_LIMIT + 1)  # JSON may end in white space
    assert _upload(client, padded).status_code == 303
    form = {"csrf_token": _token(client), "padding": "x" * (ANONYMOUS_BODY_LIMIT + 1)}
    assert client.post("/setup/restore/upload", data=form).status_code == 413  # not a multipart upload
    setupcode.mark_installed(app.config["DATA_DIR"], clock(), "test")  # after a data loss: the code first
    assert _upload(client, padded).status_code == 413
    make_user("someone")
    anonymous = app.test_client()
    body = {"csrf_token": _token(anonymous, "/login"), "file": (io.BytesIO(padded), "big.json")}
    answer = anonymous.post("/setup/restore/upload", data=body, content_type="multipart/form-data")
    assert answer.status_code == 413 and "at most 64 KB" in answer.get_data(as_text=True)


# --- the setup code after a data loss --------------------------------------------------------------


def _code_form(client, code):
    return client.post("/setup/restore/code", data={"csrf_token": _token(client), "setup_code": code})


def test_after_a_data_loss_every_step_needs_the_setup_code_counted_with_the_administrator_form(
    app, client, runner, clock, backup
):
    setupcode.mark_installed(app.config["DATA_DIR"], clock(), "test")  # a lost database beside the marker
    assert 'name="setup_code"' in client.get("/setup/restore").get_data(as_text=True)
    token = _token(client)
    for method, path in (("post", "/setup/restore/upload"), ("get", "/setup/restore/preview")):
        answer = getattr(client, method)(path, data={"csrf_token": token, "file": (io.BytesIO(backup[1]), "b.json")})
        assert answer.status_code == 303 and answer.headers["Location"].endswith("/setup/restore")
    assert client.post("/setup/restore/location", data={"csrf_token": token, "kind": "folder"}).status_code == 303
    assert _staged(app) == [] and User.select().count() == 0
    missing = _code_form(client, "")
    assert missing.status_code == 422 and "Enter the setup code from the server log" in missing.get_data(as_text=True)
    for _ in range(9):
        wrong = _code_form(client, "AAAA-BBBB-CCCC-DDDD")
        assert wrong.status_code == 401 and "That is not the current setup code" in wrong.get_data(as_text=True)
    admin_form = {"csrf_token": _token(client, "/setup"), "username": "x", "password": PASSWORD, "confirm": PASSWORD}
    assert client.post("/setup", data={**admin_form, "setup_code": "AAAA-BBBB-CCCC-DDDD"}).status_code == 401
    code = runner.invoke(args=["users", "setup-code"]).stdout.strip()
    limited = _code_form(client, code)  # ten failures, here and on the administrator form: even the right code waits
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "Too many failed attempts. Try again in" in limited.get_data(as_text=True)
    clock.advance(minutes=16)
    assert _code_form(client, code.lower()).status_code == 303
    assert _upload(client, backup[1]).status_code == 303
    assert _confirm(client).status_code == 303
    assert _restored(app)["how"] == "test"  # the marker was there already
    assert not (app.config["DATA_DIR"] / setupcode.CODE_NAME).exists()  # spent
    assert SignInFailure.select().where(SignInFailure.key == setupcode.LIMIT_KEY.lower()).count() == 0


def test_the_code_entered_stops_counting_once_it_is_spent_or_made_anew(app, client, runner, clock):
    setupcode.mark_installed(app.config["DATA_DIR"], clock(), "test")
    client.get("/setup/restore")
    assert _code_form(client, runner.invoke(args=["users", "setup-code"]).stdout.strip()).status_code == 303
    assert 'name="setup_code"' not in client.get("/setup/restore").get_data(as_text=True)
    setupcode.spend(app.config["DATA_DIR"])  # another browser used it
    assert 'name="setup_code"' in client.get("/setup/restore").get_data(as_text=True)


# --- closed once a user exists, CSRF ---------------------------------------------------------------

ROUTES = [
    ("get", "/setup/restore"),
    ("get", "/setup/restore?way=location"),
    ("get", "/setup/restore/preview"),
    ("post", "/setup/restore/code"),
    ("post", "/setup/restore/upload"),
    ("post", "/setup/restore/server"),
    ("post", "/setup/restore/location"),
    ("post", "/setup/restore/confirm"),
]
POSTS = [path for method, path in ROUTES if method == "post"]


@pytest.mark.parametrize("method, path", ROUTES)
def test_every_restore_page_is_a_404_once_a_user_exists(app, client, backup, method, path):
    assert _upload(client, backup[1]).status_code == 303  # even with a file waiting
    make_user("someone", role="viewer")
    data = {"csrf_token": _token(client, "/login"), "setup_code": "x", "kind": "folder", "name": backup[0]}
    answer = client.get(path) if method == "get" else client.post(path, data=data)
    assert answer.status_code == 404


@pytest.mark.parametrize("path", POSTS)
def test_every_post_needs_the_csrf_token(app, client, backup, path):
    client.get("/setup/restore")
    data = {"file": (io.BytesIO(backup[1]), "b.json"), "kind": "folder", "name": backup[0], "setup_code": "x"}
    answer = client.post(path, data=data, content_type="multipart/form-data")
    assert answer.status_code == 400 and "CSRF" in answer.get_data(as_text=True)
    _nothing_written(app)


def test_keys_and_passphrases_are_never_logged_or_kept(app, client, backup, caplog):
    caplog.set_level(logging.DEBUG)
    identity = x25519.Identity.generate()
    kit = keys.kit_text(identity, "Old NVR", dt.datetime(2026, 11, 29, 22, 40))
    secret = str(identity)
    encrypted = envelope.encrypt(backup[1], [identity.to_public()])
    wrong = _upload(client, encrypted, filename="b.json.age", passphrase="a wrong passphrase here")
    assert wrong.status_code == 422 and "a wrong passphrase here" not in wrong.get_data(as_text=True)
    answer = _upload(client, encrypted, filename="b.json.age", identity=kit)
    assert answer.status_code == 303
    kept = b"".join(p.read_bytes() for p in staging.folder(app.config["DATA_DIR"]).iterdir())
    assert secret.encode() not in kept
    preview = client.get("/setup/restore/preview").get_data(as_text=True)
    assert secret not in preview
    assert _confirm(client).status_code == 303
    assert secret not in caplog.text and "a wrong passphrase here" not in caplog.text
    assert not (app.config["DATA_DIR"] / "backup_key").exists()  # the kit did not become this server's key


def test_an_upload_over_the_upload_limit_is_refused_on_the_upload_panel(app, client, backup):
    app.config.update(MAX_UPLOAD_MB=1, MAX_CONTENT_LENGTH=1024 * 1024 + 64 * 1024)
    for size in (1024 * 1024 + 1, 2 * 1024 * 1024):  # past the upload limit; past the request limit too
        answer = _upload(client, backup[1] + b" " * size)
        assert answer.status_code == 413
        html = answer.get_data(as_text=True)
        assert "The file is larger than the upload limit of 1 MB. Nothing was saved." in html
        assert 'name="file" type="file"' in html
    _nothing_written(app)

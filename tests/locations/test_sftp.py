"""SFTP locations (SPEC §14) against a real server: ``rclone serve sftp`` of a temporary folder on 127.0.0.1,
with a host key made here (stable across restarts) and client keys in its authorized keys next to the
password. Each test works in its own folder of the served one."""

import contextlib
import errno
import hashlib
import http.server
import os
import socket
import subprocess
import threading
import time

import paramiko
import pytest

from vibenvr.backups.locations.sftp import SftpTransport, check_name, classify
from vibenvr.backups.locations.transport import TEMP_PREFIX, LocationError

from support.rclone import PASSWORD, USER, RcloneServer, free_port
from support.smalldisk import small_disk as mounted_small_disk

NAME = "vibe_backup_auto_20261129_224000.json"


def keygen(path, kind):
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"test-{kind}", "-f", str(path)], check=True)
    return path


def public_key(path):
    """``"<type> <base64>"`` of an ssh-keygen key pair, without the comment."""
    return " ".join(path.with_suffix(".pub").read_text().split()[:2])


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    made = {kind: keygen(folder / f"client_{kind}", kind) for kind in ("ed25519", "rsa", "ecdsa")}
    made["host"] = keygen(folder / "host", "ed25519")
    made["other_host"] = keygen(folder / "other_host", "ed25519")
    made["stranger"] = keygen(folder / "stranger", "ed25519")  # in no authorized keys
    made["authorized"] = folder / "authorized_keys"
    made["authorized"].write_text(
        "".join(made[kind].with_suffix(".pub").read_text() for kind in ("ed25519", "rsa", "ecdsa"))
    )
    return made


def sftp_server(root, keys, *extra):
    """rclone with this host key, the client keys and no directory cache (the tests write the folder directly too)."""
    return RcloneServer(
        "sftp",
        root,
        extra=[
            "--key",
            str(keys["host"]),
            "--authorized-keys",
            str(keys["authorized"]),
            "--dir-cache-time",
            "0s",
            *extra,
        ],
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys):
    with sftp_server(tmp_path_factory.mktemp("served"), keys) as running:
        yield running


@pytest.fixture
def folder(server, request):
    """This test's folder in the served one (the path a location names relative to the login folder)."""
    path = server.root / request.node.name.replace("[", "-").replace("]", "")
    path.mkdir()
    return path


def settings(server, folder, **changes):
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "username": USER,
        "password": PASSWORD,
        "path": folder.name,
        "host_key": "",
        **changes,
    }


def failure(settings_, action=lambda transport: transport.list(), timeout=None):
    """The LocationError of ``action`` on a fresh transport; checks that no secret is in its text."""
    transport = SftpTransport(settings_)
    if timeout is not None:
        transport.timeout = timeout
    with transport, pytest.raises(LocationError) as caught:
        action(transport)
    for secret in (PASSWORD, settings_.get("password"), settings_.get("private_key")):
        if secret:
            assert secret not in str(caught.value)
            assert secret not in caught.value.detail
    return caught.value


def test_put_list_get_delete_round_trip_of_a_backup_of_5_7_mb(server, folder):
    payload = os.urandom(5_700_000)
    with SftpTransport(settings(server, folder)) as transport:
        transport.put(NAME, payload)
        [listed] = transport.list()
        assert (listed.name, listed.size) == (NAME, len(payload))
        assert abs(listed.modified.timestamp() - time.time()) < 120
        assert hashlib.sha256(transport.get(NAME, len(payload))).digest() == hashlib.sha256(payload).digest()
        assert (folder / NAME).read_bytes() == payload
        assert sorted(os.listdir(folder)) == [NAME]  # no temporary left behind
        transport.delete(NAME)
        assert transport.list() == []
        transport.delete(NAME)  # absent already: not an error
    assert os.listdir(folder) == []


def test_put_is_atomic_when_the_server_stops_mid_upload(tmp_path, keys):
    root = tmp_path / "served"
    payload = os.urandom(50_000_000)
    server = sftp_server(root, keys).start()
    stopped = threading.Event()

    def temporary_size():
        sizes = [0]
        for entry in os.scandir(root):
            with contextlib.suppress(OSError):  # renamed or gone meanwhile
                sizes.append(entry.stat().st_size if entry.name.startswith(TEMP_PREFIX) else 0)
        return max(sizes)

    def stop_once_the_upload_is_under_way():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if temporary_size() > 1_000_000:
                server.stop()
                stopped.set()
                return
            time.sleep(0.001)

    try:
        with SftpTransport(settings(server, root, path="")) as transport:
            transport.list()  # connected before the watch starts
            watcher = threading.Thread(target=stop_once_the_upload_is_under_way)
            watcher.start()
            with pytest.raises(LocationError) as caught:
                transport.put(NAME, payload)
            watcher.join()
            assert stopped.is_set()
            assert caught.value.reason == "refused", str(caught.value)
            assert "the server closed the connection" in str(caught.value)
            assert not (root / NAME).exists()
            [partial] = os.listdir(root)  # the temporary the lost connection could not delete
            assert partial.startswith(TEMP_PREFIX) and (root / partial).stat().st_size < len(payload)

            server.start()  # the same transport connects again
            assert transport.list() == []
            transport.put(NAME, payload)
            assert [(remote.name, remote.size) for remote in transport.list()] == [(NAME, len(payload))]
            assert (root / NAME).read_bytes() == payload
    finally:
        server.stop()


def test_a_repeated_put_of_the_same_bytes_succeeds(server, folder):
    with SftpTransport(settings(server, folder)) as transport:
        transport.put(NAME, b"the same bytes")
        transport.put(NAME, b"the same bytes")
        assert [remote.name for remote in transport.list()] == [NAME]


def test_put_never_replaces_a_different_file(server, folder):
    (folder / NAME).write_bytes(b"another instance's backup")
    error = failure(settings(server, folder), lambda transport: transport.put(NAME, b"this backup"))
    assert error.reason == "protocol"
    assert f"a different file is already named {NAME}; nothing replaced" in str(error)
    assert (folder / NAME).read_bytes() == b"another instance's backup"
    assert os.listdir(folder) == [NAME]


def test_list_leaves_out_temporaries_and_folders(server, folder):
    (folder / f"{TEMP_PREFIX}0123456789abcdef").write_bytes(b"half an upload")
    (folder / "a-folder").mkdir()
    (folder / "a-folder" / "inside.json").write_bytes(b"{}")
    (folder / "notes.txt").write_bytes(b"12345")
    with SftpTransport(settings(server, folder)) as transport:
        assert [(remote.name, remote.size) for remote in transport.list()] == [("notes.txt", 5)]


def test_a_successful_put_sweeps_stale_temporaries_only(server, folder):
    stale, fresh = folder / f"{TEMP_PREFIX}stale", folder / f"{TEMP_PREFIX}fresh"
    stale.write_bytes(b"left by a lost connection")
    fresh.write_bytes(b"another upload in progress")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    with SftpTransport(settings(server, folder)) as transport:
        transport.put(NAME, b"{}")
    assert sorted(os.listdir(folder)) == sorted([NAME, fresh.name])


def test_get_refuses_a_file_over_the_limit(server, folder):
    (folder / NAME).write_bytes(b"x" * 1001)
    error = failure(settings(server, folder), lambda transport: transport.get(NAME, 1000))
    assert error.reason == "protocol"
    assert f"{NAME} is 1001 bytes, over the limit of 1000" in str(error)
    with SftpTransport(settings(server, folder)) as transport:
        assert transport.get(NAME, 1001) == b"x" * 1001


def test_get_of_an_absent_file_or_a_folder_is_not_found(server, folder):
    (folder / "a-folder.json").mkdir()
    absent = failure(settings(server, folder), lambda transport: transport.get(NAME, 1000))
    assert absent.reason == "not_found"
    assert (
        str(absent)
        == f"the file is not at the location: SFTP {USER}@127.0.0.1:{server.port} {folder.name}: {NAME} (file does not exist)"
    )
    assert (
        failure(settings(server, folder), lambda transport: transport.get("a-folder.json", 1000)).reason == "not_found"
    )


@pytest.mark.parametrize(
    "name", ["", ".", "..", "a/b", "../x.json", "/etc/passwd", "a\\b", "x\0y", f"{TEMP_PREFIX}x", None]
)
@pytest.mark.parametrize("action", ["put", "get", "delete"])
def test_names_that_are_not_plain_are_refused_before_connecting(name, action):
    nothing_listens = {"host": "127.0.0.1", "port": free_port(), "username": USER, "password": PASSWORD, "path": "/"}
    transport = SftpTransport(nothing_listens)
    call = {
        "put": lambda: transport.put(name, b"{}"),
        "get": lambda: transport.get(name, 10),
        "delete": lambda: transport.delete(name),
    }
    with pytest.raises(ValueError, match="not a plain backup file name"):
        call[action]()
    assert transport._transport is None


def test_check_name_accepts_backup_names():
    for name in (NAME, "vibe_backup_manual_20261129_224000.json.age", "notes.txt"):
        check_name(name)


@pytest.mark.parametrize("kind", ["absolute", "relative", "login folder"])
def test_path_is_absolute_or_relative_to_the_login_folder(server, folder, kind):
    path = {"absolute": f"/{folder.name}/", "relative": folder.name, "login folder": ""}[kind]
    with SftpTransport(settings(server, folder, path=path)) as transport:
        transport.put(NAME, b"{}")
        assert NAME in [remote.name for remote in transport.list()]
    where = folder if path else server.root
    assert (where / NAME).read_bytes() == b"{}"
    (where / NAME).unlink()


def test_probe_writes_reads_and_deletes_a_probe_file_and_shows_the_host_key(server, folder, keys):
    with SftpTransport(settings(server, folder)) as transport:
        shown = transport.probe()
    fingerprint = subprocess.run(["ssh-keygen", "-lf", str(keys["host"])], capture_output=True, text=True, check=True)
    assert shown == {
        "host_key": public_key(keys["host"]),
        "host_key_fingerprint": fingerprint.stdout.split()[1],
        "folder": f"/{folder.name}",
    }
    assert shown["host_key_fingerprint"].startswith("SHA256:")
    assert os.listdir(folder) == []


def test_every_operation_exposes_the_host_key_it_saw(server, folder, keys):
    transport = SftpTransport(settings(server, folder))
    assert transport.seen_host_key is None
    with transport:
        transport.list()
    assert transport.seen_host_key == public_key(keys["host"])
    assert transport.seen_host_key_fingerprint.startswith("SHA256:")


@pytest.mark.parametrize("pin", ["key text", "key text with comment", "fingerprint"])
def test_a_pinned_host_key_connects(server, folder, keys, pin):
    seen = SftpTransport(settings(server, folder))
    with seen:
        seen.list()
    pinned = {
        "key text": seen.seen_host_key,
        "key text with comment": keys["host"].with_suffix(".pub").read_text(),
        "fingerprint": seen.seen_host_key_fingerprint,
    }[pin]
    with SftpTransport(settings(server, folder, host_key=pinned)) as transport:
        transport.put(NAME, b"{}")
        assert [remote.name for remote in transport.list()] == [NAME]


@pytest.mark.parametrize("pin", ["other key", "other fingerprint", "garbage"])
def test_a_different_host_key_fails_before_any_credential_is_sent(tmp_path, keys, pin):
    other = keys["other_host"]
    fingerprint = subprocess.run(["ssh-keygen", "-lf", str(other)], capture_output=True, text=True, check=True)
    pinned = {
        "other key": public_key(other),
        "other fingerprint": fingerprint.stdout.split()[1],
        "garbage": "not a key",
    }[pin]
    server = sftp_server(tmp_path / "served", keys, "-vv")  # logs each login attempt
    with server:
        process = server.process
        error = failure(settings(server, tmp_path / "served", path="", host_key=pinned))
        with SftpTransport(settings(server, tmp_path / "served", path="")) as control:
            control.list()
    log = process.stderr.read().decode()
    assert error.reason == "host_key"
    assert str(error).startswith("the SSH host key does not match the pinned one: ")
    assert f"the server offered ssh-ed25519 {control.seen_host_key_fingerprint}" in str(error)
    assert "nothing was sent" in str(error)
    assert log.count("Password login attempt") == 1  # the unpinned control's, none from the mismatch
    assert not (tmp_path / "served" / NAME).exists()


@pytest.mark.parametrize("kind", ["ed25519", "rsa", "ecdsa"])
def test_private_key_login(server, folder, keys, kind):
    key_text = keys[kind].read_text()
    with SftpTransport(settings(server, folder, password="", private_key=key_text)) as transport:
        transport.put(NAME, b"{}")
        assert transport.get(NAME, 10) == b"{}"


@pytest.mark.parametrize(
    "change",
    [
        {"password": "wrong-password"},
        {"username": "nobody"},
        {"password": ""},
        "stranger key",
        "stranger key and the right password",
        "encrypted key",
        {
            "password": "",
            "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n",
        },
    ],
)
def test_refused_credentials_are_auth(server, folder, keys, tmp_path, change):
    if change == "stranger key":
        change = {"password": "", "private_key": keys["stranger"].read_text()}
    elif change == "stranger key and the right password":  # the key is what is used when there is one
        change = {"private_key": keys["stranger"].read_text()}
    elif change == "encrypted key":
        locked = tmp_path / "locked"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "a passphrase", "-f", str(locked)], check=True)
        change = {"password": "", "private_key": locked.read_text()}
    error = failure(settings(server, folder, **change))
    assert error.reason == "auth"
    assert str(error).startswith(
        f"the credentials were refused: SFTP {change.get('username', USER)}@127.0.0.1:{server.port} {folder.name}"
    )


def test_nothing_listening_is_refused(folder):
    error = failure({"host": "127.0.0.1", "port": free_port(), "username": USER, "password": PASSWORD, "path": "x"})
    assert error.reason == "refused"


def test_an_unresolvable_host_is_dns():
    error = failure({"host": "no-such-host.invalid", "username": USER, "password": PASSWORD, "path": "/backups"})
    assert error.reason == "dns"
    assert f"SFTP {USER}@no-such-host.invalid:22 /backups" in str(error)


def test_a_server_that_never_answers_is_a_timeout():
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and says nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        started = time.monotonic()
        error = failure({"host": "127.0.0.1", "port": port, "username": USER, "password": PASSWORD}, timeout=1)
    assert error.reason == "timeout"
    assert time.monotonic() - started < 5
    assert f"SFTP {USER}@127.0.0.1:{port} (login folder): no SSH handshake within 1 s" in str(error)


def test_a_server_that_is_not_ssh_is_protocol():
    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        error = failure({"host": "127.0.0.1", "port": web.server_address[1], "username": USER, "password": PASSWORD})
    finally:
        web.shutdown()
        web.server_close()
    assert error.reason == "protocol"
    assert "Error reading SSH protocol banner" in str(error)


def test_a_missing_folder_or_a_file_for_a_folder_is_missing(server, folder):
    (folder / "a-file").write_bytes(b"")
    assert failure(settings(server, folder, path=f"{folder.name}/absent")).reason == "missing"
    not_a_folder = failure(settings(server, folder, path=f"{folder.name}/a-file"))
    assert (not_a_folder.reason, str(not_a_folder).endswith("(not a folder)")) == ("missing", True)


def test_a_read_only_location_is_permission_and_keeps_nothing(tmp_path, keys):
    root = tmp_path / "served"
    root.mkdir()
    (root / "old.json").write_bytes(b"{}")
    with sftp_server(root, keys, "--read-only") as server:
        for action in (lambda transport: transport.put(NAME, b"{}"), lambda transport: transport.probe()):
            error = failure(settings(server, root, path=""), action)
            assert error.reason == "permission"
            assert "Read only file system" in str(error)
        deleting = failure(settings(server, root, path=""), lambda transport: transport.delete("old.json"))
        assert deleting.reason == "permission"
    assert os.listdir(root) == ["old.json"]


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs mounted for this test, unmounted after it."""
    with mounted_small_disk(tmp_path, size="1m") as point:
        yield point


def test_a_full_location_is_never_reported_as_a_stored_copy(small_disk, keys):
    """rclone removes the partial file and answers the close without an error: only the size check sees it."""
    with sftp_server(small_disk, keys) as server, SftpTransport(settings(server, small_disk, path="")) as transport:
        with pytest.raises(LocationError) as caught:
            transport.put(NAME, os.urandom(3_000_000))
        assert caught.value.reason == "protocol"
        assert "the upload arrived as None of 3000000 bytes (is the location full?)" in str(caught.value)
        assert transport.list() == []
    assert os.listdir(small_disk) == []


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (OSError("No space left on device"), "full"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "full"),
        (OSError("Failure"), "protocol"),  # OpenSSH's answer to a full disk or a read-only one: nothing more said
        (OSError(errno.EROFS, "Read-only file system"), "permission"),
        (PermissionError(errno.EACCES, "Permission denied"), "permission"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "refused"),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "refused"),
        (EOFError(), "refused"),
        (paramiko.BadAuthenticationType("Bad authentication type", ["publickey"]), "auth"),
        (paramiko.SSHException("Incompatible ssh peer (no acceptable host key)"), "protocol"),
    ],
)
def test_classify_the_failures_the_test_server_cannot_make(exc, reason):
    assert classify(exc, "SFTP backup@nas:22 /backups").reason == reason

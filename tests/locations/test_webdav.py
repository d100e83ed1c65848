"""WebDAV locations against a real ``rclone serve webdav`` on 127.0.0.1 (SPEC §14): the round trip, atomic
puts when the server goes away, each failure reason that can be provoked, pinned self-signed TLS."""

import datetime as dt
import hashlib
import http.server
import os
import signal
import socket
import threading
import time

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from webdav4.client import HTTPError, InsufficientStorage

from vibenvr.backups.locations import webdav
from vibenvr.backups.locations.transport import REASONS, TEMP_PREFIX, LocationError
from vibenvr.backups.locations.webdav import WebdavTransport, classify, normalize_fingerprint

from support.rclone import PASSWORD, USER, RcloneServer, free_port

NAME = "vibe_backup_auto_20261129_224000.json"


@pytest.fixture
def root(tmp_path):
    (tmp_path / "served" / "backups").mkdir(parents=True)
    return tmp_path / "served"


@pytest.fixture
def server(root):
    with RcloneServer("webdav", root) as running:
        yield running


def settings_for(server, folder="backups", **changes):
    scheme = "https" if "--cert" in server.extra else "http"
    return {"url": f"{scheme}://{server.address}/{folder}", "username": USER, "password": PASSWORD, **changes}


@pytest.fixture
def location(server):
    with WebdavTransport(settings_for(server)) as transport:
        yield transport


def failure(reason, call, *args):
    """The LocationError of ``call(*args)``, checked for its reason and for holding no password."""
    with pytest.raises(LocationError) as caught:
        call(*args)
    assert caught.value.reason == reason, str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert str(caught.value).startswith(REASONS[reason])
    return caught.value


def test_put_list_get_delete_round_trip(location, root):
    data = os.urandom(5_700_000)
    location.put(NAME, data)
    [listed] = location.list()
    assert (listed.name, listed.size) == (NAME, len(data))
    assert abs(listed.modified - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    got = location.get(NAME, len(data))
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()
    assert sorted(p.name for p in (root / "backups").iterdir()) == [NAME]
    location.delete(NAME)
    assert location.list() == []
    assert list((root / "backups").iterdir()) == []
    location.delete(NAME)  # absent already is not an error


def test_list_shows_only_plain_files_directly_in_the_folder(location, root):
    folder = root / "backups"
    (folder / NAME).write_bytes(b"{}")
    (folder / f"{TEMP_PREFIX}0123-{NAME}").write_bytes(b"partial")
    (folder / "older").mkdir()
    (folder / "older" / "vibe_backup_manual_20250101_000000.json").write_bytes(b"{}")
    assert [(f.name, f.size) for f in location.list()] == [(NAME, 2)]


def _kill(server):
    """The server dies at once (a crash, a power cut) instead of finishing the requests it has."""
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()
    server.process = None


@pytest.mark.parametrize("stop", [RcloneServer.stop, _kill], ids=["stopped", "killed"])
def test_put_leaves_nothing_under_the_name_when_the_server_goes_away_mid_upload(location, server, root, stop):
    """Stopped, rclone finishes the PUT in progress and the rename is refused; killed, the PUT breaks off."""
    folder = root / "backups"
    gone = threading.Event()

    def stop_once_the_upload_runs():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(folder.iterdir()):
            time.sleep(0.002)
        stop(server)
        gone.set()

    stopper = threading.Thread(target=stop_once_the_upload_runs)
    stopper.start()
    error = failure("refused", location.put, NAME, os.urandom(50 * 2**20))
    stopper.join()
    assert gone.is_set()
    assert f"(put {NAME})" in str(error)
    assert not (folder / NAME).exists()
    assert all(p.name.startswith(TEMP_PREFIX) for p in folder.iterdir())  # the temporary file could not be removed
    server.start()
    assert location.list() == []
    location.put(NAME, b"{}")
    assert [f.name for f in location.list()] == [NAME]
    assert (folder / NAME).read_bytes() == b"{}"


def test_put_of_a_name_already_there_accepts_the_same_bytes_and_refuses_others(location, root):
    location.put(NAME, b'{"a": 1}')
    location.put(NAME, b'{"a": 1}')
    failure("protocol", location.put, NAME, b'{"a": 2}')
    assert (root / "backups" / NAME).read_bytes() == b'{"a": 1}'
    assert sorted(p.name for p in (root / "backups").iterdir()) == [NAME]  # both temporary files removed


def test_get_refuses_more_than_the_limit(location):
    location.put(NAME, b"x" * 1000)
    error = failure("protocol", location.get, NAME, 999)
    assert "larger than 999 bytes" in str(error)
    assert location.get(NAME, 1000) == b"x" * 1000


def test_get_of_an_absent_file_is_not_found(location):
    failure("not_found", location.get, NAME, 100)


def test_delete_leaves_a_folder_of_that_name_alone(location, root):
    (root / "backups" / NAME).mkdir()
    (root / "backups" / NAME / "inside").write_bytes(b"keep")
    failure("not_found", location.delete, NAME)
    assert (root / "backups" / NAME / "inside").read_bytes() == b"keep"


def test_probe_writes_reads_and_deletes_its_file(location, root):
    assert location.probe() == {}
    assert list((root / "backups").iterdir()) == []


def test_wrong_password_is_auth(server):
    with WebdavTransport(settings_for(server, password="wrong-password")) as transport:
        for call, args in ((transport.list, ()), (transport.put, (NAME, b"{}")), (transport.probe, ())):
            failure("auth", call, *args)


def test_missing_folder_is_missing(server, root):
    with WebdavTransport(settings_for(server, folder="nope")) as transport:
        failure("missing", transport.list)
        failure("missing", transport.put, NAME, b"{}")
        failure("missing", transport.get, NAME, 100)
        failure("missing", transport.probe)
    assert not (root / "nope").exists()


def test_a_url_of_a_file_is_missing(server, root):
    (root / "backups" / NAME).write_bytes(b"{}")
    with WebdavTransport(settings_for(server, folder=f"backups/{NAME}")) as transport:
        failure("missing", transport.list)


def test_read_only_server_is_permission(root):
    (root / "backups" / NAME).write_bytes(b"{}")
    with RcloneServer("webdav", root, extra=["--read-only"]) as server, WebdavTransport(settings_for(server)) as t:
        failure("permission", t.put, "vibe_backup_manual_20261130_080000.json", b"{}")
        failure("permission", t.delete, NAME)
        failure("permission", t.probe)
        assert [f.name for f in t.list()] == [NAME]
    assert sorted(p.name for p in (root / "backups").iterdir()) == [NAME]


def test_nothing_listening_is_refused():
    with WebdavTransport({"url": f"http://127.0.0.1:{free_port()}/backups"}) as transport:
        error = failure("refused", transport.list)
    assert "WebDAV 127.0.0.1:" in str(error)


def test_unresolvable_host_is_dns():
    with WebdavTransport({"url": "https://no-such-host.invalid/dav", "username": "anna", "password": PASSWORD}) as t:
        error = failure("dns", t.probe)
    assert "WebDAV anna@no-such-host.invalid:443 /dav" in str(error)


def test_a_server_that_never_answers_is_timeout(monkeypatch):
    monkeypatch.setattr(webdav, "TIMEOUT", 0.3)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # connections are accepted by the kernel, never answered
        port = silent.getsockname()[1]
        with WebdavTransport({"url": f"http://127.0.0.1:{port}/backups"}) as transport:
            failure("timeout", transport.list)


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every request with ``answer(handler)``; remembers the requests it saw."""

    def log_message(self, *args):
        pass

    def _any(self):
        self.server.seen.append((self.command, self.path, self.headers.get("Authorization")))
        status, headers = self.server.answer
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_PROPFIND = do_MOVE = do_DELETE = do_OPTIONS = _any


@pytest.fixture
def http_servers():
    made = []

    def make(status, headers=None):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        server.seen, server.answer = [], (status, headers or {})
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        made.append(server)
        return server

    yield make
    for server in made:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [301, 307, 308])
def test_redirects_to_another_server_are_not_followed(http_servers, status):
    other = http_servers(200)
    first = http_servers(status, {"Location": f"http://127.0.0.1:{other.server_address[1]}/backups/"})
    url = f"http://127.0.0.1:{first.server_address[1]}/backups"
    with WebdavTransport({"url": url, "username": USER, "password": PASSWORD}) as transport:
        failure("protocol", transport.list)
        failure("protocol", transport.get, NAME, 100)
        failure("protocol", transport.put, NAME, b"{}")
    assert first.seen and other.seen == []


@pytest.mark.parametrize("status", [200, 405, 501])
def test_a_server_that_is_not_webdav_is_protocol(http_servers, status):
    plain = http_servers(status)
    with WebdavTransport({"url": f"http://127.0.0.1:{plain.server_address[1]}/backups"}) as transport:
        failure("protocol", transport.list)


# -- TLS ------------------------------------------------------------------------------------------------


@pytest.fixture
def tls_server(root, tmp_path):
    """``rclone serve webdav`` over https with a self-signed certificate for a name that is not 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nas.local")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("nas.local")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    with RcloneServer("webdav", root, extra=["--cert", str(cert_file), "--key", str(key_file)]) as server:
        server.fingerprint = certificate.fingerprint(hashes.SHA256()).hex(":").upper()
        yield server


def test_a_self_signed_certificate_without_a_pin_is_tls(tls_server):
    with WebdavTransport(settings_for(tls_server)) as transport:
        error = failure("tls", transport.probe)
    assert "self-signed certificate" in str(error)


def test_the_pinned_self_signed_certificate_is_accepted(tls_server, root):
    with WebdavTransport(settings_for(tls_server, tls_fingerprint=tls_server.fingerprint)) as transport:
        assert transport.probe() == {"tls_fingerprint": tls_server.fingerprint}
        transport.put(NAME, b"{}")
        assert transport.get(NAME, 2) == b"{}"
    bare = tls_server.fingerprint.replace(":", "").lower()
    with WebdavTransport(settings_for(tls_server, tls_fingerprint=bare)) as transport:
        assert [f.name for f in transport.list()] == [NAME]


def test_another_pinned_certificate_is_tls(tls_server):
    other = "AB:" * 31 + "AB"
    with WebdavTransport(settings_for(tls_server, tls_fingerprint=other)) as transport:
        error = failure("tls", transport.list)
    assert f"the server shows {tls_server.fingerprint}, not the pinned certificate" in str(error)


# -- what needs no server ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["", ".", "..", "a/b", "../" + NAME, "/" + NAME, "a\\b", "a\x00b", "a\nb", TEMP_PREFIX + NAME, None]
)
def test_names_other_than_plain_file_names_are_refused_before_any_request(name):
    transport = WebdavTransport({"url": "http://no-such-host.invalid/backups"})
    for call, args in ((transport.put, (name, b"{}")), (transport.get, (name, 10)), (transport.delete, (name,))):
        with pytest.raises(ValueError, match="is not a plain file name|is a temporary name"):
            call(*args)
    assert transport._client is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"url": "ftp://nas.local/backups"}, "http:// or https://"),
        ({"url": ""}, "http:// or https://"),
        ({"url": "http://nas.local:port/backups"}, "http:// or https://"),
        ({"url": "nas.local/backups"}, "http:// or https://"),
        ({"url": "http://nas.local:99999/backups"}, "http:// or https://"),
        ({"url": "https://anna:secret@cloud.example.com/dav"}, "must not hold a user name or password"),
        ({"url": "https://nas.local/dav", "tls_fingerprint": "AB:CD"}, "not a SHA-256 fingerprint"),
    ],
)
def test_unusable_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        WebdavTransport(settings)


@pytest.mark.parametrize(
    "text", [" AB:cd:" + "00:" * 29 + "FF ", "SHA256:AB:CD:" + "00:" * 29 + "FF", "abcd" + "00" * 29 + "ff"]
)
def test_fingerprints_are_read_with_or_without_colons_and_prefix(text):
    assert normalize_fingerprint(text) == "abcd" + "00" * 29 + "ff"


def test_a_pin_on_a_plain_http_url_fails_as_tls_before_any_request():
    with WebdavTransport({"url": "http://no-such-host.invalid/dav", "tls_fingerprint": "ab" * 32}) as transport:
        error = failure("tls", transport.list)
    assert "a tls_fingerprint is set, but the url is http://" in str(error)


def _answered(status):
    return HTTPError(httpx.Response(status, request=httpx.Request("MOVE", "http://nas.local/backups/x")))


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (InsufficientStorage("x"), "full"),  # a quota that rclone cannot be given
        (_answered(507), "full"),
        (_answered(403), "permission"),
        (_answered(401), "auth"),
        (_answered(500), "protocol"),
        (httpx.ReadError("connection reset"), "refused"),
    ],
)
def test_classify_answers_that_rclone_cannot_be_made_to_give(exc, reason):
    error = classify(exc, "WebDAV nas.local:443 /backups (put x)")
    assert error.reason == reason
    assert "WebDAV nas.local:443 /backups (put x)" in error.detail

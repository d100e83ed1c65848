"""S3 locations against a real ``rclone serve s3`` on 127.0.0.1: round trip, atomic puts when the server dies
mid-upload, what is listed, the size limit of get, names refused, each failure reason that can be provoked
for real (the answers rclone never gives — AccessDenied, 507, quotas — are a table of botocore errors), TLS
with a pinned self-signed certificate, and the probe."""

import datetime as dt
import hashlib
import ipaddress
import os
import signal
import socket
import subprocess
import threading
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from vibenvr.backups.locations import schema
from vibenvr.backups.locations.s3 import S3Transport, normalise_prefix
from vibenvr.backups.locations.s3_errors import classify
from vibenvr.backups.locations.tls import normalise_fingerprint
from vibenvr.backups.locations.transport import TEMP_PREFIX, LocationError, RemoteFile

from support.rclone import ACCESS_KEY, SECRET_KEY, RcloneServer, free_port

BUCKET = "backups"
NAME = "vibe_backup_auto_20261129_224000.json"


def settings(address, **changes):
    return {
        "endpoint_url": f"http://{address}",
        "region": "",
        "bucket": BUCKET,
        "prefix": "",
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
        **changes,
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One server for the tests that leave it running; its root holds the bucket folder."""
    root = tmp_path_factory.mktemp("s3-root")
    (root / BUCKET).mkdir()
    with RcloneServer("s3", root) as server:
        yield server


@pytest.fixture
def prefix(request):
    return f"{request.node.name.replace('[', '-').rstrip(']')}/in/"


@pytest.fixture
def folder(served, prefix):
    """The served folder behind the test's prefix, as rclone stores it on disk."""
    path = served.root / BUCKET / prefix
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def s3(served, prefix, folder):
    with S3Transport(settings(served.address, prefix=prefix)) as transport:
        yield transport


def raw_client(server):
    return boto3.client(
        "s3",
        endpoint_url=f"http://{server.address}",
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(s3={"addressing_style": "path"}),
    )


def kill(server):
    """The server dies (SIGKILL, no graceful end of the requests in flight) and leaves its port free."""
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()
    server.process = None


def test_round_trip_of_a_large_backup(s3, folder):
    data = os.urandom(5_700_000)
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    s3.put(NAME, data)
    assert (folder / NAME).read_bytes() == data
    [listed] = s3.list()
    assert isinstance(listed, RemoteFile)
    assert (listed.name, listed.size) == (NAME, len(data))
    assert before <= listed.modified <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    assert hashlib.sha256(s3.get(NAME, len(data))).hexdigest() == hashlib.sha256(data).hexdigest()
    s3.delete(NAME)
    assert s3.list() == []
    assert not (folder / NAME).exists()
    s3.delete(NAME)  # absent already: not an error


def test_list_shows_only_plain_files_directly_under_the_prefix(served, s3, prefix):
    other = raw_client(served)  # another S3 client puts what a person or another program could
    for key in ("a.json", f"{TEMP_PREFIX}x.json", "sub/deeper.json", "back\\slash.json"):
        other.put_object(Bucket=BUCKET, Key=prefix + key, Body=b"{}")
    other.put_object(Bucket=BUCKET, Key=prefix.removesuffix("in/") + "outside.json", Body=b"{}")
    assert [file.name for file in s3.list()] == ["a.json"]


def test_prefix_may_be_empty(served, folder):
    with S3Transport(settings(served.address, prefix="")) as s3:
        s3.put("top-level.json", b"{}")
        assert "top-level.json" in [file.name for file in s3.list()]
        assert (served.root / BUCKET / "top-level.json").read_bytes() == b"{}"
        s3.delete("top-level.json")


def test_put_again_with_the_same_bytes_is_quiet_and_other_bytes_are_refused(s3, folder):
    s3.put(NAME, b'{"a": 1}')
    s3.put(NAME, b'{"a": 1}')
    with pytest.raises(LocationError) as caught:
        s3.put(NAME, b'{"a": 2}')
    assert caught.value.reason == "protocol"
    assert f"{NAME} exists there already with other contents" in str(caught.value)
    assert (folder / NAME).read_bytes() == b'{"a": 1}'


def test_get_refuses_more_than_the_limit(s3):
    s3.put(NAME, b"x" * 1000)
    assert s3.get(NAME, 1000) == b"x" * 1000
    with pytest.raises(LocationError) as caught:
        s3.get(NAME, 999)
    assert caught.value.reason == "protocol"
    assert f"{NAME} is larger than the 999 bytes allowed" in str(caught.value)


def test_get_of_an_absent_file_is_not_found(s3):
    with pytest.raises(LocationError) as caught:
        s3.get(NAME, 1000)
    assert caught.value.reason == "not_found"
    assert NAME in str(caught.value)


@pytest.mark.parametrize(
    "name", ["", ".", "..", "a/b", "../x.json", "a\\b", "x\x00y", "tab\there", "del\x7f", None, f"{TEMP_PREFIX}x.json"]
)
def test_names_other_than_plain_file_names_are_refused_before_any_network_call(name):
    s3 = S3Transport(settings(f"127.0.0.1:{free_port()}"))  # nothing listens: a call would be "refused"
    for call in (lambda: s3.put(name, b"{}"), lambda: s3.get(name, 10), lambda: s3.delete(name)):
        with pytest.raises(ValueError, match="is not a plain file name|is a temporary name"):
            call()


@pytest.mark.parametrize(
    ("typed", "prefix"),
    [
        ("", ""),
        (None, ""),
        ("/", ""),
        ("x", "x/"),
        ("/x/y/", "x/y/"),
        (" nvr/main ", "nvr/main/"),
        ("nvr/./a", "nvr/./a/"),
    ],
)
def test_prefix_is_normalised(typed, prefix):
    assert normalise_prefix(typed) == prefix


def test_prefix_is_stored_and_used_alike():
    for typed in ("", "/x/y/", "x", "nvr/./a", "a b/c"):
        assert normalise_prefix(typed) == schema.prefix(typed, "prefix")


@pytest.mark.parametrize("typed", ["..", "x/../y", "../x", "x\\y"])
def test_prefix_with_dot_dot_parts_or_backslashes_is_refused(typed):
    with pytest.raises(ValueError, match="prefix"):
        normalise_prefix(typed)


def test_settings_without_a_bucket_or_with_half_the_credentials_are_refused():
    with pytest.raises(ValueError, match="bucket"):
        S3Transport(settings("127.0.0.1:9", bucket=" "))
    with pytest.raises(ValueError, match="give both"):
        S3Transport(settings("127.0.0.1:9", secret_access_key=""))
    with pytest.raises(ValueError, match="tls_fingerprint"):
        S3Transport(settings("127.0.0.1:9", tls_fingerprint="AB:CD"))


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("127.0.0.1:9000", "not an http:// or https:// URL"),
        ("ftp://nas.local", "not an http:// or https:// URL"),
        ("http://", "not an http:// or https:// URL"),
        ("http://nas.local:port", "not an http:// or https:// URL"),
        ("https://key:hunter2-pass@nas.local", "no user name or password in the URL"),
        ("ftp://key:hunter2-pass@nas.local", "not an http:// or https:// URL"),
    ],
)
def test_endpoint_urls_that_are_not_a_server_are_refused(url, said):
    with pytest.raises(ValueError, match=f"endpoint_url: {said}") as caught:
        S3Transport(settings("127.0.0.1:9", endpoint_url=url))
    assert "hunter2-pass" not in str(caught.value)


def test_fingerprint_is_normalised():
    hexa = "89aa4cb8bd8649d2e63d9ec0ffb940c3ba29a8f4fb4a6fcaeb4cc12240af2f47"
    shown = ":".join(hexa[i : i + 2] for i in range(0, 64, 2)).upper()
    assert normalise_fingerprint(hexa) == shown
    assert normalise_fingerprint(f"SHA256: {shown.lower()}") == shown
    assert normalise_fingerprint("") == ""
    for stored in (hexa, f"SHA256:{shown}", shown.lower()):  # every form the location schema accepts
        assert normalise_fingerprint(schema.fingerprint(stored, "tls_fingerprint")) == shown


def _reason_of(call):
    with pytest.raises(LocationError) as caught:
        call()
    assert SECRET_KEY not in str(caught.value)
    return caught.value.reason, str(caught.value)


@pytest.mark.parametrize(
    ("changes", "reason", "said"),
    [
        ({"secret_access_key": "wrong-secret-value"}, "auth", "SignatureDoesNotMatch"),
        ({"access_key_id": "NOSUCHKEY"}, "auth", "InvalidAccessKeyId"),
        ({"bucket": "no-such-bucket"}, "missing", "NoSuchBucket"),
    ],
)
def test_answers_of_the_store_become_reasons(served, changes, reason, said):
    with S3Transport(settings(served.address, **changes)) as s3:
        for call in (s3.list, lambda: s3.put(NAME, b"{}"), lambda: s3.get(NAME, 10), s3.probe):
            got, text = _reason_of(call)
            assert got == reason
            assert said in text
            assert "wrong-secret-value" not in text
    assert not (served.root / BUCKET / NAME).exists()


def test_a_port_with_nothing_listening_is_refused():
    with S3Transport(settings(f"127.0.0.1:{free_port()}")) as s3:
        reason, text = _reason_of(s3.list)
    assert reason == "refused"
    assert text.startswith("the connection was refused: S3 bucket 'backups' at http://127.0.0.1:")


def test_a_host_name_that_does_not_resolve_is_dns():
    with S3Transport(settings("no-such-host.invalid:9000")) as s3:
        reason, text = _reason_of(s3.list)
    assert reason == "dns"
    assert "at http://no-such-host.invalid:9000" in text


def test_a_server_that_never_answers_is_a_timeout():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the backlog; nothing is ever read or written
        started = time.monotonic()
        with S3Transport(settings(f"127.0.0.1:{silent.getsockname()[1]}"), timeout=0.5) as s3:
            reason, _ = _reason_of(s3.list)
    assert reason == "timeout"
    assert time.monotonic() - started < 10


def test_server_stopped_then_started_again(tmp_path):
    (tmp_path / BUCKET).mkdir()
    server = RcloneServer("s3", tmp_path).start()
    try:
        with S3Transport(settings(server.address)) as s3:
            s3.put("a.json", b"{}")
            server.stop()
            assert _reason_of(s3.list)[0] == "refused"
            server.start()
            assert [file.name for file in s3.list()] == ["a.json"]  # the same transport connects again
    finally:
        server.stop()


def test_a_server_killed_mid_upload_leaves_nothing_under_the_name(tmp_path):
    bucket = tmp_path / BUCKET
    bucket.mkdir()
    server = RcloneServer("s3", tmp_path).start()
    data = os.urandom(50 * 1024 * 1024)
    killed = threading.Event()

    def kill_once_the_upload_is_under_way():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if any(path.stat().st_size > 1024 * 1024 for path in bucket.iterdir()):
                kill(server)
                killed.set()
                return
            time.sleep(0.001)

    try:
        with S3Transport(settings(server.address)) as s3:
            killer = threading.Thread(target=kill_once_the_upload_is_under_way)
            killer.start()
            with pytest.raises(LocationError) as caught:
                s3.put(NAME, data)
            killer.join()
            assert killed.is_set()
            assert caught.value.reason == "refused"
            assert not (bucket / NAME).exists()
            server.start()
            assert s3.list() == []  # rclone's own temporary file is not listed
            s3.put(NAME, data)
            assert [(file.name, file.size) for file in s3.list()] == [(NAME, len(data))]
    finally:
        server.stop()


def test_a_full_store_keeps_nothing_of_the_put(tmp_path):
    """rclone answers a full disk with a plain 500 InternalError (no 507), hence "protocol"; nothing is left."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        (disk / BUCKET).mkdir()
        with RcloneServer("s3", disk) as server, S3Transport(settings(server.address)) as s3:
            reason, text = _reason_of(lambda: s3.put(NAME, os.urandom(2 * 1024 * 1024)))
            assert (reason, "InternalError" in text) == ("protocol", True)
            assert s3.list() == []
            assert list((disk / BUCKET).iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=True)


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("AccessDenied", 403, "permission"),
        ("403", 403, "permission"),
        ("InvalidAccessKeyId", 403, "auth"),
        ("ExpiredToken", 400, "auth"),
        ("QuotaExceeded", 403, "full"),
        ("EntityTooLarge", 400, "full"),
        ("XMinioStorageFull", 507, "full"),
        ("InsufficientStorage", 507, "full"),
        ("NoSuchBucket", 404, "missing"),
        ("NoSuchKey", 404, "not_found"),
        ("404", 404, "not_found"),
        ("RequestTimeout", 400, "timeout"),
        ("InternalError", 500, "protocol"),
        ("BadDigest", 400, "protocol"),
    ],
)
def test_answers_rclone_never_gives_are_classified(code, status, reason):
    error = ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject")
    assert classify(error) == reason


def test_probe_writes_reads_and_deletes_its_file(served, s3):
    shown = s3.probe()
    assert shown == {"server": "AmazonS3", "checksum_sha256": False}  # rclone does not confirm SHA-256s
    assert list(served.root.rglob("*probe-*")) == []


def test_a_read_only_store_fails_the_probe(tmp_path):
    (tmp_path / BUCKET).mkdir()
    with RcloneServer("s3", tmp_path, extra=["--read-only"]) as server, S3Transport(settings(server.address)) as s3:
        reason, text = _reason_of(s3.probe)
    assert (reason, "InternalError" in text) == ("protocol", True)  # rclone says 500, not 403
    assert list((tmp_path / BUCKET).iterdir()) == []


def _self_signed(folder, name, san):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vibenvr-test-s3")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([san]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (folder / f"{name}.key").write_bytes(private)
    return ["--cert", str(folder / f"{name}.pem"), "--key", str(folder / f"{name}.key")], cert


@pytest.fixture(scope="module")
def tls_served(tmp_path_factory):
    """A server with a self-signed certificate for 127.0.0.1, and that certificate's fingerprint."""
    folder = tmp_path_factory.mktemp("s3-tls")
    (folder / "root" / BUCKET).mkdir(parents=True)
    flags, cert = _self_signed(folder, "server", x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    with RcloneServer("s3", folder / "root", extra=flags) as server:
        yield server, normalise_fingerprint(cert.fingerprint(hashes.SHA256()).hex())


def test_a_self_signed_certificate_is_refused_and_its_fingerprint_shown(tls_served):
    server, fingerprint = tls_served
    with S3Transport(settings(server.address, endpoint_url=f"https://{server.address}")) as s3:
        reason, text = _reason_of(s3.list)
    assert reason == "tls"
    assert "self-signed certificate" in text
    assert f"the server's certificate is SHA-256 {fingerprint}: set it as tls_fingerprint to accept it" in text


def test_a_pinned_self_signed_certificate_is_accepted(tls_served):
    server, fingerprint = tls_served
    pinned = settings(server.address, endpoint_url=f"https://{server.address}", tls_fingerprint=fingerprint)
    with S3Transport(pinned) as s3:
        s3.put(NAME, b'{"tls": true}')
        assert s3.get(NAME, 100) == b'{"tls": true}'
        assert s3.probe()["tls_fingerprint"] == fingerprint
        s3.delete(NAME)
        ca_file = s3._ca_file
        assert os.path.exists(ca_file)
    assert not os.path.exists(ca_file)  # close() removes the temporary CA file


def test_a_certificate_other_than_the_pinned_one_is_refused(tls_served):
    server, fingerprint = tls_served
    other = "00:" + fingerprint[3:]
    pinned = settings(server.address, endpoint_url=f"https://{server.address}", tls_fingerprint=other)
    with S3Transport(pinned) as s3:
        reason, text = _reason_of(s3.list)
    assert reason == "tls"
    assert f"the server's certificate is {fingerprint}, not the pinned {other}" in text


def test_a_pinned_certificate_must_still_name_the_host(tls_served):
    server, fingerprint = tls_served
    url = f"https://localhost:{server.port}"  # the certificate names 127.0.0.1 only
    with S3Transport(settings(server.address, endpoint_url=url, tls_fingerprint=fingerprint)) as s3:
        reason, text = _reason_of(s3.list)
    assert reason == "tls"
    assert "doesn't match" in text


def test_https_to_a_plain_http_server_is_tls(served):
    with S3Transport(settings(served.address, endpoint_url=f"https://{served.address}")) as s3:
        reason, _ = _reason_of(s3.list)
    assert reason == "tls"


def test_a_fingerprint_for_a_plain_http_endpoint_is_refused(served):
    pin = "AB" * 32
    with S3Transport(settings(served.address, tls_fingerprint=pin)) as s3:
        reason, text = _reason_of(s3.list)
    assert reason == "tls"
    assert "tls_fingerprint is set but the endpoint URL is not https://" in text

"""S3 locations (SPEC §14): any S3-compatible store (AWS, MinIO, rclone serve s3, …) through boto3.

A backup is one object ``<prefix><name>`` in ``bucket``, written with a single ``PutObject``: S3 applies a
PUT whole or not at all, so no temporary name is needed. The SHA-256 goes with it (``ChecksumSHA256``) for
stores that check it. Path-style addressing (``endpoint/bucket/key``) works with every S3-compatible
server. A self-signed server certificate is accepted only when its SHA-256 fingerprint is pinned in
``tls_fingerprint``: that one certificate becomes the only trusted CA for the connection.
"""

import base64
import contextlib
import hashlib
import secrets
import threading
from urllib.parse import urlsplit

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from . import tls
from .folder import plain_name
from .s3_errors import classify, describe, status
from .transport import TEMP_PREFIX, TIMEOUT, LocationError, RemoteFile, Transport

DEFAULT_REGION = "us-east-1"
CHUNK = 1024 * 1024  # bytes read at a time by get
#: Answers of a store that does not take the ``x-amz-checksum-sha256`` header: put retries without it.
CHECKSUM_REFUSED_CODES = {"NotImplemented", "InvalidArgument", "InvalidRequest"}


def normalise_prefix(text):
    """``""`` or ``"x/y/"`` from what a person typed (``"/x/y"``), as ``schema.prefix`` stores it; ValueError
    for ``..`` parts and backslashes, which the schema refuses too."""
    value = (text or "").strip().strip("/")
    if ".." in value.split("/") or "\\" in value:
        raise ValueError(f"prefix: a folder path with / separators and no '..': {text!r}")
    return f"{value}/" if value else ""


def check_name(name):
    """Refuse what the folder kind refuses (folders, ``..``, temporary names) and control characters, before
    the name goes near the store."""
    plain_name(name)
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError(f"{name!r} is not a plain file name")
    return name


def _check_endpoint(url):
    """An http:// or https:// URL with a host (empty means AWS), and no credentials in it."""
    if not url:
        return
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - a port that is not a number raises ValueError here
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("endpoint_url: not an http:// or https:// URL of a server")
    if parts.username or parts.password:
        raise ValueError("endpoint_url: no user name or password in the URL (access_key_id and secret_access_key)")


def _is_plain(name):
    try:
        check_name(name)
    except ValueError:
        return False
    return True


class S3Transport(Transport):
    """One bucket and prefix of an S3-compatible store; the boto3 client is made on first use, kept until close."""

    kind = "s3"

    def __init__(self, settings, *, timeout=TIMEOUT):
        super().__init__(settings)
        self.timeout = timeout
        self.endpoint_url = (settings.get("endpoint_url") or "").strip().rstrip("/")
        self.region = (settings.get("region") or "").strip() or DEFAULT_REGION
        self.bucket = (settings.get("bucket") or "").strip()
        self.prefix = normalise_prefix(settings.get("prefix"))
        self.fingerprint = tls.normalise_fingerprint(settings.get("tls_fingerprint"))
        self._key_id = (settings.get("access_key_id") or "").strip()
        self._secret = settings.get("secret_access_key") or ""
        _check_endpoint(self.endpoint_url)
        if not self.bucket:
            raise ValueError("bucket: required")
        if bool(self._key_id) != bool(self._secret):
            raise ValueError("access_key_id and secret_access_key: give both, or neither for anonymous access")
        self._client = None
        self._ca_file = None
        self._lock = threading.Lock()
        self._send_checksum = True

    @property
    def where(self):
        """The location for messages: bucket, prefix and endpoint (scheme, host and port only)."""
        if self.endpoint_url:
            url = urlsplit(self.endpoint_url)
            server = f"{url.scheme}://{url.hostname}" + (f":{url.port}" if url.port else "")
        else:
            server = f"AWS {self.region}"
        return f"S3 bucket '{self.bucket}'" + (f" prefix '{self.prefix}'" if self.prefix else "") + f" at {server}"

    def put(self, name, data):
        key = self.prefix + check_name(name)
        with self._errors(name):
            existing = self._head(key)
            if existing is not None:
                if _holds(existing, data):
                    return
                raise LocationError("protocol", f"{self.where}: {name} exists there already with other contents")
            self._put_object(key, data)

    def get(self, name, limit):
        key = self.prefix + check_name(name)
        with self._errors(name):
            return self._get(key, name, limit)

    def list(self):
        files = []
        with self._errors():
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix, Delimiter="/"
            )
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"][len(self.prefix) :]
                    if _is_plain(name):  # temporary names too are left out
                        files.append(RemoteFile(name, item["Size"], item.get("LastModified")))
        return files

    def delete(self, name):
        key = self.prefix + check_name(name)
        with self._errors(name):
            self._delete(key)

    def probe(self):
        name = f"{TEMP_PREFIX}probe-{secrets.token_hex(8)}"
        key, payload = self.prefix + name, f"VibeNVR location probe {name}\n".encode()
        with self._errors(name):
            answer = self._put_object(key, payload)
            try:
                back = self._get(key, name, len(payload))
            except BaseException:
                with contextlib.suppress(Exception):
                    self._delete(key)
                raise
            self._delete(key)
        if back != payload:
            raise LocationError("protocol", f"{self.where}: the probe file read back different bytes")
        shown = {
            "server": answer["ResponseMetadata"].get("HTTPHeaders", {}).get("server", ""),
            "checksum_sha256": bool(answer.get("ChecksumSHA256")),  # the store confirmed the SHA-256 it was sent
        }
        if self.fingerprint:
            shown["tls_fingerprint"] = self.fingerprint
        return shown

    def close(self):
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            tls.remove_ca_file(self._ca_file)
            self._ca_file = None

    # The S3 calls, without error handling (the public methods wrap them in ``_errors``).

    def _head(self, key):
        """The object's metadata, or None when it is absent or this key may not read it (the PUT then decides)."""
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            if status(exc) in (403, 404):  # HEAD answers have no body: 404 may be the bucket, left to the PUT
                return None
            raise

    def _put_object(self, key, data):
        if self._send_checksum:
            checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
            try:
                return self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=data, ContentLength=len(data), ChecksumSHA256=checksum
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in CHECKSUM_REFUSED_CODES:
                    raise
                self._send_checksum = False
        return self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentLength=len(data))

    def _get(self, key, name, limit):
        answer = self.client.get_object(Bucket=self.bucket, Key=key)
        body, size = answer["Body"], answer.get("ContentLength", 0)
        too_big = LocationError("protocol", f"{self.where}: {name} is larger than the {limit} bytes allowed")
        try:
            if size > limit:
                raise too_big
            chunks, total = [], 0
            while chunk := body.read(CHUNK):
                total += len(chunk)
                if total > limit:
                    raise too_big
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            body.close()

    def _delete(self, key):
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchKey":
                raise

    @contextlib.contextmanager
    def _errors(self, name=None):
        """Turn what boto3, ssl and sockets raise into LocationError naming the location (never a secret)."""
        try:
            yield
        except (ClientError, BotoCoreError, OSError) as exc:
            reason = classify(exc)
            detail = self.where + (f", file {name}" if name else "") + f": {describe(exc)}"
            if reason == "tls" and not self.fingerprint:
                detail += self._fingerprint_hint()
            raise LocationError(reason, detail) from None

    @property
    def client(self):
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self):
        config = Config(
            connect_timeout=self.timeout,
            read_timeout=self.timeout,
            retries={"max_attempts": 2},
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",  # no CRC32 trailers: the SHA-256 is sent by put
            ignore_configured_endpoint_urls=True,  # AWS_ENDPOINT_URL in the environment never redirects us
            signature_version=None if self._key_id else botocore.UNSIGNED,
        )
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url or None,
            region_name=self.region,
            aws_access_key_id=self._key_id or None,
            aws_secret_access_key=self._secret or None,
            verify=self._verify(),
            config=config,
        )

    def _verify(self):
        """True (the system's CAs), or the file holding the server's certificate once it matches the pin."""
        if not self.fingerprint:
            return True
        url = urlsplit(self.endpoint_url)
        if url.scheme != "https":
            raise LocationError("tls", f"{self.where}: tls_fingerprint is set but the endpoint URL is not https://")
        with self._errors():
            pem = tls.server_certificate(url.hostname, url.port or 443, self.timeout)
        seen = tls.certificate_fingerprint(pem)
        if seen != self.fingerprint:
            raise LocationError(
                "tls", f"{self.where}: the server's certificate is {seen}, not the pinned {self.fingerprint}"
            )
        self._ca_file = tls.write_ca_file(pem)
        return self._ca_file

    def _fingerprint_hint(self):
        """For a refused certificate: its fingerprint, to pin when the certificate is the server's own."""
        url = urlsplit(self.endpoint_url)
        seen = tls.server_fingerprint(url.hostname, url.port or 443, self.timeout) if url.scheme == "https" else ""
        return f" (the server's certificate is SHA-256 {seen}: set it as tls_fingerprint to accept it)" if seen else ""


def _holds(head, data):
    """Whether the object described by ``head`` holds ``data``: same size and SHA-256, or MD5 ETag (one-part PUT)."""
    if head.get("ContentLength") != len(data):
        return False
    if head.get("ChecksumSHA256"):
        return head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    return head.get("ETag", "").strip('"') == hashlib.md5(data, usedforsecurity=False).hexdigest()

"""WebDAV locations (SPEC §14): a folder on Nextcloud, ownCloud, a NAS or ``rclone serve webdav``, through
webdav4's Client over httpx.

Settings: ``url`` (the folder, e.g. ``https://cloud.example.com/remote.php/dav/files/anna/backups``),
``username``, ``password`` (HTTP Basic) and ``tls_fingerprint`` (optional: the SHA-256 fingerprint of a
self-signed server certificate to accept instead of a CA-signed one). Redirects are followed only on the
same scheme, host and port, so the credentials never go to another server.
"""

import hashlib
import hmac
import io
import re
import secrets
import socket
import ssl
from contextlib import contextmanager, suppress

import httpx
from webdav4.client import (
    Client,
    ClientError,
    HTTPError,
    InsufficientStorage,
    IsACollectionError,
    IsAResourceError,
    ResourceAlreadyExists,
    ResourceNotFound,
)

from .folder import plain_name
from .transport import TEMP_PREFIX, TIMEOUT, LocationError, RemoteFile, Transport

CHUNK = 1 << 20  # bytes read from a download at a time
#: HTTP answers with a reason of their own; what a 404 means depends on whether the folder is there
#: (``WebdavTransport._failures``), and a 405 to PROPFIND means no WebDAV at that address.
STATUS_REASONS = {401: "auth", 403: "permission", 405: "permission", 409: "missing", 423: "permission", 507: "full"}
#: What the library raises; anything else is a bug and is not turned into a LocationError.
FAILURES = (ClientError, httpx.HTTPError, httpx.InvalidURL, OSError, ValueError, KeyError, SyntaxError)


def check_name(name):
    """Refuse what the folder kind refuses (folders, ``..``, temporary names) and anything unprintable, which
    would have to be escaped in the URL."""
    plain_name(name)
    if not name.isprintable():
        raise ValueError(f"{name!r} is not a plain file name")


def normalize_fingerprint(text):
    """A SHA-256 fingerprint as 64 lower-case hex digits, from ``AB:CD:…``, ``SHA256:AB:…`` or plain hex;
    ValueError else."""
    digits = re.sub(r"^sha256:|[\s:]", "", str(text).strip(), flags=re.IGNORECASE).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digits):
        raise ValueError("tls_fingerprint is not a SHA-256 fingerprint: 64 hex digits, colons allowed")
    return digits


def fingerprint(der):
    """The SHA-256 fingerprint of a DER certificate as shown by browsers: ``AB:CD:…``."""
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


def _chain(exc):
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _status(exc):
    for link in _chain(exc):
        if isinstance(link, (HTTPError, httpx.HTTPStatusError)):
            return link.response.status_code, link.response.reason_phrase, link.request.method
    return None


def classify(exc, where):
    """The LocationError for a failure of webdav4, httpx or the socket under them. ``where`` says which
    location and operation; a 404 comes out as "not_found" (the caller tells a missing folder apart)."""
    status = _status(exc)
    if isinstance(exc, InsufficientStorage):
        status = 507, "Insufficient Storage", "PUT"
    if isinstance(exc, ResourceNotFound):
        status = 404, "Not Found", "a request"
    if status is not None:
        return _answered(*status, where)
    if isinstance(exc, IsAResourceError):
        return LocationError("missing", f"{where}: the url is a file, not a folder")
    if isinstance(exc, IsACollectionError):
        return LocationError("not_found", f"{where}: a folder, not a file")
    return _unreachable(exc, where)


def _answered(code, phrase, method, where):
    answer = f"{where}: HTTP {code} {phrase} to {method}"
    if code == 404:
        return LocationError("not_found", answer)
    if 300 <= code < 400:
        return LocationError("protocol", f"{answer}, a redirect that is not followed")
    if code == 405 and method == "PROPFIND":
        return LocationError("protocol", f"{answer}: no WebDAV folder at this url")
    return LocationError(STATUS_REASONS.get(code, "protocol"), answer)


def _unreachable(exc, where):
    for link in _chain(exc):
        if isinstance(link, socket.gaierror):
            return LocationError("dns", f"{where}: {link.strerror or link}")
        if isinstance(link, ConnectionRefusedError):
            return LocationError("refused", where)
        if isinstance(link, ssl.SSLCertVerificationError):
            return LocationError("tls", f"{where}: {link.verify_message or link.reason}")
        if isinstance(link, ssl.SSLError):
            return LocationError("tls", f"{where}: {link.reason or link}")
        if isinstance(link, (httpx.TimeoutException, TimeoutError)):
            return LocationError("timeout", f"{where}: no answer within {TIMEOUT} s")
    if isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError, ConnectionError)):
        return LocationError("refused", f"{where}: the server closed the connection mid-request ({exc})")
    return LocationError("protocol", f"{where}: {exc}")


class WebdavTransport(Transport):
    """One WebDAV folder. The httpx connection pool is made on first use and kept until ``close()``."""

    kind = "webdav"

    def __init__(self, settings):
        super().__init__(settings)
        try:
            url = httpx.URL(str(settings.get("url") or "").strip().rstrip("/"))
        except httpx.InvalidURL:
            url = httpx.URL()
        if url.scheme not in ("http", "https") or not url.host or not 0 < (url.port or 80) < 65536:
            raise ValueError("url must be an http:// or https:// address of a folder")
        if url.userinfo:
            raise ValueError("url must not hold a user name or password: they have fields of their own")
        self.url = url
        self.username = settings.get("username") or ""
        self.password = settings.get("password") or ""
        self.pin = normalize_fingerprint(settings["tls_fingerprint"]) if settings.get("tls_fingerprint") else None
        self.port = url.port or (443 if url.scheme == "https" else 80)
        user = f"{self.username}@" if self.username else ""
        self.where = f"WebDAV {user}{url.host}:{self.port} {url.path or '/'}"
        self.certificate = None  # fingerprint of the server certificate last seen (https only)
        self._client = None

    # -- the connection --------------------------------------------------------------------------------

    def _dav(self):
        if self._client is None:
            if self.pin and self.url.scheme != "https":
                raise LocationError(
                    "tls", f"{self.where}: a tls_fingerprint is set, but the url is http://, not https://"
                )
            self._client = Client(
                self.url,
                auth=(self.username, self.password) if self.username else None,
                retry=False,  # the copy engine retries with its own backoff
                timeout=httpx.Timeout(TIMEOUT),
                verify=self._pinned_context() if self.pin else True,
                follow_redirects=False,
                # Bytes as stored: a download's Content-Length is then its size, and nothing inflates.
                headers={"Accept-Encoding": "identity"},
                event_hooks={"request": [self._same_server], "response": [self._note_certificate]},
            )
        return self._client

    def _pinned_context(self):
        """A TLS context that trusts exactly the pinned certificate, after checking that the server shows it.
        The name in it is not checked: the pin says which server this is, and a NAS's self-signed
        certificate rarely names the address it is reached by."""
        pem = ssl.get_server_certificate((self.url.host, self.port), timeout=TIMEOUT)
        der = ssl.PEM_cert_to_DER_cert(pem)
        if not hmac.compare_digest(hashlib.sha256(der).hexdigest(), self.pin):
            raise LocationError("tls", f"{self.where}: the server shows {fingerprint(der)}, not the pinned certificate")
        context = ssl.create_default_context(cadata=pem)
        context.check_hostname = False
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # the pinned certificate is the anchor itself
        return context

    def _same_server(self, request):
        url = request.url
        if (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80)) != (
            self.url.scheme,
            self.url.host,
            self.port,
        ):
            raise LocationError("protocol", f"{self.where}: redirected to {url.scheme}://{url.host}, not followed")

    def _note_certificate(self, response):
        stream = response.extensions.get("network_stream")
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        if ssl_object is not None:
            self.certificate = fingerprint(ssl_object.getpeercert(True))

    @contextmanager
    def _failures(self, doing, absent="not_found"):
        """Turn library errors into LocationError. A 404 is ``absent`` while the folder is there (a file
        that is not; "permission" for a PUT refused that way) and "missing" when the folder is not."""
        try:
            yield
        except LocationError:
            raise
        except FAILURES as exc:
            error = classify(exc, f"{self.where} ({doing})")
            if error.reason == "not_found":
                error = LocationError(absent if self._folder_exists() else "missing", error.detail)
            raise error from exc

    def _folder_exists(self):
        try:
            dav = self._dav()
            found = dav.propfind("", headers={"Depth": "0"})  # not the default "infinity" of webdav4's isdir
            return bool(found.get_response_for_path(dav.base_url.path, "").properties.collection)
        except FAILURES:
            return False

    def _remove_quietly(self, name):
        with suppress(*FAILURES):
            self._dav().remove(name)

    # -- the interface ---------------------------------------------------------------------------------

    def list(self):
        with self._failures("list", absent="missing"):
            entries = self._dav().ls("", detail=True, allow_listing_resource=False)
        return [
            RemoteFile(entry["name"], entry["content_length"] or 0, entry["modified"])
            for entry in entries
            if entry["type"] == "file" and "/" not in entry["name"] and not entry["name"].startswith(TEMP_PREFIX)
        ]

    def get(self, name, limit):
        check_name(name)
        data = self._fetch(name, limit)
        if data is None:
            raise LocationError("protocol", f"{self.where} (get {name}): larger than {limit} bytes")
        return data

    def _fetch(self, name, limit):
        """The bytes of ``name``, or None as soon as it proves longer than ``limit`` (never read further)."""
        with self._failures(f"get {name}"), self._dav().open(name, mode="rb", chunk_size=CHUNK) as stream:
            if stream.size is not None and stream.size > limit:
                return None
            chunks, total = [], 0
            while chunk := stream.read1():
                total += len(chunk)
                if total > limit:
                    return None
                chunks.append(chunk)
            return b"".join(chunks)

    def put(self, name, data):
        check_name(name)
        data = bytes(data)
        temp = f"{TEMP_PREFIX}{secrets.token_hex(8)}-{name}"
        try:
            with self._failures(f"put {name}", absent="permission"):
                dav = self._dav()
                dav.upload_fileobj(io.BytesIO(data), temp, overwrite=True, size=len(data))
                size = dav.info(temp)["content_length"]
                if size != len(data):
                    raise LocationError("protocol", f"{self.where} (put {name}): {size} bytes arrived of {len(data)}")
                try:
                    dav.move(temp, name, overwrite=False)
                except ResourceAlreadyExists:
                    if self._fetch(name, len(data)) != data:
                        raise LocationError(
                            "protocol", f"{self.where} (put {name}): a different file of that name is there already"
                        ) from None
                    self._remove_quietly(temp)
        except BaseException:
            self._remove_quietly(temp)
            raise

    def delete(self, name):
        check_name(name)
        self._delete(name)

    def _delete(self, name):
        with self._failures(f"delete {name}"):
            dav = self._dav()
            try:
                kind = dav.info(name)["type"]
            except ResourceNotFound:
                return
            if kind == "directory":  # a DELETE would remove the whole folder
                raise LocationError("not_found", f"{self.where} (delete {name}): a folder, not a file; left alone")
            try:
                dav.remove(name)
            except ResourceNotFound:
                return

    def probe(self):
        name = f"{TEMP_PREFIX}probe-{secrets.token_hex(8)}"
        payload = f"VibeNVR location probe {name}\n".encode()
        self.list()
        try:
            with self._failures(f"probe {name}", absent="permission"):
                self._dav().upload_fileobj(io.BytesIO(payload), name, overwrite=True, size=len(payload))
            if self._fetch(name, len(payload)) != payload:
                raise LocationError("protocol", f"{self.where} (probe): the file read back is not the one written")
        except BaseException:
            self._remove_quietly(name)
            raise
        self._delete(name)
        return {"tls_fingerprint": self.certificate} if self.certificate else {}

    def close(self):
        if self._client is not None:
            self._client.http.close()
            self._client = None

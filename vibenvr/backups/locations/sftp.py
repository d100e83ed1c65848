"""SFTP locations (SPEC §14): a folder on an SSH server, through paramiko.

The server's host key is checked before any credential is sent: with ``host_key`` empty the first key
seen is accepted and kept in ``seen_host_key`` for the caller to pin; with it set, any other key is a
``host_key`` failure and neither the password nor the private key leaves this machine. Every network
call has a timeout, and every failure becomes a LocationError whose detail names the place, never a
secret.
"""

import errno
import posixpath
import secrets
import socket
import stat
import threading
import time
from contextlib import contextmanager, suppress
from datetime import UTC, datetime

import paramiko

from .ssh_keys import host_key_matches, host_key_text, key_algorithms, private_key
from .transport import TEMP_PREFIX, TIMEOUT, LocationError, RemoteFile, Transport

CHUNK = 32768  # bytes per SFTP write or read request (what paramiko's own put and get use)
#: A temporary this old belongs to no upload in progress: the next successful put removes it.
TEMP_STALE_AFTER = 3600  # seconds
#: How paramiko says the connection went away (besides EOFError): a server stopped, a network gone.
LOST = ("Socket is closed", "Server connection dropped", "Connection lost")
#: The reason of an exception, by its type (the first that matches), its errno, or the text of the server.
BY_TYPE = (
    (socket.gaierror, "dns"),
    (ConnectionRefusedError, "refused"),
    (TimeoutError, "timeout"),
    (paramiko.AuthenticationException, "auth"),
    (PermissionError, "permission"),
    (ConnectionError, "refused"),
    (paramiko.SSHException, "protocol"),
)
BY_ERRNO = {
    errno.ENOSPC: "full",
    errno.EDQUOT: "full",
    errno.EROFS: "permission",
    errno.EACCES: "permission",
    errno.EPERM: "permission",
    errno.ENETUNREACH: "refused",
    errno.EHOSTUNREACH: "refused",
}
BY_TEXT = (  # SFTP version 3 has one "failure" status for the rest; some servers say more in words
    ("no space", "full"),
    ("quota", "full"),
    ("disk full", "full"),
    ("read only", "permission"),
    ("read-only", "permission"),
)


def check_name(name):
    """Refuse anything but a plain file name (before any network call): no folders, no way out."""
    if (
        not isinstance(name, str)
        or name in ("", ".", "..")
        or any(char in name for char in "/\\\0")
        or name.startswith(TEMP_PREFIX)
    ):
        raise ValueError(f"not a plain backup file name: {name!r}")


def classify(exc, where, missing="missing"):
    """The LocationError for an exception of the socket, paramiko or the SFTP server. ``missing`` is the
    reason of "no such file": ``missing`` for the folder, ``not_found`` for a backup file."""
    if isinstance(exc, LocationError):
        return exc
    said = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)).strip()
    if isinstance(exc, EOFError | ConnectionResetError | BrokenPipeError) or said.startswith(LOST):
        return LocationError("refused", f"{where} (the server closed the connection)")
    detail = f"{where} ({said})" if said else where
    if isinstance(exc, FileNotFoundError):
        return LocationError(missing, detail)
    reason = next((reason for kinds, reason in BY_TYPE if isinstance(exc, kinds)), None)
    reason = reason or BY_ERRNO.get(getattr(exc, "errno", None))
    reason = reason or next((reason for words, reason in BY_TEXT if words in said.lower()), "protocol")
    return LocationError(reason, detail)


class SftpTransport(Transport):
    """The folder ``path`` (absolute, or relative to the login folder) on ``host``:``port`` over SFTP."""

    kind = "sftp"
    timeout = TIMEOUT  # seconds, for each network call

    def __init__(self, settings):
        super().__init__(settings)
        self.host = settings.get("host") or ""
        self.port = int(settings.get("port") or 22)
        self.username = settings.get("username") or ""
        path = settings.get("path") or ""
        self.folder = path.rstrip("/") or ("/" if path.startswith("/") else ".")
        self.where = f"SFTP {self.username}@{self.host}:{self.port} {path or '(login folder)'}"
        self.seen_host_key = None  # "<type> <base64>" of the server's key, once connected
        self.seen_host_key_fingerprint = None  # "SHA256:…" of the same key
        self._transport = None
        self._sftp = None

    def put(self, name, data):
        check_name(name)
        data = bytes(data)
        sftp = self._connect()
        final = self._remote(name)
        temp = self._remote(f"{TEMP_PREFIX}{secrets.token_hex(8)}")
        with self._errors(name):
            if self._holds(sftp, final, data):
                return
            try:
                with sftp.open(temp, "wb") as handle:
                    handle.set_pipelined(True)
                    for start in range(0, len(data), CHUNK):
                        handle.write(data[start : start + CHUNK])
                self._check_size(sftp, temp, len(data))
                # Plain SFTP rename: OpenSSH's never replaces an existing file (another writer's backup).
                sftp.rename(temp, final)
            except BaseException:
                self._discard(sftp, temp)
                raise
            self._check_size(sftp, final, len(data))
        self._sweep(sftp)

    def get(self, name, limit):
        check_name(name)
        sftp = self._connect()
        path = self._remote(name)
        with self._errors(name, missing="not_found"):
            size = self._file_size(sftp, path, name)
            if size > limit:
                raise LocationError("protocol", f"{self.where}: {name} is {size} bytes, over the limit of {limit}")
            return self._read(sftp, path, name, size, limit)

    def list(self):
        sftp = self._connect()
        with self._errors():
            entries = sftp.listdir_attr(self.folder)
        files = [
            RemoteFile(entry.filename, entry.st_size, _modified(entry))
            for entry in entries
            if stat.S_ISREG(entry.st_mode or 0) and not entry.filename.startswith(TEMP_PREFIX)
        ]
        return sorted(files, key=lambda remote: remote.name)

    def delete(self, name):
        check_name(name)
        sftp = self._connect()
        with self._errors(name), suppress(FileNotFoundError):
            sftp.remove(self._remote(name))

    def probe(self):
        sftp = self._connect()
        path = self._remote(f"{TEMP_PREFIX}probe-{secrets.token_hex(6)}")
        sample = secrets.token_bytes(64)
        with self._errors():
            try:
                with sftp.open(path, "wb") as handle:
                    handle.write(sample)
                with sftp.open(path, "rb") as handle:
                    back = handle.read(len(sample) + 1)
            finally:
                self._discard(sftp, path)
            if back != sample:
                raise LocationError("protocol", f"{self.where}: the probe file read back different bytes")
            folder = sftp.normalize(self.folder)
        return {
            "host_key": self.seen_host_key,
            "host_key_fingerprint": self.seen_host_key_fingerprint,
            "folder": folder,
        }

    def close(self):
        sftp, transport, self._sftp, self._transport = self._sftp, self._transport, None, None
        for part in (sftp, transport):
            if part is not None:
                with suppress(Exception):  # a connection that may be gone already
                    part.close()

    # The connection.

    def _connect(self):
        """The open SFTP session, made (again) when there is none or the last one was lost."""
        if self._sftp is not None and self._transport.is_active():
            return self._sftp
        self.close()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise classify(exc, self.where) from exc
        self._transport = paramiko.Transport(sock)
        try:
            self._handshake(self._transport)
            self._authenticate(self._transport)
            self._transport.channel_timeout = self.timeout
            sftp = paramiko.SFTPClient.from_transport(self._transport)
            sftp.get_channel().settimeout(self.timeout)
            self._check_folder(sftp)
        except LocationError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise classify(exc, self.where) from exc
        self._sftp = sftp
        return sftp

    def _handshake(self, transport):
        """Key exchange, then the host key check: before any credential is sent."""
        pin = (self.settings.get("host_key") or "").strip()
        options = transport.get_security_options()
        if chosen := [kind for kind in options.key_types if kind in key_algorithms(pin)]:
            options.key_types = chosen  # so a server with several host keys shows the pinned one
        # paramiko's own banner and handshake limits sit past ours, so running out of time reads as a timeout.
        transport.banner_timeout = transport.handshake_timeout = self.timeout + 5
        transport.auth_timeout = self.timeout
        done = threading.Event()
        transport.start_client(event=done)
        if not done.wait(self.timeout):
            raise LocationError("timeout", f"{self.where}: no SSH handshake within {self.timeout} s")
        if not transport.is_active():
            raise transport.get_exception() or paramiko.SSHException("the SSH handshake failed")
        key = transport.get_remote_server_key()
        self.seen_host_key = host_key_text(key)
        self.seen_host_key_fingerprint = key.fingerprint
        if pin and not host_key_matches(pin, key):
            raise LocationError(
                "host_key",
                f"{self.where}: the server offered {key.get_name()} {key.fingerprint}, pinned is {pin[:80]}; "
                "nothing was sent",
            )

    def _authenticate(self, transport):
        """The private key when there is one, else the password (also as keyboard-interactive). A refused
        key does not fall back to the password: several SSH servers (Go's, rclone's) end the connection
        at a second try. A server asking for both (key, then password) gets both."""
        key_text = self.settings.get("private_key") or ""
        password = self.settings.get("password") or ""
        if not key_text and not password:
            raise LocationError("auth", f"{self.where}: neither a password nor a private key is set")
        if key_text:
            try:
                key = private_key(key_text)
            except ValueError as exc:
                raise LocationError("auth", f"{self.where}: {exc}") from None
            transport.auth_publickey(self.username, key)
        if not transport.is_authenticated() and password:
            transport.auth_password(self.username, password)
        if not transport.is_authenticated():
            raise LocationError("auth", f"{self.where}: the server asks for more ways of signing in")

    def _check_folder(self, sftp):
        try:
            attrs = sftp.stat(self.folder)
        except FileNotFoundError:
            raise LocationError("missing", self.where) from None
        if not stat.S_ISDIR(attrs.st_mode or 0):
            raise LocationError("missing", f"{self.where} (not a folder)")

    @contextmanager
    def _errors(self, name=None, missing="missing"):
        """Turn any exception of the block into its LocationError (naming the file ``name``). The connection
        is kept only after a plain "no such file" or "permission denied" answer: after a timeout, a
        reply could still arrive for a request that was given up on."""
        try:
            yield
        except LocationError:
            raise
        except Exception as exc:
            transport = self._transport
            kept = isinstance(exc, FileNotFoundError | PermissionError) and transport and transport.is_active()
            if not kept:
                self.close()
            raise classify(exc, f"{self.where}: {name}" if name else self.where, missing) from exc

    # Files.

    def _remote(self, name):
        return name if self.folder == "." else posixpath.join(self.folder, name)

    def _holds(self, sftp, path, data):
        """Whether ``path`` holds ``data`` already (a repeated put); a different file there is refused."""
        try:
            size = sftp.stat(path).st_size
        except FileNotFoundError:
            return False
        if size == len(data) and self._read(sftp, path, posixpath.basename(path), size, size) == data:
            return True
        raise LocationError(
            "protocol", f"{self.where}: a different file is already named {posixpath.basename(path)}; nothing replaced"
        )

    def _file_size(self, sftp, path, name):
        attrs = sftp.stat(path)
        if not stat.S_ISREG(attrs.st_mode or 0):
            raise LocationError("not_found", f"{self.where}: {name} is not a plain file")
        return attrs.st_size

    def _read(self, sftp, path, name, size, limit):
        """The bytes of ``path``, read ahead by paramiko, refusing more than ``limit`` (it may have grown)."""
        chunks, total = [], 0
        with sftp.open(path, "rb") as handle:
            handle.prefetch(size)
            while chunk := handle.read(CHUNK):
                total += len(chunk)
                if total > limit:
                    raise LocationError("protocol", f"{self.where}: {name} is over the limit of {limit} bytes")
                chunks.append(chunk)
        return b"".join(chunks)

    def _check_size(self, sftp, path, size):
        """The size the server reports; the close of an SFTP write can fail unseen (paramiko drops its error)."""
        try:
            stored = sftp.stat(path).st_size
        except FileNotFoundError:
            stored = None
        if stored != size:
            raise LocationError(
                "protocol", f"{self.where}: the upload arrived as {stored} of {size} bytes (is the location full?)"
            )

    def _discard(self, sftp, path):
        """Delete a temporary when the connection still allows it (best effort: it is never listed)."""
        if self._transport is not None and self._transport.is_active():
            with suppress(Exception):  # already gone, or the connection failed: list() hides it anyway
                sftp.remove(path)

    def _sweep(self, sftp):
        """Remove temporaries that earlier uploads left when their connection was lost."""
        now = time.time()
        try:
            entries = sftp.listdir_attr(self.folder)
        except Exception:  # the upload is done; the sweep waits for the next one
            return
        for entry in entries:
            if entry.filename.startswith(TEMP_PREFIX) and now - (entry.st_mtime or now) > TEMP_STALE_AFTER:
                self._discard(sftp, self._remote(entry.filename))


def _modified(entry):
    return datetime.fromtimestamp(entry.st_mtime, UTC) if entry.st_mtime is not None else None

"""What every kind of backup location can do, whatever protocol it speaks (SPEC §14).

A ``Transport`` is made from one location's settings (a dict in the location vocabulary: ``path`` for a
folder; ``host``, ``port``, ``username``, ``password`` / ``private_key``, ``path``, ``host_key`` for SFTP;
``url``, ``username``, ``password``, ``tls_fingerprint`` for WebDAV; ``endpoint_url``, ``region``,
``bucket``, ``prefix``, ``access_key_id``, ``secret_access_key``, ``tls_fingerprint`` for S3). It talks to
the remote side through a maintained client library (no protocol code here), with a timeout on every
network call, and raises ``LocationError`` with a reason a person can act on for every failure.

Names are plain backup file names (``vibe_backup_auto_20261129_224000.json`` or ``….json.age``): the
transport puts them under its folder/prefix and never outside it. ``put`` is atomic at the location: the
bytes go to a temporary name first and are renamed into place (or sent in one PUT that the server applies
whole), so a reader never sees a partial file under a backup's name.
"""

from dataclasses import dataclass

#: Why a location failed, each with the sentence start the status shows (the message adds the details).
REASONS = {
    "dns": "the host name does not resolve",
    "refused": "the connection was refused",
    "timeout": "the location did not answer in time",
    "auth": "the credentials were refused",
    "permission": "permission denied",
    "tls": "the TLS certificate was not accepted",
    "host_key": "the SSH host key does not match the pinned one",
    "full": "the location is full or over its quota",
    "missing": "the folder, bucket or path does not exist",
    "not_found": "the file is not at the location",
    "protocol": "the server answered something unexpected",
    "unavailable": "this kind is not available in this build",
}
TIMEOUT = 20  # seconds for each network operation (connect, one request, one transfer chunk)
TEMP_PREFIX = ".vibenvr-upload-"  # temporary names during put; never listed, cleaned up by put on failure


class LocationError(Exception):
    """A location could not do what was asked. ``reason`` is a key of REASONS; ``str()`` is the whole
    sentence for people ("the credentials were refused: SFTP user 'backup' at nas.local:22"). Never holds
    a password, key or secret."""

    def __init__(self, reason, detail=""):
        self.reason = reason
        self.detail = detail
        text = REASONS.get(reason, reason)
        super().__init__(f"{text}: {detail}" if detail else text)


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    modified: object = None  # an aware or naive-UTC datetime when the location says, else None


class Transport:
    """The interface of one location kind. Subclasses implement every method; all raise LocationError."""

    kind = ""

    def __init__(self, settings):
        self.settings = settings

    def put(self, name, data):
        """Store ``data`` (bytes) as ``name``, atomically; replaces nothing that exists under ``name``
        unless it holds the same bytes. Returns None."""
        raise NotImplementedError

    def get(self, name, limit):
        """The bytes of ``name``; LocationError("not_found") when absent, ("protocol") beyond ``limit`` bytes."""
        raise NotImplementedError

    def list(self):
        """``[RemoteFile]`` of the files directly in the location's folder/prefix (temporary names left out)."""
        raise NotImplementedError

    def delete(self, name):
        """Delete ``name``; absent already is not an error."""
        raise NotImplementedError

    def probe(self):
        """Test the connection: write, read back and delete a small probe file; returns a dict of what the
        location said worth showing (e.g. ``{"host_key": "SHA256:…"}`` for SFTP on first connect)."""
        raise NotImplementedError

    def close(self):
        """Release connections (called after each batch of work)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

"""The server's backup key (SPEC §13): an age X25519 identity in ``<data>/backup_key``, and its emergency kit.

The key file is written once, atomically and 0600, in the format ``age-keygen`` writes (comment lines, then
the ``AGE-SECRET-KEY-1…`` line), so ``age -d -i backup_key`` opens a backup on the server itself. It is
never part of a backup: a backup that held its own key would protect nothing. The emergency kit is the
same identity with what a person needs to use it years later; when one was downloaded is recorded in
``<data>/backup_key.kit`` (the time and by whom, never the key). No Flask here.
"""

import json
import logging
from pathlib import Path

import pyrage
from pyrage import x25519

from ..fsutil import atomic_write, create_once, read_regular_file
from ..timeutil import iso

KEY_NAME = "backup_key"
KIT_MARK_NAME = "backup_key.kit"
OPEN_COMMAND = "age -d -i kit.txt FILE.json.age > FILE.json"

log = logging.getLogger(__name__)


class KeyProblem(RuntimeError):
    """The key file exists but cannot be used: the message says what to do."""


def key_path(data_dir):
    return Path(data_dir) / KEY_NAME


def _read(path):
    try:
        text = read_regular_file(path).decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise KeyProblem(
            f"the backup key {path} cannot be read ({exc}); restore it from the emergency kit "
            "(its AGE-SECRET-KEY-1… line) or move it away to make a new key"
        ) from None
    lines = [line.strip() for line in text.splitlines() if line.strip().upper().startswith("AGE-SECRET-KEY-1")]
    try:
        return x25519.Identity.from_str(lines[0])
    except (IndexError, pyrage.IdentityError, ValueError):
        raise KeyProblem(
            f"the backup key {path} holds no valid age identity; put the emergency kit's "
            "AGE-SECRET-KEY-1… line back in it, or move it away to make a new key"
        ) from None


def load_identity(data_dir):
    """The server's identity, or None when no key was made yet (a KeyProblem when the file is damaged)."""
    return _read(key_path(data_dir))


def server_identities(data_dir):
    """``[the server's identity]`` to open files with, or ``[]`` before a key was made (or when it is damaged:
    opening then asks for the kit, as it would on another server)."""
    try:
        identity = load_identity(data_dir)
    except KeyProblem as exc:
        log.error("%s", exc)
        return []
    return [identity] if identity is not None else []


def server_identity(data_dir, moment):
    """The server's identity, made on first use. Two processes making it at once agree: the file is
    linked into place only if absent, and both then read the one that won."""
    path = key_path(data_dir)
    identity = _read(path)
    if identity is not None:
        return identity
    made = x25519.Identity.generate()
    body = f"# VibeNVR Config backup key, created: {iso(moment)}\n# public key: {made.to_public()}\n{made}\n"
    if create_once(path, body):
        log.info("made the backup key %s (recipient %s)", path, made.to_public())
    return _read(path)


def recipient_text(identity):
    return str(identity.to_public())


def kit_text(identity, system_name, moment):
    """The emergency kit: an age identity file (comments and the key line) that says how to use it."""
    return "\n".join(
        [
            "# VibeNVR Config emergency kit",
            f"# Server: {system_name}",
            f"# Made: {iso(moment)}",
            f"# Public key (recipient): {recipient_text(identity)}",
            "#",
            "# This file opens every encrypted backup of this server, also when the server and its disk are gone.",
            "# Keep it OFF the server: in a password manager, on a USB stick in a drawer, or printed.",
            "# Anyone holding it can read the backups (password hashes, 2FA secrets, camera credentials).",
            "#",
            "# To open a backup with the standard age tool (https://age-encryption.org, 'apt install age'):",
            f"#   {OPEN_COMMAND}",
            "# Or import the .json.age file on System Backups and give this file when asked.",
            str(identity),
            "",
        ]
    )


def mark_kit_downloaded(data_dir, moment, by):
    """Record that a kit was handed out (the time and who), so the page stops warning."""
    atomic_write(Path(data_dir) / KIT_MARK_NAME, json.dumps({"downloaded_at": iso(moment), "by": by}) + "\n")


def kit_downloaded(data_dir):
    """``{"downloaded_at", "by"}`` of the last kit handed out, or None."""
    try:
        data = json.loads(read_regular_file(Path(data_dir) / KIT_MARK_NAME))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None

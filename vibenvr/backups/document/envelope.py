"""Encrypted backups (SPEC §13): the whole canonical file inside an age v1 envelope, through ``pyrage``.

No cryptography is written here: ``pyrage`` (the maintained binding of the rage implementation of age)
encrypts and decrypts. This module only chooses the recipients, reads the *text* header of an age file to
say which kind of key it wants (``-> X25519 …``, ``-> ssh-ed25519 …``, ``-> scrypt …``), and turns
every failure into a ``BackupError`` (422) a person can act on: not an age file, encrypted to keys this
server does not hold, a passphrase where a key was given (and the other way round), a wrong passphrase,
damaged or altered. Keys and passphrases are used for the call only: never stored, never logged.
"""

import re

import pyrage
from pyrage import passphrase as age_passphrase
from pyrage import ssh, x25519

from ..errors import BackupError

MAGIC = b"age-encryption.org/v1\n"
ARMOR = b"-----BEGIN AGE ENCRYPTED FILE-----"
SUFFIX = ".age"
MAX_HEADER = 64 * 1024  # a real header is a few hundred bytes per recipient
MAX_STANZAS = 64
MIN_PASSPHRASE = 12
KNOWN_TYPES = {"X25519", "scrypt", "ssh-ed25519", "ssh-rsa"}
NO_KEY = (
    "encrypted to keys this server does not hold: upload the emergency kit or the identity "
    "(the AGE-SECRET-KEY-1… line, or the private SSH key) it was encrypted to"
)
_RECIPIENT_LINE = re.compile(r"^(age1[0-9a-z]{20,}|ssh-ed25519 [A-Za-z0-9+/=]+|ssh-rsa [A-Za-z0-9+/=]+)( .*)?$")


def is_encrypted(data):
    """True when ``data`` (bytes) starts like an age file, binary or ASCII-armored."""
    head = bytes(data[:64]).lstrip()
    return head.startswith((MAGIC, ARMOR))


def stanza_types(data, source="the file"):
    """The recipient types of an age header (``["X25519", "ssh-ed25519"]``, ``["scrypt"]``), read from its
    text lines; a BackupError for a file that is not age or whose header is not what age writes."""
    if bytes(data[:64]).lstrip().startswith(ARMOR):
        raise BackupError(
            [
                f"{source} is an ASCII-armored age file; turn it into a binary one first "
                "(age -d opens both) or upload the file age wrote without -a"
            ]
        )
    if not bytes(data[: len(MAGIC)]) == MAGIC:
        raise BackupError(
            [
                f"{source} is not an age-encrypted file (it does not start with "
                '"age-encryption.org/v1"); a plain backup is a .json file'
            ]
        )
    end = bytes(data[: MAX_HEADER + 1]).find(b"\n---")
    if end < 0:
        too_long = len(data) > MAX_HEADER
        raise BackupError(
            [
                f"{source} has an age header that "
                + (
                    f"is longer than {MAX_HEADER // 1024} KB: no backup is encrypted to that many keys"
                    if too_long
                    else "ends too soon: the file is truncated"
                )
            ]
        )
    types = []
    for line in bytes(data[len(MAGIC) : end]).split(b"\n"):
        if line.startswith(b"-> "):
            kind = line[3:].split(b" ")[0].decode("ascii", "replace")
            if not kind.endswith("-grease"):  # random stanzas age implementations add, to be ignored
                types.append(kind)
    if not types or len(types) > MAX_STANZAS:
        raise BackupError([f"{source} has an age header with {len(types)} recipients; it is damaged"])
    if not KNOWN_TYPES & set(types):
        shown = ", ".join(sorted(set(types)))[:80]
        raise BackupError(
            [
                f"{source} is encrypted to a kind of key this app does not know ({shown}); "
                "it opens X25519 (age1…), SSH (ssh-ed25519, ssh-rsa) and passphrase files"
            ]
        )
    return types


def parse_recipient(text, field="recipient"):
    """An age recipient from ``age1…``, ``ssh-ed25519 AAAA… [comment]`` or ``ssh-rsa AAAA… [comment]``;
    a ValueError naming ``field`` and what is wrong otherwise. Returns ``(canonical text, recipient)``."""
    if not isinstance(text, str):
        raise ValueError(f"{field} must be text: an age1… or ssh-ed25519/ssh-rsa public key")
    value = " ".join(text.split())
    match = _RECIPIENT_LINE.match(value)
    if not match:
        raise ValueError(
            f"{field} is not a public key this app can encrypt to: use an age recipient (age1…) "
            "or an SSH public key (ssh-ed25519 AAAA… or ssh-rsa AAAA…)"
        )
    key = match.group(1)
    try:
        recipient = x25519.Recipient.from_str(key) if key.startswith("age1") else ssh.Recipient.from_str(key)
    except (pyrage.RecipientError, ValueError):
        kind, source = (
            ("age", "the age1… line age-keygen prints")
            if key.startswith("age1")
            else (key.split(" ")[0], "the whole line of the .pub file")
        )
        raise ValueError(f"{field} is not a valid {kind} public key (damaged or cut short): copy {source}") from None
    return value, recipient


def parse_identity(text, source="the identity"):
    """Identities from pasted or uploaded text: ``AGE-SECRET-KEY-1…`` lines (an emergency kit or an age
    key file; comments ignored), or an unencrypted OpenSSH private key. A BackupError otherwise."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if "-----BEGIN OPENSSH PRIVATE KEY-----" in text:
        try:
            return [ssh.Identity.from_buffer(text.encode("utf-8"))]
        except (pyrage.IdentityError, ValueError) as exc:
            raise BackupError(
                [
                    f"{source} is an SSH private key this app cannot use ({exc}); "
                    "a key protected by a passphrase must be decrypted first"
                ]
            ) from None
    lines = [line.strip() for line in text.splitlines()]
    keys = [line for line in lines if line.upper().startswith("AGE-SECRET-KEY-1")]
    if not keys:
        raise BackupError(
            [
                f"{source} holds no age identity: paste the AGE-SECRET-KEY-1… line of the "
                "emergency kit or of your age key file, or an OpenSSH private key"
            ]
        )
    identities = []
    for key in keys:
        try:
            identities.append(x25519.Identity.from_str(key))
        except (pyrage.IdentityError, ValueError):
            raise BackupError([f"{source} has an AGE-SECRET-KEY-1… line that is not a valid age identity"]) from None
    return identities


def encrypt(data, recipients):
    """``data`` encrypted to every recipient (pyrage recipients); the bytes of a binary age file."""
    if not recipients:
        raise ValueError("no recipient to encrypt to")
    return pyrage.encrypt(bytes(data), list(recipients))


def encrypt_with_passphrase(data, phrase):
    """``data`` encrypted with age's scrypt passphrase mode (a passphrase typed for one download)."""
    if not isinstance(phrase, str) or len(phrase) < MIN_PASSPHRASE:
        raise ValueError(f"passphrase must be at least {MIN_PASSPHRASE} characters")
    return age_passphrase.encrypt(bytes(data), phrase)


def decrypt(data, identities=(), phrase=None, source="the file"):
    """The plaintext of an age file, with ``identities`` or ``phrase``; a BackupError (422) saying exactly
    what is wrong otherwise. Nothing about the key or passphrase appears in a message."""
    types = stanza_types(data, source)
    wants_phrase = types == ["scrypt"]
    if wants_phrase and phrase is None:
        raise BackupError([f"{source} is encrypted with a passphrase, not to a key: enter the passphrase"])
    try:
        if wants_phrase:
            return age_passphrase.decrypt(bytes(data), phrase)
        if not identities:
            raise BackupError([_no_key(source, types, phrase)])
        return pyrage.decrypt(bytes(data), list(identities))
    except pyrage.DecryptError as exc:
        raise BackupError([_decrypt_problem(str(exc), source, wants_phrase, types, phrase)]) from None


def _no_key(source, types, phrase):
    """None of the keys opens a file encrypted to keys; when a passphrase was given, that it is of no use
    (the server's own key is always tried, so a passphrase alone still meets "no matching keys")."""
    if phrase is not None:
        return (
            f"{source} is encrypted to keys ({', '.join(sorted(set(types)))}), not with a "
            "passphrase: upload the emergency kit or the identity instead"
        )
    return f"{source} is {NO_KEY}"


def _decrypt_problem(reason, source, wants_phrase, types, phrase):
    if "No matching keys" in reason:
        return _no_key(source, types, phrase)
    if wants_phrase and "Decryption failed" in reason:
        return f"{source}: the passphrase is wrong (or the file was altered)"
    if "fill whole buffer" in reason or "unexpected end" in reason.lower():
        return f"{source} is truncated: the encrypted data ends too soon"
    return f"{source} is damaged or altered: age's authentication failed, so nothing of it was used"

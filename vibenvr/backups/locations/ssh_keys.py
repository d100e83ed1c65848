"""SSH keys of SFTP locations (SPEC §14): the pinned host key, and the private key text a location holds."""

import io

import paramiko
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

KEY_CLASSES = (
    (ed25519.Ed25519PrivateKey, paramiko.Ed25519Key),
    (rsa.RSAPrivateKey, paramiko.RSAKey),
    (ec.EllipticCurvePrivateKey, paramiko.ECDSAKey),
)
#: Host key algorithms that negotiate a key type, where they are not simply its name.
KEY_ALGORITHMS = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")}


def host_key_text(key):
    """``"ssh-ed25519 AAAA…"``: the public host key as it is pinned (and as in known_hosts)."""
    return f"{key.get_name()} {key.get_base64()}"


def host_key_matches(pin, key):
    """Whether paramiko ``key`` is the pinned one: ``"ssh-ed25519 AAAA… [comment]"`` or ``"SHA256:…"``."""
    pin = pin.strip()
    if pin.startswith("SHA256:"):
        return pin.rstrip("=") == key.fingerprint
    parts = pin.split()
    return len(parts) >= 2 and parts[0] == key.get_name() and parts[1] == key.get_base64()


def key_algorithms(pin):
    """The host key algorithms that negotiate the type of a pinned ``"<type> <base64>"`` key; none for a
    fingerprint, which does not say its type."""
    kind = pin.split()[0] if pin.strip() and not pin.startswith("SHA256:") else None
    return KEY_ALGORITHMS.get(kind, (kind,)) if kind else ()


def private_key(text):
    """The paramiko key of an unencrypted OpenSSH (or PEM) private key text: ed25519, rsa or ecdsa.
    ValueError for anything else, an encrypted key included; the message never quotes the text."""
    data = text.strip().encode() + b"\n"
    try:
        try:
            loaded = serialization.load_ssh_private_key(data, password=None)
        except ValueError:
            loaded = serialization.load_pem_private_key(data, password=None)
        key_class = next(cls for kind, cls in KEY_CLASSES if isinstance(loaded, kind))
        return key_class.from_private_key(io.StringIO(data.decode()))
    except (ValueError, TypeError, UnsupportedAlgorithm, StopIteration, paramiko.SSHException):
        raise ValueError("the private key is not an unencrypted OpenSSH key (ed25519, rsa or ecdsa)") from None

"""Pinned self-signed server certificates for the HTTPS location kinds (SPEC §14).

A location may pin the SHA-256 fingerprint of its server's certificate (``tls_fingerprint``). The
certificate is fetched without verification, compared with the pin, and, when it matches, written to a
temporary PEM file that the client library is given as its only trusted CA: the connection then accepts
that certificate and nothing else, with the library's own hostname check still on.
"""

import contextlib
import hashlib
import os
import ssl
import tempfile


def normalise_fingerprint(text):
    """A SHA-256 certificate fingerprint as ``AB:CD:…`` from 64 hex digits (colons, spaces, a ``SHA256:``
    prefix allowed), or "" for none; ValueError for anything else."""
    digits = (text or "").strip().lower().removeprefix("sha256").lstrip(":= ").replace(":", "").replace(" ", "")
    if not digits:
        return ""
    if len(digits) != 64 or any(c not in "0123456789abcdef" for c in digits):
        raise ValueError("tls_fingerprint: not a SHA-256 fingerprint (64 hexadecimal digits)")
    return ":".join(digits[i : i + 2] for i in range(0, 64, 2)).upper()


def certificate_fingerprint(pem):
    """``AB:CD:…``: the SHA-256 of a PEM certificate's DER bytes (as ``openssl x509 -fingerprint -sha256``)."""
    return normalise_fingerprint(hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest())


def server_certificate(host, port, timeout):
    """The PEM certificate the server at ``host:port`` presents, unverified; OSError/ssl.SSLError on failure."""
    return ssl.get_server_certificate((host, port), timeout=timeout)


def server_fingerprint(host, port, timeout):
    """The fingerprint of the server's certificate, or "" when it cannot be fetched (for hints in messages)."""
    try:
        return certificate_fingerprint(server_certificate(host, port, timeout))
    except (OSError, ValueError):
        return ""


def write_ca_file(pem):
    """A temporary file holding ``pem``, to pass as the CA bundle; the caller removes it (``remove_ca_file``)."""
    handle, path = tempfile.mkstemp(prefix="vibenvr-pinned-ca-", suffix=".pem")
    with os.fdopen(handle, "w") as file:
        file.write(pem)
    return path


def remove_ca_file(path):
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

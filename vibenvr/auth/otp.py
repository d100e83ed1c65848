"""TOTP objects for stored secrets (no Flask). New secrets have 160 bits; secrets of 80 bits and more,
the length many authenticators and VibeNVR 1.x used, keep working after an import."""

import pyotp

MIN_SECRET_BITS = 80


class _TOTP(pyotp.TOTP):
    min_secret_length_bits = MIN_SECRET_BITS


def totp_for(secret):
    """A ``pyotp.TOTP`` for ``secret``; ``byte_secret()`` raises ValueError when it is unusable."""
    return _TOTP(secret)

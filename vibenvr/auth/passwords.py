"""Password hashing with argon2id. Any argon2 hash in the standard encoded form verifies."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id with argon2-cffi's recommended parameters

MIN_PASSWORD_LENGTH = 10


def hash_password(password):
    return _hasher.hash(password)


def verify_password(hashed, password):
    """True when ``password`` matches ``hashed``; False for a mismatch or an unusable hash."""
    if not hashed or password is None:
        return False
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed):
    try:
        return _hasher.check_needs_rehash(hashed)
    except InvalidHashError:
        return False


def password_problem(password):
    """The reason ``password`` is refused by the policy, or None."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 1024:
        return "must be at most 1024 characters"
    return None

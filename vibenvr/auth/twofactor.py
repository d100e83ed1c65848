"""TOTP two-factor authentication: secrets, codes (±1 step of 30 s), QR codes and recovery codes."""

import datetime as dt
import hmac
import re
import secrets

import pyotp
import segno
from argon2 import PasswordHasher

from ..db import current_row, write_transaction
from ..models import RecoveryCode, TrustedDevice, User
from ..runtime import TotpLastStep
from .otp import totp_for
from .passwords import verify_password

RECOVERY_CODE_COUNT = 10
VALID_WINDOW = 1  # steps either side of now: a code from the previous or next 30 s still works
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_DIGITS = re.compile(r"^\d{6}$")
# Recovery codes are random (about 49 bits), so a light argon2id suffices: checking ten of them at
# each sign-in stays cheap. Hashes made elsewhere, with any argon2 parameters, still verify.
_code_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


def new_secret():
    return pyotp.random_base32()  # 160 bits, base32


def format_secret(secret):
    """``ABCD EFGH …``: easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret, username, issuer):
    return totp_for(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_svg(uri):
    """The otpauth URI as an inline SVG QR code."""
    return segno.make(uri, error="m").svg_inline(
        scale=5, border=2, omitsize=True, title="QR code for your authenticator app"
    )


def is_totp_code(code):
    return bool(_DIGITS.match((code or "").replace(" ", "")))


def matching_step(secret, code, moment):
    """The time step (within ±1 of ``moment``, naive UTC) whose code is ``code``, or None."""
    code = (code or "").replace(" ", "")
    if not secret or not _DIGITS.match(code):
        return None
    totp = totp_for(secret)
    current = totp.timecode(moment.replace(tzinfo=dt.UTC))
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def accept_totp(user, code, moment, secret=None):
    """True when ``code`` is valid for ``user`` now and no later-or-equal step was used before (no replay).

    The replay memory is a row per user in the database (``runtime.TotpLastStep``), so a code is accepted
    once across all workers and restarts: an UPDATE that only moves the step forward, or the INSERT of the
    user's first row, decides by its row count, and of two requests racing with one code exactly one wins.
    """
    step = matching_step(secret or user.totp_secret, code, moment)
    if step is None:
        return False
    return _claim_step(user.id, step, moment)


def _claim_step(user_id, step, moment):
    def advance():
        return (
            TotpLastStep.update(step=step, used_at=moment)
            .where((TotpLastStep.user_id == user_id) & (TotpLastStep.step < step))
            .execute()
            == 1
        )

    if advance():
        return True
    inserted = TotpLastStep.insert(user_id=user_id, step=step, used_at=moment).on_conflict_ignore().as_rowcount()
    if inserted.execute() == 1:
        return True
    return advance()  # another request created the row meanwhile: its step decides


def normalise_recovery_code(code):
    return re.sub(r"[\s-]", "", code or "").lower()


def new_recovery_codes(count=RECOVERY_CODE_COUNT):
    """Plain codes such as ``k7mqp-x2hd9`` (about 49 bits each)."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def replace_recovery_codes(user):
    """Store a fresh set of hashed codes for ``user`` (old ones stop working); return the plain codes once."""
    codes = new_recovery_codes()
    rows = [{"user": user.id, "code_hash": _code_hasher.hash(normalise_recovery_code(c))} for c in codes]
    with write_transaction():
        current_row(User, user.id, "user")
        RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()
        RecoveryCode.insert_many(rows).execute()
    return codes


def use_recovery_code(user, code):
    """Consume a matching recovery code; True once per code. Codes from elsewhere verify as typed too."""
    clean = normalise_recovery_code(code)
    if not clean or len(clean) > 64:
        return False
    for row in RecoveryCode.select().where(RecoveryCode.user == user.id):
        if verify_password(row.code_hash, clean) or (
            code.strip() != clean and verify_password(row.code_hash, code.strip())
        ):
            # Deleting by id makes two simultaneous uses of one code succeed at most once.
            return RecoveryCode.delete().where(RecoveryCode.id == row.id).execute() == 1
    return False


def remaining_recovery_codes(user):
    return RecoveryCode.select().where(RecoveryCode.user == user.id).count()


def disable(user):
    """Turn 2FA off for ``user``: secret, recovery codes and trusted devices go."""
    with write_transaction():
        user.totp_secret = None
        user.is_2fa_enabled = False
        user.save(only=[User.totp_secret, User.is_2fa_enabled])
        RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()
        TrustedDevice.delete().where(TrustedDevice.user == user.id).execute()
        TotpLastStep.delete().where(TotpLastStep.user_id == user.id).execute()  # the next secret starts afresh

"""The current password, typed again for what could take an account over (SPEC §12): turning 2FA on or
off, new recovery codes, a new API token, a new password. Wrong ones count like failed sign-ins."""

from ..validation import FieldError, ValidationError
from .passwords import verify_password
from .ratelimit import client_address, login_limiter, wait_text


def problem(user, typed):
    """None when ``typed`` is ``user``'s password, else the message to show beside the field."""
    limiter = login_limiter()
    wait = limiter.retry_after(user.username, client_address())
    if wait:
        return f"Too many wrong passwords. Try again in {wait_text(wait)}."
    if not typed:
        return "Enter your current password."
    if not isinstance(typed, str) or not verify_password(user.hashed_password, typed):
        limiter.failed(user.username, client_address())
        return "The password is wrong."
    return None


def require(user, data, action, field="current_password"):
    """For the API: take ``field`` out of ``data`` and check it; a ValidationError (422, 429) otherwise."""
    typed = data.pop(field, None) if isinstance(data, dict) else None
    message = problem(user, typed)
    if message is None:
        return
    status = 429 if message.startswith("Too many") else 422
    hint = f"is required to {action}" if not typed else "is wrong"
    if status == 429:
        hint = message[0].lower() + message[1:]
    raise ValidationError([FieldError(field, hint)], status=status)

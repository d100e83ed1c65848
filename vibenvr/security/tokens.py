"""API token management shared by ``/api/tokens``, the Security page and the terminal."""

import datetime as dt

from ..auth.clock import now
from ..auth.tokens import issue_token
from ..db import current_row, save_changes, write_transaction
from ..models import ApiToken, User
from ..timeutil import iso, parse_iso
from ..validation import REQUIRED, FieldError, ValidationError, clean_object, integer, nullable, text

MAX_EXPIRY_DAYS = 3650


def token_name(value, field):
    return text(100, required=True)(value, field)


def expires_at(value, field):
    if value is None:
        return None
    try:
        moment = parse_iso(value)
    except ValueError as exc:
        raise FieldError(field, str(exc)) from None
    if moment <= now():
        raise FieldError(field, "must be in the future")
    return moment


def owner_name(value, field):
    return text(64, required=True)(value, field)


def active_flag(value, field):
    if value is not False:
        raise FieldError(field, "can only be set to false (revoked); create a new token instead of reviving one")
    return value


CREATE_SCHEMA = {
    "name": (token_name, REQUIRED),
    "username": (owner_name, None),
    "expires_in_days": (nullable(integer(1, MAX_EXPIRY_DAYS)), None),
    "expires_at": (expires_at, None),
}
UPDATE_SCHEMA = {"name": (token_name, REQUIRED), "is_active": (active_flag, REQUIRED)}


def tokens_query(user=None):
    """Tokens with their owners, newest first; only ``user``'s when given."""
    query = ApiToken.select(ApiToken, User).join(User).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user == user.id)
    return query


def create_token(data, acting_user, not_after=None):
    """Validate ``data`` and issue a token; admins may name another owner with ``username``.

    ``not_after``: the expiry of the API token making this one (it may not outlive it). Returns
    ``(ApiToken, plain)``.
    """
    clean, _ = clean_object(CREATE_SCHEMA, data)
    owner = acting_user
    if clean["username"] and clean["username"] != acting_user.username:
        if not acting_user.is_admin:
            raise ValidationError(
                [FieldError("username", "can only be your own; admins create tokens for others")], status=403
            )
        owner = User.get_or_none(User.username == clean["username"])
        if owner is None:
            raise ValidationError([FieldError("username", f"refers to {clean['username']!r}, who does not exist")])
    if clean["expires_in_days"] is not None and clean["expires_at"] is not None:
        raise ValidationError([FieldError("expires_at", "cannot be given together with expires_in_days")])
    if not_after is not None:
        _within(clean, data, not_after)
    with write_transaction():
        owner = current_row(User, owner.id, "user")
        token, plain = issue_token(owner, clean["name"], expires_days=clean["expires_in_days"])
        if clean["expires_at"] is not None:
            token.expires_at = clean["expires_at"]
            token.save(only=[ApiToken.expires_at])
    return token, plain


def _within(clean, data, not_after):
    """A token made with an API token expires no later than that one (SPEC §12): with no expiry asked for,
    it gets that token's; a later one, or an explicit "never", is refused."""
    days = clean["expires_in_days"]
    asked = clean["expires_at"] or (now() + dt.timedelta(days=days) if days else None)
    field = "expires_at" if "expires_at" in data else "expires_in_days"
    if asked is None and ("expires_in_days" in data or "expires_at" in data):
        raise ValidationError(
            [
                FieldError(
                    field,
                    f"cannot be never: the API token making this one expires at "
                    f"{iso(not_after)}, and a token cannot make one that outlives it",
                )
            ]
        )
    if asked is None:
        clean["expires_at"], clean["expires_in_days"] = not_after, None
    elif asked > not_after:
        raise ValidationError(
            [
                FieldError(
                    field,
                    f"would be after {iso(not_after)}, when the API token making this "
                    "one expires; a token cannot make one that outlives it",
                )
            ]
        )


def revoke_all_tokens(user):
    """Revoke every active token of ``user`` (a password change offers it); return how many."""
    with write_transaction():
        active = (ApiToken.user == user.id) & (ApiToken.is_active == True)  # noqa: E712 - a SQL comparison
        return ApiToken.update(is_active=False).where(active).execute()


def update_token(token, data):
    """Apply a partial update to the row as it is now; only the fields present are written (SPEC §12)."""
    clean, _ = clean_object(UPDATE_SCHEMA, data, partial=True)
    with write_transaction():
        token = current_row(ApiToken, token.id, "token")
        save_changes(token, clean)
    return token


def revoke_token(token):
    with write_transaction():
        token = current_row(ApiToken, token.id, "token")
        token.is_active = False
        token.save(only=[ApiToken.is_active])
    return token


def expiry_days_choice(value):
    """Form value ('', '30', …) to days or None."""
    value = (value or "").strip()
    if not value or value == "never":
        return None
    return integer(1, MAX_EXPIRY_DAYS)(int(value) if value.isdigit() else value, "expires_in_days")


def expires_label(token, moment=None):
    if token.expires_at is None:
        return "never"
    return "expired" if token.expires_at <= (moment or now()) else "active"

"""The signed-in user's Security page: password, two-factor, trusted devices and API tokens.

Each action answers htmx with its section and a plain form post with the whole page.
"""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_user

from ..auth import devices, twofactor
from ..auth.clock import now
from ..auth.decorators import login_required
from ..auth.passwords import verify_password
from ..auth.ratelimit import client_address, login_limiter, wait_text
from ..http import is_htmx
from ..models import ApiToken, TrustedDevice, User
from ..settings.service import get_setting
from ..validation import ValidationError
from . import tokens as token_service

bp = Blueprint("security", __name__, url_prefix="/security")


def _user():
    return User.get_by_id(current_user.id)


def _context(user, **extra):
    context = {
        "user": user,
        "now": now(),
        "devices": devices.devices_of(user),
        "tokens": list(token_service.tokens_query(user)),
        "recovery_left": twofactor.remaining_recovery_codes(user),
        "enrolling": bool(user.totp_secret) and not user.is_2fa_enabled,
        "errors": {},
    }
    if context["enrolling"]:
        issuer = get_setting("system_name") or "VibeNVR"
        uri = twofactor.provisioning_uri(user.totp_secret, user.username, issuer)
        context.update(secret=twofactor.format_secret(user.totp_secret), qr=twofactor.qr_svg(uri))
    context.update(extra)
    return context


def _answer(section, user, status=200, **extra):
    """The section for htmx, the whole page otherwise; always ``Vary: HX-Request``."""
    context = _context(user, **extra)
    if is_htmx() and section != "page":
        body = render_template(f"security/_{section}.html", **context)
    else:
        body = render_template("security/page.html", **context)
    return body, status, {"Vary": "HX-Request", "Cache-Control": "no-store"}


def _password_ok(user, field="password"):
    """Check a re-typed password for a sensitive action; failures count like failed sign-ins."""
    limiter = login_limiter()
    wait = limiter.retry_after(user.username, client_address())
    if wait:
        return f"Too many wrong passwords. Try again in {wait_text(wait)}."
    if not verify_password(user.hashed_password, request.form.get(field, "")):
        limiter.failed(user.username, client_address())
        return "The password is wrong."
    return None


@bp.get("")
@login_required
def page():
    return _answer("page", _user())


@bp.post("/password")
@login_required
def change_password():
    from ..users.service import set_password

    user = _user()
    errors = {}
    problem = _password_ok(user, "current_password")
    if problem:
        errors["current_password"] = problem
    elif request.form.get("new_password", "") != request.form.get("confirm_password", ""):
        errors["confirm_password"] = "The new passwords differ."  # noqa: S105 - a message
    else:
        try:
            user = set_password(user, request.form.get("new_password", ""))
        except ValidationError as exc:
            errors["new_password"] = "The new password " + exc.errors[0].removeprefix("password ")
    if errors:
        return _answer("password", user, 422, errors=errors)
    login_user(user)  # the session follows the new password; other sessions end
    return _answer("password", user, password_changed=True)


@bp.post("/2fa/setup")
@login_required
def start_2fa():
    user = _user()
    if user.is_2fa_enabled:
        return _answer("twofactor", user, 409, errors={"twofactor": "Two-factor authentication is already on."})
    user.totp_secret = twofactor.new_secret()
    user.save(only=[User.totp_secret])
    return _answer("twofactor", user)


@bp.post("/2fa/enable")
@login_required
def enable_2fa():
    user = _user()
    if user.is_2fa_enabled or not user.totp_secret:
        return _answer("twofactor", user, 409, errors={"twofactor": "Start the set-up first."})
    if not twofactor.accept_totp(user, request.form.get("code", ""), now()):
        error = "That code does not match. Check the time on your phone and enter the current 6-digit code."
        return _answer("twofactor", user, 422, errors={"code": error})
    user.is_2fa_enabled = True
    user.save(only=[User.is_2fa_enabled])
    codes = twofactor.replace_recovery_codes(user)
    return _answer("twofactor", user, new_codes=codes)


@bp.post("/2fa/cancel")
@login_required
def cancel_2fa():
    user = _user()
    if not user.is_2fa_enabled:
        user.totp_secret = None
        user.save(only=[User.totp_secret])
    return _answer("twofactor", user)


@bp.post("/2fa/disable")
@login_required
def disable_2fa():
    user = _user()
    problem = _password_ok(user)
    if problem:
        return _answer("twofactor", user, 422, errors={"disable_password": problem})
    twofactor.disable(user)
    return _answer("twofactor", _user(), disabled=True)


@bp.post("/2fa/recovery-codes")
@login_required
def new_recovery_codes():
    user = _user()
    if not user.is_2fa_enabled:
        return _answer("twofactor", user, 409, errors={"twofactor": "Turn on two-factor authentication first."})
    problem = _password_ok(user)
    if problem:
        return _answer("twofactor", user, 422, errors={"codes_password": problem})
    return _answer("twofactor", user, new_codes=twofactor.replace_recovery_codes(user))


@bp.post("/devices/<int:device_id>/revoke")
@login_required
def revoke_device(device_id):
    deleted = TrustedDevice.delete().where(
        (TrustedDevice.id == device_id) & (TrustedDevice.user == current_user.id)).execute()
    if not deleted:
        abort(404, description=f"trusted device {device_id} does not exist")
    return _answer("devices", _user(), device_notice="The device was revoked; it will ask for a code again.")


@bp.post("/devices/revoke-all")
@login_required
def revoke_all_devices():
    count = TrustedDevice.delete().where(TrustedDevice.user == current_user.id).execute()
    return _answer("devices", _user(), device_notice=f"{count} device{'s' if count != 1 else ''} revoked.")


def _own_token(token_id):
    token = ApiToken.get_or_none((ApiToken.id == token_id) & (ApiToken.user == current_user.id))
    if token is None:
        abort(404, description=f"API token {token_id} does not exist")
    return token


@bp.post("/tokens")
@login_required
def create_token():
    user = _user()
    try:
        days = token_service.expiry_days_choice(request.form.get("expires_in_days"))
        token, plain = token_service.create_token({"name": request.form.get("name", ""), "expires_in_days": days}, user)
    except ValidationError as exc:
        return _answer("tokens", user, 422, errors={"token_name": "; ".join(exc.errors)})
    except ValueError as exc:
        return _answer("tokens", user, 422, errors={"token_name": str(exc)})
    return _answer("tokens", user, new_token=plain, new_token_name=token.name)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id):
    token = token_service.revoke_token(_own_token(token_id))
    return _answer("tokens", _user(), token_notice=f'The token "{token.name}" was revoked; calls with it now get 401.')


@bp.post("/tokens/<int:token_id>/delete")
@login_required
def delete_token(token_id):
    token = _own_token(token_id)
    token.delete_instance()
    return _answer("tokens", _user(), token_notice=f'The token "{token.name}" was deleted.')

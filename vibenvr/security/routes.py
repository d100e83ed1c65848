"""The signed-in user's Security page: password, two-factor, trusted devices and API tokens.

Each action answers htmx with its section and a plain form post with the whole page.
"""

from flask import Blueprint, abort, render_template, request, session
from flask_login import current_user

from ..auth import devices, reauth, sessions, twofactor
from ..auth.clock import now
from ..auth.decorators import login_required
from ..auth.tokens import token_from_request
from ..http import error_json, is_htmx
from ..models import ApiToken, TrustedDevice, User
from ..settings.service import get_setting
from ..users.service import set_password
from ..validation import ValidationError
from . import tokens as token_service

bp = Blueprint("security", __name__, url_prefix="/security")

BROWSER_ONLY = (
    "The Security pages work only in a signed-in browser, never with an API token. "
    "Sign in at /login to change your password, two-factor authentication, devices or tokens."
)


def _browser_session_only():
    """Any request to /security/* that carries an API token (valid or not) is a 403, answered before the
    session cookie it may also carry is looked at: a token can never reach these pages (SPEC §12)."""
    if request.blueprint == "security" and token_from_request(request) is not None:
        return error_json(403, BROWSER_ONLY)
    return None


@bp.record_once
def _refuse_tokens_first(state):
    # Ahead of the app's other before_request hooks (the CSRF check answers a bad token with 401).
    state.app.before_request_funcs.setdefault(None, []).insert(0, _browser_session_only)


def _user():
    return User.get_by_id(current_user.id)


def _context(user, **extra):
    context = {
        "user": user,
        "now": now(),
        "devices": devices.devices_of(user),
        "tokens": list(token_service.tokens_query(user)),
        "sessions": sessions.sessions_of(user),
        "is_current": sessions.is_current,
        "describe_browser": devices.describe_browser,
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


def _answer(section, user, status=200, also=(), **extra):
    """The section for htmx (with the ``also`` sections swapped out of band), the whole page otherwise;
    always ``Vary: HX-Request``."""
    context = _context(user, **extra)
    if is_htmx() and section != "page":
        body = render_template(f"security/_{section}.html", **context)
        body += "".join(render_template(f"security/_{name}.html", oob=True, **context) for name in also)
    else:
        body = render_template("security/page.html", **context)
    return body, status, {"Vary": "HX-Request", "Cache-Control": "no-store"}


def _password_ok(user, field="password"):
    """Check a re-typed password for a sensitive action; failures count like failed sign-ins."""
    return reauth.problem(user, request.form.get(field, ""))


@bp.get("")
@login_required
def page():
    return _answer("page", _user())


@bp.post("/password")
@login_required
def change_password():
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
    sessions.sign_in(user, fresh_cookie=False)  # every session ended with the old password; this one goes on
    notices = []
    if "on" in request.form.getlist("revoke_devices"):
        count = TrustedDevice.delete().where(TrustedDevice.user == user.id).execute()
        notices.append(f"{count} trusted device{'s' if count != 1 else ''} removed")
    if "on" in request.form.getlist("revoke_tokens"):
        count = token_service.revoke_all_tokens(user)
        notices.append(f"{count} API token{'s' if count != 1 else ''} revoked")
    return _answer(
        "password", user, password_changed=True, password_notices=notices, also=("sessions", "devices", "tokens")
    )


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
    problem = _password_ok(user)  # before the code, so a wrong password does not use the code up
    if problem:
        return _answer("twofactor", user, 422, errors={"enable_password": problem})
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
    deleted = (
        TrustedDevice.delete()
        .where((TrustedDevice.id == device_id) & (TrustedDevice.user == current_user.id))
        .execute()
    )
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
    problem = _password_ok(user)
    if problem:
        return _answer("tokens", user, 422, errors={"token_password": problem})
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


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions():
    count = sessions.end_all(current_user.id, keep=session.get("_user_id"))
    notice = f"{count} other session{'s' if count != 1 else ''} signed out." if count else "No other session was open."
    return _answer("sessions", _user(), session_notice=notice)


@bp.post("/sessions/<int:record_id>/end")
@login_required
def end_session(record_id):
    record = next((r for r in sessions.sessions_of(_user()) if r.id == record_id and not sessions.is_current(r)), None)
    if record is None:
        abort(404, description=f"session {record_id} does not exist (this browser's own one ends with Sign out)")
    sessions.end_record(record)
    return _answer("sessions", _user(), session_notice="That session was signed out.")

"""Server-side sessions (SPEC §12): sign-out, a password change and "sign out everywhere" end them for real.

Flask's signed session cookie holds only a random session id (``_user_id``); the database holds its
SHA-256 in ``runtime.UserSession`` with the owner, times, browser and address. A row is valid while its
user exists, is active and has the password hash it was made with (``password_mark``, a SHA-256 kept on
the server), and while it is younger than ``SESSION_MAX_DAYS`` and was used in the last
``SESSION_IDLE_DAYS``. Nothing derived from the password hash ever reaches the cookie.
"""

import datetime as dt
import hashlib
import secrets

from flask import current_app, has_request_context, request, session
from flask_login import login_user, user_logged_out

from ..models import User
from ..runtime import UserSession
from ..signals import config_restored
from .clock import now
from .tokens import sha256_hex

TOUCH_RESOLUTION = dt.timedelta(minutes=1)  # last_seen_at is written at most once a minute
PENDING_LIFETIME = dt.timedelta(minutes=5)  # between the right password and the 2FA code


def password_mark(user):
    """What a session remembers of its user's password: changes whenever the hash (or the account) does."""
    material = f"{user.id}\0{user.hashed_password}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _limits():
    config = current_app.config
    return dt.timedelta(days=config["SESSION_MAX_DAYS"]), dt.timedelta(days=config["SESSION_IDLE_DAYS"])


def start(user, pending=False):
    """Record a new session of ``user`` (this request's browser and address); return its cookie id.

    ``sign_in`` is the way in for a browser; the sanity check and tests seed a client's cookie with it."""
    plain = secrets.token_urlsafe(32)
    moment = now()
    agent = request.user_agent.string if has_request_context() else ""
    address = request.remote_addr if has_request_context() else ""
    UserSession.create(
        session_hash=sha256_hex(plain),
        user_id=user.id,
        password_mark=password_mark(user),
        is_pending=pending,
        created_at=moment,
        last_seen_at=moment,
        user_agent=(agent or "")[:300],
        address=(address or "")[:64],
    )
    return plain


def _record(plain):
    if not isinstance(plain, str) or not plain or len(plain) > 128:
        return None
    return UserSession.get_or_none(UserSession.session_hash == sha256_hex(plain))


def _still_valid(record, user, moment):
    if user is None or not user.is_active or record.password_mark != password_mark(user):
        return False
    if record.is_pending:
        return moment - record.created_at <= PENDING_LIFETIME
    longest, idle = _limits()
    return moment - record.created_at <= longest and moment - record.last_seen_at <= idle


def load(plain):
    """The user of the session whose cookie id is ``plain`` (its last use stamped), or None.

    A record that is no longer valid is deleted, so it cannot come back."""
    record = _record(plain)
    if record is None or record.is_pending:
        return None
    moment = now()
    user = User.get_or_none(User.id == record.user_id)
    if not _still_valid(record, user, moment):
        UserSession.delete().where(UserSession.id == record.id).execute()
        return None
    if moment - record.last_seen_at >= TOUCH_RESOLUTION:
        UserSession.update(last_seen_at=moment).where(UserSession.id == record.id).execute()
    user.session_id, user.session_record = plain, record
    return user


def sign_in(user, fresh_cookie=True):
    """Start a server-side session for ``user`` in this browser and sign it in with flask-login.

    ``fresh_cookie`` clears everything of the previous cookie session first (after a sign-in); False keeps
    the CSRF token (a password change on an open page), while the session id is still a new one."""
    end(session.get("_user_id"))
    if fresh_cookie:
        session.clear()
    purge_expired()
    user.session_id = start(user)
    login_user(user)
    session.pop("_id", None)  # flask-login's hash of address and browser: not used (no session protection)


def start_pending(user):
    """The password was right and a 2FA code is still to come: a short-lived record; return its id."""
    return start(user, pending=True)


def pending_user(plain):
    """The user of a pending record younger than five minutes whose password is unchanged, or None."""
    record = _record(plain)
    if record is None or not record.is_pending:
        return None
    user = User.get_or_none(User.id == record.user_id)
    if not _still_valid(record, user, now()):
        end(plain)
        return None
    return user


def end(plain):
    """End the session whose cookie id is ``plain`` (nothing happens for an unknown one)."""
    if isinstance(plain, str) and plain and len(plain) <= 128:
        UserSession.delete().where(UserSession.session_hash == sha256_hex(plain)).execute()


def end_record(record):
    UserSession.delete().where(UserSession.id == record.id).execute()


def end_all(user_id, keep=None):
    """End every session of user ``user_id`` (but the one whose cookie id is ``keep``); return how many."""
    query = UserSession.delete().where(UserSession.user_id == user_id)
    if keep:
        query = query.where(UserSession.session_hash != sha256_hex(keep))
    return query.execute()


def sessions_of(user, moment=None):
    """The valid signed-in sessions of ``user``, most recently used first."""
    moment = moment or now()
    rows = (
        UserSession.select()
        .where((UserSession.user_id == user.id) & (UserSession.is_pending == False))  # noqa: E712
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return [row for row in rows if _still_valid(row, user, moment)]


def is_current(record):
    """True when ``record`` is the session of this request."""
    plain = session.get("_user_id")
    return isinstance(plain, str) and record.session_hash == sha256_hex(plain)


def purge_expired():
    """Delete records past the absolute or idle limit, and pending ones past five minutes."""
    moment = now()
    longest, idle = _limits()
    UserSession.delete().where(
        (UserSession.created_at < moment - longest)
        | (UserSession.last_seen_at < moment - idle)
        | ((UserSession.is_pending == True) & (UserSession.created_at < moment - PENDING_LIFETIME))  # noqa: E712
    ).execute()


def purge_orphans():
    """Delete the records of users that are gone, disabled or have another password (after a restore)."""
    users = {user.id: user for user in User.select()}
    stale = [
        row.id
        for row in UserSession.select()
        if row.user_id not in users
        or not users[row.user_id].is_active
        or row.password_mark != password_mark(users[row.user_id])
    ]
    if stale:
        UserSession.delete().where(UserSession.id.in_(stale)).execute()
    return len(stale)


def follow_rehash(user_id, old_hash, new_hash):
    """A sign-in upgraded the hash's parameters (same password): the user's sessions stay valid."""
    old = password_mark(User(id=user_id, hashed_password=old_hash))
    new = password_mark(User(id=user_id, hashed_password=new_hash))
    UserSession.update(password_mark=new).where(
        (UserSession.user_id == user_id) & (UserSession.password_mark == old)
    ).execute()


def _on_logout(_app, user=None, **_extra):
    end(getattr(user, "session_id", None))


def _after_restore(_sender, **_extra):
    purge_orphans()


def init_app(app):
    """Check the limits, end the record at every sign-out, and purge records a restore made stale."""
    for key in ("SESSION_MAX_DAYS", "SESSION_IDLE_DAYS"):
        if not isinstance(app.config.get(key), int) or app.config[key] < 1:
            raise RuntimeError(f"VIBENVR_{key} must be a whole number of days, at least 1; got {app.config.get(key)!r}")
    app.config["SESSION_PROTECTION"] = None  # the server-side record protects the session; no hash in the cookie
    user_logged_out.connect(_on_logout, weak=False)
    config_restored.connect(_after_restore, weak=False)

    @app.before_request
    def _no_remember_cookie():
        """The app never sets flask-login's remember cookie; one sent anyway is ignored and deleted."""
        name = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        if name in request.cookies:
            session["_remember"] = "clear"

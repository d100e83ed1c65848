"""What the backup API and the System Backups pages share: the download answer and the sign-out after a restore."""

import io

from flask import request, send_file
from flask_login import current_user, logout_user

from ..models import User
from . import service
from .document import envelope
from .names import is_encrypted_name


def download_response(name, encrypt="stored", phrase=None):
    """Backup ``name`` as an attachment, never cached (a bad name is a 400, a missing file a 404), as stored or
    as chosen (``service.download``: plain, encrypted to the recipients, or with a passphrase)."""
    name, data = service.download(name, encrypt, phrase)
    kind = "application/octet-stream" if is_encrypted_name(name) else "application/json"  # age files are binary
    response = send_file(io.BytesIO(data), mimetype=kind, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


def kit_response(by):
    """The emergency kit as a text attachment, never cached; recorded as handed out to ``by``."""
    name, text = service.emergency_kit(by)
    response = send_file(
        io.BytesIO(text.encode("utf-8")), mimetype="text/plain", as_attachment=True, download_name=name
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def still_admin(user):
    """After a restore: does the signed-in account still exist, active, admin, with the same password?"""
    fresh = User.get_or_none(User.id == user.id)
    return (
        fresh is not None
        and fresh.is_active
        and fresh.is_admin
        and fresh.username == user.username
        and fresh.hashed_password == user.hashed_password
    )


def sign_out_if_no_longer_admin():
    """Sign the current user out when a restore took their admin account away; the username, or None."""
    if not current_user.is_authenticated or still_admin(current_user):
        return None
    username = current_user.username
    logout_user()
    return username


def opening_keys():
    """The identity (multipart field or file ``identity``) or ``passphrase`` an encrypted upload opens with,
    for this request only (SPEC §13): never stored, never logged."""
    given = request.files.get("identity")
    text = given.stream.read(64 * 1024).decode("utf-8", "replace") if given else request.form.get("identity")
    identity = envelope.parse_identity(text, "the identity") if text and text.strip() else None
    phrase = request.form.get("passphrase") or None
    return identity, phrase

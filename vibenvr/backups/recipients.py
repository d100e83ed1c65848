"""The admins' own backup recipients (SPEC §13): named public keys every encrypted backup is also encrypted
to, so a copy opens on a laptop when the server and its key are gone.

Public keys are configuration, not secrets: they travel in backups (section ``backup_recipients``) and are
shown in full. A key is checked by ``envelope.parse_recipient`` (through the backup schema's validator, so
what the API accepts a restore accepts) and stored in its canonical spelling; removing one affects only
the backups written afterwards.
"""

import logging

from peewee import IntegrityError

from ..db import current_row, save_changes, write_transaction
from ..models import BackupRecipient
from ..timeutil import iso
from ..validation import ConflictError, clean_object
from .document import envelope
from .document.schema import ITEM_SCHEMAS

log = logging.getLogger(__name__)

#: What an admin gives: the backup item's own fields without ``id`` and ``created_at``.
RECIPIENT_SCHEMA = {key: ITEM_SCHEMAS["backup_recipients"][key] for key in ("name", "recipient")}
KINDS = {"age1": "age", "ssh-ed25519": "SSH Ed25519", "ssh-rsa": "SSH RSA"}


def kind_of(text):
    """``age``, ``SSH Ed25519`` or ``SSH RSA``: what a stored key is, for lists."""
    return next((label for prefix, label in KINDS.items() if text.startswith(prefix)), "key")


def short(text):
    """The key shortened for a list (``age1qyqs…x4tn``, ``ssh-ed25519 AAAAC3Nz…Hc8k laptop``)."""
    kind, body, comment = ("", text, "") if text.startswith("age1") else (text.split(" ", 2) + [""])[:3]
    shown = body if len(body) <= 24 else f"{body[:12]}…{body[-8:]}"
    return " ".join(part for part in (kind, shown, comment) if part)


def to_dict(row):
    return {
        "id": row.id,
        "name": row.name,
        "recipient": row.recipient,
        "kind": kind_of(row.recipient),
        "created_at": iso(row.created_at),
    }


def list_recipients():
    return list(BackupRecipient.select().order_by(BackupRecipient.name, BackupRecipient.id))


def count():
    return BackupRecipient.select().count()


def public_keys():
    """The pyrage recipients of every stored key (validated when saved or restored)."""
    return [envelope.parse_recipient(row.recipient)[1] for row in list_recipients()]


def _check_unique(clean, exclude_id=None):
    for field, what in (("name", "a recipient named"), ("recipient", "this key is already added as")):
        if field not in clean:
            continue
        query = BackupRecipient.select().where(getattr(BackupRecipient, field) == clean[field])
        if exclude_id is not None:
            query = query.where(BackupRecipient.id != exclude_id)
        other = query.first()
        if other is not None:
            shown = f'"{clean["name"]}" already exists' if field == "name" else f'"{other.name}"'
            raise ConflictError(f"{field}: {what} {shown}")


def create_recipient(data):
    clean, _ = clean_object(RECIPIENT_SCHEMA, data)
    try:
        with write_transaction():
            _check_unique(clean)
            row = BackupRecipient.create(**clean)
    except IntegrityError:
        raise ConflictError("name: a recipient with this name or key was added meanwhile; reload") from None
    log.info('backup recipient "%s" added (%s)', row.name, kind_of(row.recipient))
    return row


def update_recipient(row, data):
    clean, _ = clean_object(RECIPIENT_SCHEMA, data, partial=True)
    try:
        with write_transaction():
            row = current_row(BackupRecipient, row.id, "backup recipient")
            _check_unique(clean, exclude_id=row.id)
            save_changes(row, clean)
    except IntegrityError:
        raise ConflictError("name: a recipient with this name or key was added meanwhile; reload") from None
    return row


def delete_recipient(row):
    with write_transaction():
        BackupRecipient.delete().where(BackupRecipient.id == row.id).execute()
    log.info('backup recipient "%s" removed; backups written from now on are not encrypted to it', row.name)

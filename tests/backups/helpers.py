"""Backup test helpers: snapshots, documents to tamper with, a rich configuration, broken age files."""

import contextlib
import datetime as dt

from pyrage import x25519

from vibenvr.backups.document import envelope
from vibenvr.backups.document.canonical import SECTIONS, compute_checksum
from vibenvr.backups.document.export import export_document
from vibenvr.db import db
from vibenvr.models import RecoveryCode, TrustedDevice
from vibenvr.settings.service import update_settings

from builders import make_camera, make_group, make_profile, make_recipient, make_token, make_user

#: Public keys for the backup_recipients section (SPEC §13); nobody holds their identities.
RECIPIENTS = (
    "age1250heznxfuuatvcjxkmv4athg6u3zrsnzhp59glgs0h6q9vl530sd3tesc",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN+3Lt/u+IkdlAdyiZgQb2ZxYns2737EztCwrQJIozm0 anna@laptop",
)


def location_item(kind):
    """A backup_locations item of ``kind`` with every field, as export writes it (id, name, created_at aside)."""
    item = {
        "kind": kind,
        "enabled": True,
        "receives": ["auto", "manual"],
        "retention": None,
        **dict.fromkeys(("path", "host", "username", "password", "private_key", "host_key", "url"), ""),
        **dict.fromkeys(("endpoint_url", "region", "bucket", "prefix", "access_key_id", "secret_access_key"), ""),
        "tls_fingerprint": "",
        "port": 22,
    }
    item.update(
        {
            "folder": {"path": "/mnt/nas/vibenvr"},
            "s3": {
                "endpoint_url": "https://s3.example.com",
                "bucket": "nvr-backups",
                "prefix": "home/",
                "access_key_id": "AKIAEXAMPLE",
                "secret_access_key": "s3-SECRETPW9",
                "region": "eu-west-1",
            },
            "sftp": {"host": "nas.local", "username": "backup", "password": "sftp-SECRETPW8", "path": "backups"},
            "webdav": {"url": "https://cloud.example.com/dav/backups", "username": "anna", "password": "dav-SECRETPW7"},
        }[kind]
    )
    return item


FAKE_ARGON2 = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PHRASE = "correct horse battery staple"


def sections(doc):
    """The configuration part of a document: what a round trip must keep exactly."""
    return {key: doc[key] for key in SECTIONS}


def snapshot():
    """The whole configuration as export reads it, less usage stamps (a token's ``last_used_at``),
    which the very request under test may move."""
    state = sections(export_document())
    for token in state["api_tokens"]:
        token["last_used_at"] = None
    return state


def backup_files(app):
    folder = app.config["BACKUP_DIR"]
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def recount(doc):
    """Make ``counts`` agree with the sections again after a test edited them."""
    if isinstance(doc.get("counts"), dict):
        doc["counts"] = {s: len(doc[s]) for s in SECTIONS if isinstance(doc.get(s), list | dict)}
    return doc


def signed(doc):
    """``doc`` with a fresh checksum, for documents edited by a test."""
    doc = dict(doc)
    doc["checksum"] = compute_checksum(doc)
    return doc


def build_rich_config():
    """Every kind of row: masks, zones, an overnight schedule, unicode, 2FA users, tokens, codes, devices."""
    profile = make_profile(name="Fast disk", path="/recordings/fast")
    garage = make_camera(
        name="Garage 🚗",
        storage_profile_id=profile.id,
        privacy_masks=[[[0.1, 0.1], [0.3, 0.1], [0.3, 0.4]], [[0.5, 0.5], [0.9, 0.5], [0.9, 0.9], [0.5, 0.9]]],
        motion_zones=[[[0, 0], [1, 0], [1, 1]]],
        schedule={"monday": [["08:00", "12:00"], ["20:00", "07:00"]], "sunday": [], "friday": [["00:00", "24:00"]]},
        extra={"ai_object_types": ["person", "car"], "legacy_flag": True},
    )
    nursery = make_camera(name="Nursery", schedule={"tuesday": [["20:00", "07:00"]]}, enabled=False)
    make_camera(name="Spare", privacy_masks=[], schedule={})
    outside = make_group(name="Outside", camera_ids=[garage.id])
    make_group(name="Indoor", camera_ids=[nursery.id, garage.id])
    make_group(name="Empty")
    admin = make_user("alice", role="admin", email="alice@example.com", totp_secret=TOTP_SECRET, is_2fa_enabled=True)
    viewer = make_user(
        "zoë",
        role="viewer",
        restrict_camera_access=True,
        allowed_camera_ids=[nursery.id],
        allowed_group_ids=[outside.id],
        language="fr",
    )
    make_token(admin, name="ci")
    make_token(viewer, name="phone", expires_days=30)
    for _ in range(3):
        RecoveryCode.create(user=admin, code_hash=FAKE_ARGON2)
    TrustedDevice.create(
        user=admin, name="Laptop", token_hash="ab" * 32, expires_at=dt.datetime(2026, 12, 29, 22, 40, 0)
    )
    update_settings({"system_name": "Home NVR", "backup_auto_enabled": True, "smtp_port": 2525, "max_storage_gb": 12.5})
    make_recipient(name="Anna's laptop", recipient=RECIPIENTS[1])
    return {"admin": admin, "viewer": viewer, "garage": garage}


@contextlib.contextmanager
def refusing_inserts(table):
    """A real database failure: a trigger that makes every INSERT into ``table`` fail."""
    if type(db.obj).__name__.startswith("Postgres"):
        db.execute_sql(
            "CREATE FUNCTION refuse_insert() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql"
        )
        db.execute_sql(f"CREATE TRIGGER refuse BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_insert()")
        drop = [f"DROP TRIGGER refuse ON {table}", "DROP FUNCTION refuse_insert()"]
    else:
        db.execute_sql(
            f"CREATE TRIGGER refuse BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )
        drop = ["DROP TRIGGER refuse"]
    try:
        yield
    finally:
        for sql in drop:
            db.execute_sql(sql)


# --- broken or mismatched age files (SPEC §13) -------------------------------------------------------
# HOSTILE rows: (id, make(backup bytes, identity) -> the file, what the opener is given, expected message).
# ``{"identities": True}``: the identity ``make`` encrypted to; ``{"phrase": …}``: that passphrase.


def _flip(data, at):
    changed = bytearray(data)
    changed[at] ^= 0x01
    return bytes(changed)


HOSTILE = [
    ("plain JSON", lambda b, i: b, {"identities": True}, "not an age-encrypted file"),
    (
        "truncated ciphertext",
        lambda b, i: envelope.encrypt(b, [i.to_public()])[:-200],
        {"identities": True},
        "damaged or altered",
    ),
    (
        "a flipped byte",
        lambda b, i: _flip(envelope.encrypt(b, [i.to_public()]), -50),
        {"identities": True},
        "damaged or altered",
    ),
    (
        "a header cut short",
        lambda b, i: envelope.encrypt(b, [i.to_public()])[:60],
        {"identities": True},
        "ends too soon",
    ),
    (
        "an unknown recipient type",
        lambda b, i: envelope.MAGIC + b"-> quantum-x abc\nAAAA\n--- x\n" + b"y" * 64,
        {"identities": True},
        "kind of key this app does not know",
    ),
    (
        "a huge header",
        lambda b, i: envelope.MAGIC + b"-> X25519 " + b"A" * 100_000,
        {"identities": True},
        "longer than 64 KB",
    ),
    (
        "another key's file",
        lambda b, i: envelope.encrypt(b, [x25519.Identity.generate().to_public()]),
        {"identities": True},
        "keys this server does not hold",
    ),
    (
        "a key file opened with a passphrase",
        lambda b, i: envelope.encrypt(b, [i.to_public()]),
        {"phrase": PHRASE},
        "not with a passphrase",
    ),
    (
        "a passphrase file opened with a key",
        lambda b, i: envelope.encrypt_with_passphrase(b, PHRASE),
        {"identities": True},
        "encrypted with a passphrase",
    ),
    (
        "the wrong passphrase",
        lambda b, i: envelope.encrypt_with_passphrase(b, PHRASE),
        {"phrase": "not the passphrase at all"},
        "passphrase is wrong",
    ),
    (
        "ASCII armor",
        lambda b, i: envelope.ARMOR + b"\nYWdl\n-----END AGE ENCRYPTED FILE-----\n",
        {"identities": True},
        "ASCII-armored",
    ),
]

"""The configuration model (SPEC §2). Field names are the vocabulary of the API, the backup and the pages."""

from flask_login import UserMixin
from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CharField,
    CompositeKey,
    DateTimeField,
    DoubleField,
    ForeignKeyField,
    IntegerField,
    Model,
    NodeList,
    SqliteDatabase,
    TextField,
)

from .db import JSONField, db
from .settings.registry import SETTINGS
from .timeutil import utcnow


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class IdField(AutoField):
    """An integer id that is never handed out twice (SPEC §12): AUTOINCREMENT on SQLite, where a plain
    INTEGER PRIMARY KEY reuses the highest id after a delete; PostgreSQL sequences never reuse."""

    def ddl(self, ctx):
        node = super().ddl(ctx)
        return NodeList((node, SQL("AUTOINCREMENT"))) if isinstance(db.obj, SqliteDatabase) else node


class IdModel(BaseModel):
    """A table whose rows have an id (everything but settings and memberships)."""

    id = IdField()


class Setting(BaseModel):
    """One global setting; ``value`` holds the typed value as JSON (see settings.registry)."""

    key = CharField(primary_key=True, max_length=100)
    value = JSONField(null=True)


class StorageProfile(IdModel):
    name = CharField(unique=True, max_length=100)
    path = CharField(max_length=1024)
    description = TextField(default="")
    max_size_gb = DoubleField(default=0.0)


class Camera(IdModel):
    name = CharField(unique=True, max_length=100)
    location = CharField(default="", max_length=200)
    rtsp_url = CharField(default="", max_length=2048)
    sub_rtsp_url = CharField(default="", max_length=2048)
    enabled = BooleanField(default=True)
    resolution_width = IntegerField(default=1920)
    resolution_height = IntegerField(default=1080)
    framerate = IntegerField(default=15)
    rotation = IntegerField(default=0)
    recording_mode = CharField(default="motion", max_length=20)
    recording_quality = IntegerField(default=80)
    retention_days = IntegerField(default=30)
    storage_profile = ForeignKeyField(StorageProfile, null=True, on_delete="SET NULL", backref="cameras")
    motion_threshold = IntegerField(default=1500)
    motion_sensitivity = IntegerField(default=50)
    motion_gap = IntegerField(default=10)
    pre_capture_seconds = IntegerField(default=2)
    post_capture_seconds = IntegerField(default=5)
    privacy_masks = JSONField(default=list)
    motion_zones = JSONField(default=list)
    schedule = JSONField(default=dict)
    notify_email = BooleanField(default=False)
    notify_telegram = BooleanField(default=False)
    notify_webhook = BooleanField(default=False)
    notify_email_to = CharField(default="", max_length=320)
    overlay_text = CharField(default="", max_length=200)
    onvif_host = CharField(default="", max_length=255)
    onvif_port = IntegerField(default=80)
    onvif_username = CharField(default="", max_length=100)
    onvif_password = CharField(default="", max_length=200)
    sort_order = IntegerField(default=0)
    extra = JSONField(default=dict)
    created_at = DateTimeField(default=utcnow)


class Group(IdModel):
    name = CharField(unique=True, max_length=100)
    description = TextField(default="")


class CameraGroup(BaseModel):
    """Membership of a camera in a group (many-to-many)."""

    camera = ForeignKeyField(Camera, on_delete="CASCADE", backref="memberships")
    group = ForeignKeyField(Group, on_delete="CASCADE", backref="memberships")

    class Meta:
        primary_key = CompositeKey("camera", "group")


class User(UserMixin, IdModel):
    username = CharField(unique=True, max_length=64)
    email = CharField(default="", max_length=320)
    hashed_password = CharField(max_length=255)
    role = CharField(default="viewer", max_length=10)
    language = CharField(default="en", max_length=10)
    is_active_user = BooleanField(default=True, column_name="is_active")
    totp_secret = CharField(null=True, max_length=64)
    is_2fa_enabled = BooleanField(default=False)
    restrict_camera_access = BooleanField(default=False)
    allowed_camera_ids = JSONField(default=list)
    allowed_group_ids = JSONField(default=list)
    extra = JSONField(default=dict)
    created_at = DateTimeField(default=utcnow)

    @property
    def is_active(self):
        return self.is_active_user

    @property
    def is_admin(self):
        return self.role == "admin"

    def get_id(self):
        """The random id of this user's server-side session (``auth.sessions``); never the hash, nor any of it."""
        session_id = getattr(self, "session_id", None)
        if session_id is None:
            raise RuntimeError("no session for this user: sign in with vibenvr.auth.sessions.sign_in(user)")
        return session_id

    # flask-login's UserMixin compares users by get_id(), the session id: two loads of one user are one user.
    def __eq__(self, other):
        return isinstance(other, User) and self.id is not None and self.id == other.id

    def __ne__(self, other):
        return not self == other

    __hash__ = IdModel.__hash__


class ApiToken(IdModel):
    name = CharField(max_length=100)
    user = ForeignKeyField(User, on_delete="CASCADE", backref="api_tokens")
    token_hash = CharField(unique=True, max_length=64)
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
    expires_at = DateTimeField(null=True)
    is_active = BooleanField(default=True)


class RecoveryCode(IdModel):
    user = ForeignKeyField(User, on_delete="CASCADE", backref="recovery_codes")
    code_hash = CharField(max_length=255)
    created_at = DateTimeField(default=utcnow)


class TrustedDevice(IdModel):
    user = ForeignKeyField(User, on_delete="CASCADE", backref="trusted_devices")
    name = CharField(default="", max_length=200)
    token_hash = CharField(unique=True, max_length=64)
    last_used = DateTimeField(null=True)
    expires_at = DateTimeField()
    created_at = DateTimeField(default=utcnow)


class BackupRecipient(IdModel):
    """A public key of the admins' own that every encrypted backup is also encrypted to (SPEC §13): an age
    recipient (``age1…``) or an SSH public key, stored as ``envelope.parse_recipient`` writes it."""

    name = CharField(unique=True, max_length=100)
    recipient = CharField(unique=True, max_length=4096)
    created_at = DateTimeField(default=utcnow)


class BackupLocation(IdModel):
    """A place every backup is also copied to (SPEC §14): a folder, SFTP, WebDAV or S3. The columns are the
    location vocabulary of ``backups/locations/schema.py``; a kind's unused fields stay empty. The
    credentials are configuration (they travel in backups), answered write-only."""

    name = CharField(unique=True, max_length=100)
    kind = CharField(max_length=10)
    enabled = BooleanField(default=True)
    receives = JSONField(default=lambda: ["auto", "manual"])
    retention = IntegerField(null=True)  # automatic copies kept there; None: the local backup_auto_retention
    path = CharField(default="", max_length=1024)
    host = CharField(default="", max_length=253)
    port = IntegerField(default=22)
    username = CharField(default="", max_length=200)
    password = CharField(default="", max_length=1000)
    private_key = TextField(default="")
    host_key = CharField(default="", max_length=4096)  # an SSH host key as pinned: RSA 8192 fits
    url = CharField(default="", max_length=2048)
    endpoint_url = CharField(default="", max_length=2048)
    region = CharField(default="", max_length=100)
    bucket = CharField(default="", max_length=63)
    prefix = CharField(default="", max_length=1024)
    access_key_id = CharField(default="", max_length=200)
    secret_access_key = CharField(default="", max_length=1000)
    tls_fingerprint = CharField(default="", max_length=120)
    created_at = DateTimeField(default=utcnow)


ID_MODELS = [
    StorageProfile,
    Camera,
    Group,
    User,
    ApiToken,
    RecoveryCode,
    TrustedDevice,
    BackupRecipient,
    BackupLocation,
]

ALL_MODELS = [
    Setting,
    StorageProfile,
    Camera,
    Group,
    CameraGroup,
    User,
    ApiToken,
    RecoveryCode,
    TrustedDevice,
    BackupRecipient,
    BackupLocation,
]


def seed_defaults():
    """Insert every registered setting that is missing, with its default (first start, upgrades)."""
    rows = [{"key": s.key, "value": s.default} for s in SETTINGS.values()]
    with db.atomic():
        Setting.insert_many(rows).on_conflict_ignore().execute()

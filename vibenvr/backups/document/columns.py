"""Which columns each backup section holds, and how values travel between the database and the file.

Camera, group and storage-profile columns come from the API schemas, so a field added there is in the
backup too. Reading and writing go through the cursor (SQL built by Peewee from the models), skipping
per-row model objects: exporting and restoring 25,000 rows must stay close to raw SQLite speed.
"""

from dataclasses import dataclass

from peewee import BooleanField, DateTimeField, DoubleField, ForeignKeyField

from ...cameras.schema import CAMERA_SCHEMA
from ...db import JSONField, db
from ...groups.schema import GROUP_SCHEMA
from ...models import (
    ApiToken,
    BackupLocation,
    BackupRecipient,
    Camera,
    CameraGroup,
    Group,
    RecoveryCode,
    Setting,
    StorageProfile,
    TrustedDevice,
    User,
)
from ...settings.registry import SETTINGS
from ...storage.schema import STORAGE_PROFILE_SCHEMA
from ...timeutil import parse_iso
from ..locations.schema import LOCATION_SCHEMA
from .rowtext import json_out, row_texts, time_out


@dataclass(frozen=True)
class Column:
    key: str  # the name in the backup file: the shared vocabulary
    field: object  # the Peewee field it is read from
    kind: str  # plain, bool, float, json, time or owner (a username standing for a user id)
    target: object = None  # the field written on restore when it differs from ``field``

    @property
    def write_field(self):
        return self.target or self.field


@dataclass(frozen=True)
class Table:
    section: str
    model: type
    columns: tuple

    @property
    def keys(self):
        return tuple(c.key for c in self.columns)


def _kind(field):
    if isinstance(field, BooleanField):
        return "bool"
    if isinstance(field, DoubleField):
        return "float"
    if isinstance(field, JSONField):
        return "json"
    if isinstance(field, DateTimeField):
        return "time"
    return "plain"


def _columns(model, keys, renames=None):
    renames = renames or {}
    out = []
    for key in keys:
        field = getattr(model, renames.get(key, key))
        out.append(Column(key, field, "plain" if isinstance(field, ForeignKeyField) else _kind(field)))
    return tuple(out)


def _owner():
    return Column("username", User.username, "owner")


TABLES = (
    Table("storage_profiles", StorageProfile, _columns(StorageProfile, ("id", *STORAGE_PROFILE_SCHEMA))),
    Table(
        "cameras",
        Camera,
        _columns(Camera, ("id", *CAMERA_SCHEMA, "created_at"), {"storage_profile_id": "storage_profile"}),
    ),
    Table("groups", Group, _columns(Group, ("id", *GROUP_SCHEMA))),
    Table(
        "associations",
        CameraGroup,
        _columns(CameraGroup, ("camera_id", "group_id"), {"camera_id": "camera", "group_id": "group"}),
    ),
    Table(
        "users",
        User,
        _columns(
            User,
            (
                "id",
                "username",
                "email",
                "hashed_password",
                "role",
                "language",
                "is_active",
                "is_2fa_enabled",
                "totp_secret",
                "restrict_camera_access",
                "allowed_camera_ids",
                "allowed_group_ids",
                "extra",
                "created_at",
            ),
            {"is_active": "is_active_user"},
        ),
    ),
    Table(
        "api_tokens",
        ApiToken,
        (
            Column("id", ApiToken.id, "plain"),
            Column("name", ApiToken.name, "plain"),
            Column("username", User.username, "owner", ApiToken.user),
            *_columns(ApiToken, ("token_hash", "created_at", "last_used_at", "expires_at", "is_active")),
        ),
    ),
    Table(
        "recovery_codes",
        RecoveryCode,
        (
            Column("id", RecoveryCode.id, "plain"),
            Column("username", User.username, "owner", RecoveryCode.user),
            *_columns(RecoveryCode, ("code_hash", "created_at")),
        ),
    ),
    Table(
        "trusted_devices",
        TrustedDevice,
        (
            Column("id", TrustedDevice.id, "plain"),
            Column("username", User.username, "owner", TrustedDevice.user),
            *_columns(TrustedDevice, ("token_hash", "name", "last_used", "expires_at", "created_at")),
        ),
    ),
    Table("backup_recipients", BackupRecipient, _columns(BackupRecipient, ("id", "name", "recipient", "created_at"))),
    Table("backup_locations", BackupLocation, _columns(BackupLocation, ("id", *LOCATION_SCHEMA, "created_at"))),
)

TABLES_BY_SECTION = {t.section: t for t in TABLES}


# --- database -> file ----------------------------------------------------------------------------


_OUT = {"bool": bool, "float": float, "json": json_out, "time": time_out}


def _fetch(table):
    """The table's raw rows (as the driver returns them), ordered by id."""
    query = table.model.select(*[c.field for c in table.columns])
    if any(c.kind == "owner" for c in table.columns):
        query = query.join(User)
    order = [table.model.id] if "id" in table.keys else [c.field for c in table.columns]
    sql, params = query.order_by(*order).sql()
    return db.execute_sql(sql, params).fetchall()


def _to_dicts(table, rows):
    """Raw rows as dicts in the backup vocabulary. Values are converted column by column (``map``
    runs the loop in C), then zipped into rows."""
    if not rows:
        return []
    values = list(zip(*rows, strict=True))
    for i, column in enumerate(table.columns):
        convert = _OUT.get(column.kind)
        if convert is not None:
            values[i] = list(map(_or_none(convert), values[i])) if None in values[i] else list(map(convert, values[i]))
    keys = table.keys
    return [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)]


def read_table(table):
    """Every row of ``table`` as a list of dicts in the backup vocabulary, ordered by id."""
    return _to_dicts(table, _fetch(table))


def table_json(table):
    """``(canonical JSON text of the section, number of rows)``, the text ``json.dumps(read_table(table),
    sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` gives, built by ``rowtext.row_texts``."""
    rows = _fetch(table)
    return "[" + ",".join(row_texts(table, rows)) + "]", len(rows)


def _or_none(convert):
    return lambda value: None if value is None else convert(value)


def read_settings():
    """The registered settings as {key: typed value}, defaults filled in, in registry order, plus
    ``extra`` (settings this version does not use) when there are any."""
    stored = {}
    sql, params = Setting.select(Setting.key, Setting.value).sql()
    for key, value in db.execute_sql(sql, params):
        if key in SETTINGS or key == "extra":
            stored[key] = json_out(value)
    settings = {key: stored.get(key, definition.default) for key, definition in SETTINGS.items()}
    if stored.get("extra"):  # settings this version does not use, kept from a VibeNVR 1.x file
        settings["extra"] = stored["extra"]
    return settings


# --- file -> database ----------------------------------------------------------------------------


def _time_in(value):
    """ISO 8601 with Z (as validation leaves it) to the text both SQLite and PostgreSQL accept."""
    if len(value) == 20 and value[10] == "T" and value[19] == "Z":
        return f"{value[:10]} {value[11:19]}"
    return str(parse_iso(value))


def write_converters(table):
    """[(index, function)] turning the file's values into database parameters."""
    out = []
    for i, column in enumerate(table.columns):
        if column.kind == "json":
            out.append((i, column.field.db_value))
        elif column.kind == "time":
            out.append((i, _time_in))
    return out


def insert_sql(model, fields):
    """``INSERT INTO "table" ("a", "b") VALUES (?, ?)``; every identifier comes from the models."""
    names = ", ".join(f'"{field.column_name}"' for field in fields)
    marks = ", ".join([db.param] * len(fields))
    return f'INSERT INTO "{model._meta.table_name}" ({names}) VALUES ({marks})'  # noqa: S608

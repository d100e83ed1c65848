"""``merge`` restores (SPEC §6): add and update by natural key, delete nothing.

Natural keys: setting key, storage profile name, camera name, group name, username, token hash (API
tokens and trusted devices), for recovery codes the owner with the code hash, and for backup recipients
the public key (or else the name). Ids in the file are
the file's own: references are carried over through the names they stand for, and new rows get new ids.
"""

from ..models import (
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
from ..timeutil import parse_iso

NAMED = {"storage_profiles": (StorageProfile, "name"), "cameras": (Camera, "name"), "groups": (Group, "name")}
#: The fields of a user item written onto its ``User`` row as they are (``username`` is the natural key;
#: ``is_active``, the allowed ids and ``created_at`` are mapped in ``_upsert_users``).
COPIED_USER_FIELDS = (
    "email",
    "hashed_password",
    "role",
    "language",
    "is_2fa_enabled",
    "totp_secret",
    "restrict_camera_access",
    "extra",
)


def _existing(model, key):
    field = getattr(model, key)
    return dict(model.select(field, model.id).tuples())


def merge(valid, chosen, result):
    """Apply ``valid`` by natural key inside the caller's transaction; fill ``result.counts``.

    Only the settings the file really holds are merged (a missing key does not reset one to its default).
    """
    doc, ids = valid.doc, {}
    if "settings" in chosen:
        given = {k: v for k, v in doc["settings"].items() if k in valid.given_settings}
        for key, value in given.items():
            Setting.insert(key=key, value=value).on_conflict(
                conflict_target=[Setting.key], update={Setting.value: value}
            ).execute()
        result.counts["settings"] = len(given)
    for section, (model, key) in NAMED.items():
        ids[section] = _upsert_named(doc, section, model, key, chosen, ids)
        if section in chosen:
            result.counts[section] = len(doc[section])
    if "associations" in chosen:
        have = set(CameraGroup.select(CameraGroup.camera, CameraGroup.group).tuples())
        links = {(ids["cameras"][a["camera_id"]], ids["groups"][a["group_id"]]) for a in doc["associations"]}
        new = sorted(links - have)
        if new:
            CameraGroup.insert_many([{"camera": c, "group": g} for c, g in new]).execute()
        result.counts["associations"] = len(doc["associations"])
    users = _upsert_users(doc, chosen, ids) if "users" in chosen else _existing(User, "username")
    if "users" in chosen:
        result.counts["users"] = len(doc["users"])
    _upsert_owned(doc, chosen, users, result)
    if "backup_recipients" in chosen:
        _upsert_recipients(doc["backup_recipients"])
        result.counts["backup_recipients"] = len(doc["backup_recipients"])
    if "backup_locations" in chosen:
        present = _existing(BackupLocation, "name")
        for item in doc["backup_locations"]:
            values = {k: v for k, v in item.items() if k not in ("id", "created_at")}
            if item["name"] in present:
                BackupLocation.update(**values).where(BackupLocation.id == present[item["name"]]).execute()
            else:
                BackupLocation.insert(**values, created_at=parse_iso(item["created_at"])).execute()
        result.counts["backup_locations"] = len(doc["backup_locations"])


def _upsert_recipients(items):
    """A key already here keeps its row (and takes the file's name when no other row has it); a name
    already here with another key takes the file's key (a key replaced under the same name); else a new row.
    Both columns are unique, so neither step may take what another row holds."""
    rows = {row.id: row for row in BackupRecipient.select()}
    for item in items:
        by_key = next((r for r in rows.values() if r.recipient == item["recipient"]), None)
        by_name = next((r for r in rows.values() if r.name == item["name"]), None)
        if by_key is not None:
            if by_name is None:
                by_key.name = item["name"]
                by_key.save()
        elif by_name is not None:
            by_name.recipient = item["recipient"]
            by_name.save()
        else:
            row = BackupRecipient.create(
                name=item["name"], recipient=item["recipient"], created_at=parse_iso(item["created_at"])
            )
            rows[row.id] = row


def _upsert_named(doc, section, model, key, chosen, ids):
    """Insert or update a section by name (when chosen); return {file id: database id}."""
    present = _existing(model, key)
    mapping = {}
    for item in doc[section]:
        if section not in chosen:
            mapping[item["id"]] = present.get(item[key])
            continue
        values = {k: v for k, v in item.items() if k not in ("id",)}
        if section == "cameras":
            profile = values.pop("storage_profile_id")
            values["storage_profile"] = ids["storage_profiles"].get(profile) if profile else None
            values["created_at"] = parse_iso(values["created_at"])
        if item[key] in present:
            model.update(**values).where(model.id == present[item[key]]).execute()
            mapping[item["id"]] = present[item[key]]
        else:
            mapping[item["id"]] = model.insert(**values).execute()
    return mapping


def _upsert_users(doc, chosen, ids):
    present = _existing(User, "username")
    for user in doc["users"]:
        values = {k: user[k] for k in COPIED_USER_FIELDS}
        values["is_active_user"] = user["is_active"]
        values["allowed_camera_ids"] = sorted(ids["cameras"][i] for i in user["allowed_camera_ids"])
        values["allowed_group_ids"] = sorted(ids["groups"][i] for i in user["allowed_group_ids"])
        if user["username"] in present:
            User.update(**values).where(User.id == present[user["username"]]).execute()
        else:
            values.update(username=user["username"], created_at=parse_iso(user["created_at"]))
            present[user["username"]] = User.insert(**values).execute()
    return present


def _times_from_iso(row, *keys):
    """The ISO 8601 texts of ``keys`` in a file's item as datetimes for the database (None stays None)."""
    return {k: parse_iso(row[k]) if row[k] else None for k in keys}


def _upsert_owned(doc, chosen, users, result):
    if "api_tokens" in chosen:
        for token in doc["api_tokens"]:
            values = {
                "name": token["name"],
                "user": users[token["username"]],
                "is_active": token["is_active"],
                **_times_from_iso(token, "created_at", "last_used_at", "expires_at"),
            }
            ApiToken.insert(token_hash=token["token_hash"], **values).on_conflict(
                conflict_target=[ApiToken.token_hash], update=values
            ).execute()
        result.counts["api_tokens"] = len(doc["api_tokens"])
    if "recovery_codes" in chosen:
        have = set(RecoveryCode.select(RecoveryCode.user, RecoveryCode.code_hash).tuples())
        for code in doc["recovery_codes"]:
            if (users[code["username"]], code["code_hash"]) not in have:
                RecoveryCode.insert(
                    user=users[code["username"]], code_hash=code["code_hash"], created_at=parse_iso(code["created_at"])
                ).execute()
        result.counts["recovery_codes"] = len(doc["recovery_codes"])
    if "trusted_devices" in chosen:
        for device in doc["trusted_devices"]:
            values = {
                "name": device["name"],
                "user": users[device["username"]],
                **_times_from_iso(device, "last_used", "expires_at", "created_at"),
            }
            TrustedDevice.insert(token_hash=device["token_hash"], **values).on_conflict(
                conflict_target=[TrustedDevice.token_hash], update=values
            ).execute()
        result.counts["trusted_devices"] = len(doc["trusted_devices"])

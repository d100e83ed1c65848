"""VibeNVR 1.x backup files (SPEC §4 "Legacy files"): recognised, mapped to a current document, reported.

A 1.x file has no ``format`` key and ``"version": "1.0"``. Fields with an equivalent here are mapped;
camera, user and settings fields this version does not model are kept in ``extra`` so the next backup
still carries them; runtime state and unmodelled sections are dropped. ``convert`` returns the document
and a report of what was mapped, kept and dropped. The document then goes through the normal checks.
"""

import datetime as dt

from ... import strictjson
from ...cameras.validators import WEEKDAYS, schedule
from ...settings.registry import SETTINGS, coerce
from ...timeutil import iso, parse_iso
from ...validation import FieldError
from ..errors import BackupError
from .canonical import FORMAT, SCHEMA_VERSION, SECTIONS

SETTING_RENAMES = {
    "smtp_server": "smtp_host",
    "smtp_username": "smtp_user",
    "smtp_from_email": "smtp_from",
    "max_global_storage_gb": "max_storage_gb",
}
RECORDING_MODES = {
    "motion triggered": "motion",
    "motion": "motion",
    "continuous": "continuous",
    "always": "continuous",
    "off": "off",
    "manual": "off",
    "none": "off",
}
# 1.x camera field -> this version's field (values that need no conversion beyond None -> default)
CAMERA_RENAMES = {
    "name": "name",
    "location": "location",
    "rtsp_url": "rtsp_url",
    "sub_rtsp_url": "sub_rtsp_url",
    "is_active": "enabled",
    "resolution_width": "resolution_width",
    "resolution_height": "resolution_height",
    "framerate": "framerate",
    "rotation": "rotation",
    "storage_profile_id": "storage_profile_id",
    "threshold": "motion_threshold",
    "motion_gap": "motion_gap",
    "movie_quality": "recording_quality",
    "notify_start_email": "notify_email",
    "notify_start_telegram": "notify_telegram",
    "notify_start_webhook": "notify_webhook",
    "notify_email_address": "notify_email_to",
    "onvif_host": "onvif_host",
    "onvif_port": "onvif_port",
    "onvif_username": "onvif_username",
    "onvif_password": "onvif_password",
    "sort_order": "sort_order",
}
CAMERA_RUNTIME = {
    "status",
    "last_seen",
    "groups",
    "storage_profile",
    "id",
    "created_at",
    "recording_mode",
    "privacy_masks",
    "motion_masks",
}
#: The 1.x user keys taken over as they are; any other key of a 1.x user goes into ``extra``.
LEGACY_USER_KEYS = (
    "username",
    "email",
    "hashed_password",
    "role",
    "language",
    "is_2fa_enabled",
    "totp_secret",
    "restrict_camera_access",
    "allowed_camera_ids",
    "allowed_group_ids",
)
MODELLED = {"timestamp", "version", *SECTIONS}


def is_legacy(data):
    """A 1.x file has no ``format`` key and a ``version`` of 1.x."""
    return "format" not in data and str(data.get("version", "")).startswith("1.")


class _Report(list):
    def add(self, line):
        self.append(line)


def convert(data):
    """Map a 1.x document to a current-version one (without checksum); return ``(doc, report)``."""
    report = _Report()
    try:
        stamp = iso(parse_iso(data.get("timestamp")))
    except ValueError:
        raise BackupError(
            [f"timestamp {data.get('timestamp')!r} is not a time this VibeNVR 1.x file can be read with"]
        ) from None
    for section in ("cameras", "users"):
        if not isinstance(data.get(section, []), list):
            raise BackupError([f"{section} must be a list in a VibeNVR 1.x file"])
    doc = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "version": "2.0",
        "timestamp": stamp,
        "kind": "imported",
        "app_version": f"VibeNVR {data.get('version')}",
    }
    doc["settings"] = _settings(data.get("settings") or [], report)
    doc["storage_profiles"] = _profiles(_list(data, "storage_profiles"), report)
    doc["cameras"] = [_camera(i, c, stamp, report) for i, c in enumerate(_list(data, "cameras")) if isinstance(c, dict)]
    doc["groups"], doc["associations"] = _groups(data, report)
    doc["users"] = _users(_list(data, "users"), stamp, report)
    owners = {u["username"] for u in doc["users"]}
    for section in ("cameras", "users"):
        kept = sorted({key for item in doc[section] for key in item["extra"]})
        if kept:
            report.add(f"{section}: kept fields this version does not model in extra: {', '.join(kept)}")
    doc["api_tokens"] = _owned(_list(data, "api_tokens"), "api_tokens", owners, report, lambda t: _token(t, stamp))
    doc["recovery_codes"] = _owned(
        _list(data, "recovery_codes"),
        "recovery_codes",
        owners,
        report,
        lambda r: {"code_hash": r.get("code_hash"), "created_at": r.get("created_at") or stamp},
    )
    doc["trusted_devices"] = _owned(
        _list(data, "trusted_devices"), "trusted_devices", owners, report, lambda d: _device(d, stamp)
    )
    doc["backup_recipients"] = []  # VibeNVR 1.x had no encrypted backups
    doc["backup_locations"] = []  # nor off-site copies
    for key in sorted(set(data) - MODELLED):
        report.add(f"dropped the section {key} (not part of this version's configuration)")
    doc["counts"] = {section: len(doc[section]) for section in SECTIONS}
    mapped = dict(doc["counts"], settings=len(doc["settings"]) - ("extra" in doc["settings"]))
    report.insert(
        0,
        f"VibeNVR {data.get('version')} file from {stamp}: mapped "
        + ", ".join(f"{mapped[s]} {s.replace('_', ' ')}" for s in SECTIONS),
    )
    return doc, list(report)


def _list(data, key):
    value = data.get(key) or []
    return value if isinstance(value, list) else []


def _settings(rows, report):
    if isinstance(rows, dict):
        rows = [{"key": k, "value": v} for k, v in rows.items()]
    clean, extra = {}, {}
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("key"), str):
            continue
        key, value = SETTING_RENAMES.get(row["key"], row["key"]), row.get("value")
        if key in SETTINGS:
            try:
                clean[key] = coerce(
                    key, value if not isinstance(value, str) else value.strip(), from_form=isinstance(value, str)
                )
                continue
            except FieldError as exc:
                report.add(f"settings.{row['key']}: kept in settings.extra, its value is not valid here ({exc})")
        extra[row["key"]] = value
    if extra:
        clean["extra"] = extra
        report.add(
            f"settings: kept {len(extra)} setting(s) this version does not use in settings.extra: "
            + ", ".join(sorted(extra))
        )
    return clean


def _profiles(rows, report):
    out = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        out.append(
            {
                "id": row.get("id", index + 1),
                "name": row.get("name"),
                "path": row.get("path"),
                "description": row.get("description") or "",
                "max_size_gb": row.get("max_size_gb") or 0,
            }
        )
        dropped = sorted(k for k, v in row.items() if k not in out[-1] and v not in (None, "", "local", 22))
        if dropped:
            report.add(
                f'storage_profiles[{index}] "{row.get("name")}": dropped {", ".join(dropped)} '
                "(remote storage is not modelled)"
            )
    return out


def _camera(index, row, stamp, report):
    label = f'cameras[{index}] "{row.get("name")}"'
    camera = {"id": row.get("id"), "created_at": _time(row.get("created_at"), stamp)}
    for old, new in CAMERA_RENAMES.items():
        if row.get(old) is not None:
            camera[new] = row[old]
    mode = str(row.get("recording_mode") or "motion").strip().lower()
    camera["recording_mode"] = RECORDING_MODES.get(mode, "motion")
    if mode not in RECORDING_MODES:
        report.add(f"{label}: recording_mode {row.get('recording_mode')!r} became motion")
    camera["privacy_masks"] = _polygons(row.get("privacy_masks"), f"{label}: privacy_masks", report)
    camera["motion_zones"] = _polygons(row.get("motion_masks"), f"{label}: motion_masks", report)
    camera["schedule"] = _schedule(row, label, report)
    extra = {
        k: v
        for k, v in row.items()
        if k not in CAMERA_RENAMES and k not in CAMERA_RUNTIME and not k.startswith("schedule_")
    }
    camera["extra"] = extra
    return camera


def _polygons(value, label, report):
    """``'[{"points": [[x, y], …]}, …]'`` (a JSON string) to ``[[[x, y], …], …]``, clamped to 0…1."""
    if value in (None, "", "[]"):
        return []
    try:
        items = strictjson.loads(value) if isinstance(value, str) else value
        polygons = [item["points"] if isinstance(item, dict) else item for item in items]
    except strictjson.StrictJSONError as exc:
        if exc.field is None:  # nested far deeper than any polygon: refuse the file rather than guess
            raise BackupError([f"{label} {exc}; a mask is a list of polygons"]) from None
        report.add(f"{label}: dropped, not readable as polygons ({exc})")
        return []
    except (ValueError, TypeError, KeyError):
        report.add(f"{label}: dropped, not readable as polygons")
        return []
    clamped = [
        [
            [min(max(c, 0), 1) if isinstance(c, int | float) and not isinstance(c, bool) else c for c in point]
            if isinstance(point, list)
            else point
            for point in polygon
        ]
        if isinstance(polygon, list)
        else polygon
        for polygon in polygons
    ]
    if clamped != polygons:
        report.add(f"{label}: points slightly outside the picture were moved to its edge")
    return clamped


def _schedule(row, label, report):
    """``schedule_<day>`` on/off with ``_start``/``_end`` to weekday windows; all day is left out."""
    days = {}
    for day in WEEKDAYS:
        if f"schedule_{day}" not in row:
            continue
        if not row.get(f"schedule_{day}"):
            days[day] = []
            continue
        start, end = row.get(f"schedule_{day}_start") or "00:00", row.get(f"schedule_{day}_end") or "23:59"
        if start == "00:00" and end in ("23:59", "24:00", "00:00"):
            continue  # all day
        days[day] = [[start, "24:00" if end == "23:59" else end]]
    try:
        return schedule(days, "schedule")
    except FieldError:
        pass
    for day in WEEKDAYS:  # overlapping overnight windows: keep the evening part only
        windows = days.get(day) or []
        if windows and windows[0][1] < windows[0][0] and windows[0][1] != "24:00":
            report.add(
                f"{label}: schedule.{day} {windows[0][0]}–{windows[0][1]} overlapped the next day; "
                "it now ends at midnight"
            )
            windows[0] = [windows[0][0], "24:00"]
    return days


def _groups(data, report):
    groups, links = [], set()
    used = {g.get("id") for g in _list(data, "groups") if isinstance(g, dict)}
    next_id = max([i for i in used if isinstance(i, int)] or [0]) + 1
    for row in _list(data, "groups"):
        if not isinstance(row, dict):
            continue
        group_id = row.get("id")
        if not isinstance(group_id, int):
            group_id, next_id = next_id, next_id + 1
        groups.append({"id": group_id, "name": row.get("name"), "description": row.get("description") or ""})
        for camera in row.get("cameras") or []:
            if isinstance(camera, dict) and isinstance(camera.get("id"), int):
                links.add((camera["id"], group_id))
    for link in _list(data, "associations"):
        if isinstance(link, dict):
            links.add((link.get("camera_id"), link.get("group_id")))
    return groups, [{"camera_id": c, "group_id": g} for c, g in sorted(links, key=repr)]


def _users(rows, stamp, report):
    users = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        if not row.get("hashed_password"):
            report.add(
                f'users[{index}] "{row.get("username")}": dropped, no password (a single sign-on '
                "account); its tokens, codes and devices go with it"
            )
            continue
        user = {key: row[key] for key in LEGACY_USER_KEYS if row.get(key) is not None}
        user["id"] = row.get("id", len(users) + 1)
        user["created_at"] = _time(row.get("created_at"), stamp)
        if user.get("role") not in ("admin", "viewer"):
            report.add(f'users[{index}] "{row.get("username")}": role {row.get("role")!r} became viewer')
            user["role"] = "viewer"
        user["extra"] = {
            k: v
            for k, v in row.items()
            if k not in LEGACY_USER_KEYS and k not in ("id", "created_at") and v is not None
        }
        users.append(user)
    return users


def _owned(rows, section, owners, report, mapping):
    out = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        if row.get("username") not in owners:
            report.add(f"{section}[{index}]: dropped, its owner {row.get('username')!r} is not among the users")
            continue
        out.append({"id": len(out) + 1, "username": row["username"], **mapping(row)})
    return out


def _token(row, stamp):
    token = {key: row.get(key) for key in ("name", "token_hash", "last_used_at", "expires_at")}
    return token | {"created_at": row.get("created_at") or stamp, "is_active": row.get("is_active", True) is not False}


def _device(row, stamp):
    created = row.get("created_at") or stamp
    expires = row.get("expires_at") or _time(created, stamp, days=30)
    return {
        "token_hash": row.get("token"),
        "name": row.get("name") or "",
        "last_used": row.get("last_used"),
        "expires_at": expires,
        "created_at": created,
    }


def _time(value, fallback, days=0):
    try:
        return iso(parse_iso(value) + dt.timedelta(days=days))
    except ValueError:
        return iso(parse_iso(fallback) + dt.timedelta(days=days))

"""The camera form: HTML form fields to the API vocabulary and back. Validation stays in the service."""

import json
import math
import re

from ..http import BadRequest, parse_json
from ..pages import WEEKDAY_LABELS, FormErrors, form_bool, form_ids, form_int, form_json
from ..validation import REQUIRED, ValidationError, clean_object
from .schema import CAMERA_API_SCHEMA, CAMERA_SCHEMA
from .validators import WEEKDAYS

TEXT_FIELDS = (
    "name",
    "location",
    "rtsp_url",
    "sub_rtsp_url",
    "notify_email_to",
    "overlay_text",
    "onvif_host",
    "onvif_username",
)
INT_FIELDS = (
    "resolution_width",
    "resolution_height",
    "framerate",
    "rotation",
    "recording_quality",
    "retention_days",
    "motion_threshold",
    "motion_sensitivity",
    "motion_gap",
    "pre_capture_seconds",
    "post_capture_seconds",
    "onvif_port",
    "sort_order",
)
BOOL_FIELDS = ("enabled", "notify_email", "notify_telegram", "notify_webhook")
POLYGON_FIELDS = ("privacy_masks", "motion_zones")
_WINDOW_KEY = re.compile(r"^schedule-([a-z]+)-(\d{1,3})-(start|end)$")


class CameraForm:
    """What the form shows: values, the text typed in the JSON boxes, the schedule grid, errors."""

    def __init__(self, values, texts, schedule_rows, group_ids, errors=None, has_password=False):
        self.values = values
        self.texts = texts
        self.schedule = schedule_rows
        self.group_ids = set(group_ids)
        self.errors = errors or FormErrors()
        self.has_password = has_password

    @classmethod
    def for_camera(cls, data, has_password=False):
        """The form for a camera dict (API vocabulary), or for the defaults of a new camera."""
        texts = {field: polygons_text(data.get(field) or []) for field in POLYGON_FIELDS}
        texts["extra"] = json.dumps(data["extra"], indent=2) if data.get("extra") else ""
        values = {k: v for k, v in data.items() if k != "onvif_password"}
        return cls(
            values,
            texts,
            schedule_rows(data.get("schedule") or {}),
            data.get("group_ids", []),
            has_password=has_password,
        )


def defaults(retention_days):
    """A new camera's values, taken from the schema's defaults."""
    data = {}
    for field, (_validator, default) in CAMERA_SCHEMA.items():
        data[field] = "" if default is REQUIRED else (default() if callable(default) else default)
    data["retention_days"] = retention_days
    data["group_ids"] = []
    return data


def polygons_text(polygons):
    """One polygon per line, so a person can read and edit them."""
    if not polygons:
        return ""
    lines = [json.dumps(polygon) for polygon in polygons]
    return "[\n  " + ",\n  ".join(lines) + "\n]"


def schedule_rows(schedule):
    """The grid: per weekday its mode (all, never, windows) and windows; a 24:00 end shows as 00:00."""
    rows = []
    for day in WEEKDAYS:
        if day not in schedule:
            mode, windows = "all", []
        elif not schedule[day]:
            mode, windows = "never", []
        else:
            mode = "windows"
            windows = [(start, "00:00" if end == "24:00" else end) for start, end in schedule[day]]
        rows.append({"day": day, "label": WEEKDAY_LABELS[day], "mode": mode, "windows": windows})
    return rows


def _time(value):
    """The browser's ``HH:MM`` (some send ``HH:MM:SS``); other text goes to the validator as typed."""
    value = (value or "").strip()
    return value[:5] if re.fullmatch(r"\d\d:\d\d:00(\.0+)?", value) else value


def parse_schedule(form, errors):
    """Read the grid back into ``{weekday: [[start, end], …]}``; an end of 00:00 means 24:00."""
    found = {}
    for key in form:
        match = _WINDOW_KEY.match(key)
        if match and match.group(1) in WEEKDAY_LABELS:
            found.setdefault(match.group(1), set()).add(int(match.group(2)))
    schedule, grid = {}, []
    for day in WEEKDAYS:
        mode = form.get(f"schedule-{day}-mode", "all")
        windows = []
        for index in sorted(found.get(day, ())):
            start = _time(form.get(f"schedule-{day}-{index}-start"))
            end = _time(form.get(f"schedule-{day}-{index}-end"))
            if start or end:
                windows.append((start, end))
        grid.append({"day": day, "label": WEEKDAY_LABELS[day], "mode": mode, "windows": windows})
        if mode == "never":
            schedule[day] = []
        elif mode == "windows":
            if not windows:
                errors.add(f"schedule.{day}", f"{WEEKDAY_LABELS[day]} has no window: add one, or choose Never")
            schedule[day] = [[start, "24:00" if end == "00:00" else end] for start, end in windows]
        elif mode != "all":
            errors.add(f"schedule.{day}", f"{WEEKDAY_LABELS[day]}: choose All day, Never or Time windows")
    return schedule, grid


def parse_form(form, creating):
    """Return ``(data, camera_form)``: the API body for the service and the form to show again."""
    errors = FormErrors()
    data = {field: form.get(field, "") for field in TEXT_FIELDS}
    data["recording_mode"] = form.get("recording_mode", "")
    for field in INT_FIELDS:
        data[field] = form_int(form.get(field))
    for field in BOOL_FIELDS:
        data[field] = form_bool(form, field)
    profile = form.get("storage_profile_id", "").strip()
    data["storage_profile_id"] = form_int(profile) if profile else None
    data["group_ids"] = form_ids(form, "group_ids")
    password = form.get("onvif_password", "")
    if form_bool(form, "onvif_password_clear"):
        data["onvif_password"] = ""
    elif password or creating:
        data["onvif_password"] = password
    texts = {}
    for field in POLYGON_FIELDS:
        texts[field] = form.get(field, "")
        data[field] = form_json(form, field, errors, [])
    texts["extra"] = form.get("extra", "")
    data["extra"] = form_json(form, "extra", errors, {})
    data["schedule"], grid = parse_schedule(form, errors)
    if errors:
        _collect_other_errors(data, errors)
    values = {k: v for k, v in data.items() if k != "onvif_password"}
    return data, CameraForm(values, texts, grid, [i for i in data["group_ids"] if isinstance(i, int)], errors)


def _collect_other_errors(data, errors):
    """With a form problem already found, name every other wrong field too, writing nothing."""
    rest = {k: v for k, v in data.items() if k not in errors and not any(e.startswith(k + ".") for e in errors)}
    try:
        clean_object(CAMERA_API_SCHEMA, rest, partial=True)
    except ValidationError as exc:
        errors.add_exception(exc)


# --- the 16:9 preview of masks and zones ------------------------------------------------------

FRAME_W, FRAME_H = 160, 90


def polygon_shapes(polygons):
    """SVG shapes for whatever was typed: good polygons drawn plainly, doubtful ones flagged."""
    shapes = []
    if not isinstance(polygons, list):
        return shapes
    for index, polygon in enumerate(polygons[:64]):
        points = []
        ok = isinstance(polygon, list) and len(polygon) >= 3
        for point in polygon if isinstance(polygon, list) else []:
            if (
                isinstance(point, list)
                and len(point) == 2
                and all(isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c) for c in point)
            ):
                x, y = point
                ok = ok and 0 <= x <= 1 and 0 <= y <= 1
                points.append((min(max(x, -0.1), 1.1) * FRAME_W, min(max(y, -0.1), 1.1) * FRAME_H))
            else:
                ok = False
        if not points:
            continue
        cx = sum(p[0] for p in points) / len(points)
        cy = sum(p[1] for p in points) / len(points)
        shapes.append(
            {
                "number": index + 1,
                "points": " ".join(f"{x:.2f},{y:.2f}" for x, y in points),
                "ok": ok,
                "cx": f"{cx:.2f}",
                "cy": f"{cy:.2f}",
            }
        )
    return shapes


def shapes_for(camera_form, field):
    """Shapes from the typed text (what the user sees in the box), falling back to the stored value."""
    text = camera_form.texts.get(field, "")
    if not text.strip():
        return []
    try:
        return polygon_shapes(parse_json(text))
    except (BadRequest, ValidationError):
        return []

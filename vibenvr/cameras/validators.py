"""The camera's own validators: stream URLs, privacy masks and motion zones, the weekly schedule.

Pure functions like those of ``vibenvr.validation`` (no Flask, no database): ``CAMERA_SCHEMA``, the camera
form and the 1.x backup mapping use them.
"""

import functools
import math
import re
import string
from urllib.parse import urlsplit

from ..validation import FieldError, text

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https")
MAX_POLYGONS = 32
MAX_POINTS = 64
MAX_WINDOWS_PER_DAY = 12

# --- stream URLs --------------------------------------------------------------------------------

_URL_SAFE = set(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def stream_url(required=False):
    """A camera stream URL: rtsp, rtsps, http or https; percent-encoded credentials allowed."""

    def check(value, field):
        value = text(2048)(value, field)
        if not value:
            if required:
                raise FieldError(field, "must not be empty")
            return value
        if any(c not in _URL_SAFE for c in value):
            bad = next(c for c in value if c not in _URL_SAFE)
            raise FieldError(field, f"contains {bad!r}; percent-encode it (for example %40 for @)")
        if _BAD_PERCENT.search(value):
            raise FieldError(field, "has a % that is not followed by two hex digits")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError as exc:
            raise FieldError(field, f"is not a valid URL ({exc})") from None
        if parts.scheme.lower() not in STREAM_SCHEMES:
            raise FieldError(field, "must start with " + ", ".join(f"{s}://" for s in STREAM_SCHEMES))
        if not parts.hostname:
            raise FieldError(field, "must name a host, as in rtsp://192.168.1.20:554/stream1")
        return value

    return check


# --- polygons -----------------------------------------------------------------------------------


def polygons(value, field):
    """A list of polygons, each at least 3 points [x, y] with 0 <= x, y <= 1."""
    if not isinstance(value, list):
        raise FieldError(field, "must be a list of polygons")
    if len(value) > MAX_POLYGONS:
        raise FieldError(field, f"has {len(value)} polygons, at most {MAX_POLYGONS} are allowed")
    clean = []
    for i, polygon in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(polygon, list):
            raise FieldError(where, "must be a list of [x, y] points")
        if len(polygon) < 3:
            raise FieldError(where, f"has {len(polygon)} points, a polygon needs at least 3")
        if len(polygon) > MAX_POINTS:
            raise FieldError(where, f"has {len(polygon)} points, at most {MAX_POINTS} are allowed")
        points = []
        for j, point in enumerate(polygon):
            spot = f"{where}[{j}]"
            if not isinstance(point, list) or len(point) != 2:
                raise FieldError(spot, "must be a point [x, y]")
            xy = []
            for coordinate in point:
                if isinstance(coordinate, bool) or not isinstance(coordinate, (int, float)):
                    raise FieldError(spot, "must hold two numbers")
                if not math.isfinite(coordinate) or not 0 <= coordinate <= 1:
                    raise FieldError(spot, f"has {coordinate}, coordinates must be between 0 and 1")
                xy.append(float(coordinate))
            points.append(xy)
        clean.append(points)
    return clean


# --- weekly schedule ----------------------------------------------------------------------------

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DAY = 24 * 60
WEEK = 7 * DAY


def parse_time(value, field, allow_24=False):
    """``HH:MM`` to minutes after midnight; ``24:00`` only where a window may end."""
    if allow_24 and value == "24:00":
        return DAY
    minutes = _minutes(value) if isinstance(value, str) and len(value) == 5 else None
    if minutes is None:
        raise FieldError(field, f"has {value!r}, times are HH:MM from 00:00 to 23:59")
    return minutes


@functools.lru_cache(maxsize=4096)
def _minutes(value):
    """Minutes after midnight for a valid ``HH:MM``, else None (cached: a large restore has many)."""
    if not _TIME.match(value):
        return None
    return int(value[:2]) * 60 + int(value[3:])


def schedule(value, field):
    """Per weekday a list of [start, end] windows; overnight windows run into the next day.

    A weekday left out means all day; an empty list means never. Windows may not overlap,
    the overnight part included (Sunday's overnight part runs into Monday).
    """
    if not isinstance(value, dict):
        raise FieldError(field, "must be an object of weekday -> list of [start, end] windows")
    clean, spans = {}, []
    for day in value:
        if day not in WEEKDAYS:
            raise FieldError(f"{field}.{day}", "is not a weekday (monday … sunday)")
    for index, day in enumerate(WEEKDAYS):
        if day in value:
            clean[day] = _day_windows(value[day], f"{field}.{day}", index * DAY, spans)
    spans.sort()
    for (_, prev_end, prev_label), (begin, _, label) in zip(spans, spans[1:], strict=False):
        if begin < prev_end:
            raise FieldError("", f"{label} overlaps {prev_label}")
    return clean


def _day_windows(windows, where, day_start, spans):
    """One weekday's windows, checked and copied; adds each one's minutes of the week to ``spans``."""
    if not isinstance(windows, list):
        raise FieldError(where, "must be a list of [start, end] windows")
    if len(windows) > MAX_WINDOWS_PER_DAY:
        raise FieldError(where, f"has {len(windows)} windows, at most {MAX_WINDOWS_PER_DAY}")
    clean = []
    for i, window in enumerate(windows):
        spot = f"{where}[{i}]"
        if not isinstance(window, list) or len(window) != 2:
            raise FieldError(spot, 'must be a window ["HH:MM", "HH:MM"]')
        start = parse_time(window[0], spot)
        end = parse_time(window[1], spot, allow_24=True)
        if start == end:
            raise FieldError(spot, f"starts and ends at {window[0]}; a window must have a length")
        begin = day_start + start
        finish = day_start + (end if end > start else DAY + end)
        label = f"{spot} {window[0]}–{window[1]}"
        spans.append((begin, min(finish, WEEK), label))
        if finish > WEEK:  # Sunday night into Monday morning
            spans.append((0, finish - WEEK, label))
        clean.append([window[0], window[1]])
    return clean

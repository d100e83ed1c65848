"""Template filters and globals: times in the configured zone, sizes, the app version."""

import datetime as dt
import zoneinfo

from flask import current_app

from .settings.service import get_setting
from .timeutil import utcnow


def local_time(value, fmt="%Y-%m-%d %H:%M"):
    """Format a naive-UTC datetime in the configured time zone."""
    if value is None:
        return "—"
    try:
        zone = zoneinfo.ZoneInfo(get_setting("timezone"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    return value.replace(tzinfo=dt.UTC).astimezone(zone).strftime(fmt)


def human_size(size):
    size = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def relative_time(value, now=None):
    """'3 hours ago', 'in 2 days', 'just now'."""
    if value is None:
        return ""
    seconds = ((now or utcnow()) - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(round(seconds / size)) if unit != "day" else int(seconds // size)
            label = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {label}" if future else f"{label} ago"
    return "in a minute" if future else "a minute ago"


def init_app(app):
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["human_size"] = human_size
    app.jinja_env.filters["relative_time"] = relative_time

    @app.context_processor
    def _globals():
        return {
            "app_version": current_app.config["APP_VERSION"],
            "system_name": get_setting("system_name"),
        }

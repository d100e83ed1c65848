"""Template filters and globals: times in the configured zone, sizes, the app version."""

import datetime as dt
import zoneinfo

from flask import current_app

from .settings.service import get_setting
from .timeutil import how_long, utcnow


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
    """'3 hours ago', 'in 2 days', 'just now', '2 months ago' (``timeutil.how_long``); '' for None."""
    if value is None:
        return ""
    return how_long((now or utcnow()) - value)


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

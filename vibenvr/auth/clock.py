"""The time the account flows see: naive UTC now, or the clock a test injects as ``app.config["CLOCK"]``."""

from flask import current_app, has_app_context

from ..timeutil import utcnow


def now():
    clock = current_app.config.get("CLOCK") if has_app_context() else None
    return clock() if clock else utcnow()

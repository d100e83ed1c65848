"""Timestamps: naive UTC in the database, ISO 8601 with ``Z`` everywhere else."""

import datetime as dt


def utcnow():
    """Now in UTC, naive and to the second, the form every timestamp column stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def iso(value):
    """``2026-11-29T22:40:00Z`` for a naive UTC datetime; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite can hand back text for rows written by hand
        value = parse_iso(value)
    return value.replace(microsecond=0).isoformat() + "Z"


def parse_iso(value):
    """Parse ISO 8601 (``Z``, an offset or none, which means UTC) into naive UTC to the second.

    Raises ValueError with a readable message.
    """
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 time as text")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"has {value!r}, expected an ISO 8601 time such as 2026-11-29T22:40:00Z") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed.replace(microsecond=0)

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


def how_long(delta, exact=False):
    """``delta`` (now minus a moment) in words; a negative one is in the future.

    Rounded, as the pages say it: ``just now``, ``3 hours ago``, ``in 2 days``, then months and years
    past 45 days. ``exact`` is the zero-trace guard's wording of a backup's age, to the second below two
    hours since its fallback limit is 60 minutes: ``60 minutes 30 s old``, ``10 minutes in the future``.
    """
    if exact:
        seconds = int(delta.total_seconds())
        return f"{_exact_span(-seconds)} in the future" if seconds < 0 else f"{_exact_span(seconds)} old"
    future = delta < dt.timedelta(0)
    days = abs(delta.days)
    if days >= 45:
        count, unit = (days // 365, "year") if days >= 365 else (round(days / 30.44), "month")
        label = _plural(count, unit)
    else:
        seconds = abs(delta.total_seconds())
        if seconds < 45:
            return "just now"
        label = _rounded_span(seconds)
        if label is None:
            return "in a minute" if future else "a minute ago"
    return f"in {label}" if future else f"{label} ago"


def _rounded_span(seconds):
    """Whole days, else hours or minutes to the nearest; None below a minute."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(round(seconds / size)) if unit != "day" else int(seconds // size)
            return _plural(count, unit)
    return None


def _exact_span(seconds):
    if seconds < 60:
        return _plural(seconds, "second")
    minutes, rest = divmod(seconds, 60)
    if minutes < 120:
        return _plural(minutes, "minute") + (f" {rest} s" if rest else "")
    if minutes < 48 * 60:
        return _plural(minutes // 60, "hour")
    return _plural(minutes // (24 * 60), "day")


def _plural(count, unit):
    return f"{count} {unit}" + ("" if count == 1 else "s")

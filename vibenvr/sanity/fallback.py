"""The zero-trace guard's fallback rule (SPEC §11): which automatic backup may stand in for a lost snapshot.

Only the newest *valid* automatic backup that existed before the run qualifies, and only when the time
written in it is at most 60 minutes ago: an older one would take the configuration back further than the
run went (time travel), and a future-dated one says a clock went wrong. A damaged newest file is skipped
for the next valid one. No Flask here; ``read`` fetches a file's bytes (from the folder or over HTTP).
"""

import datetime as dt
from dataclasses import dataclass, field

from ..backups.document.validate import validate_document
from ..timeutil import how_long, iso

FALLBACK_LIMIT = dt.timedelta(minutes=60)


@dataclass
class FallbackChoice:
    """The backup to restore (``entry``, ``valid``, ``age``), or the ``refusal`` saying why there is none."""

    entry: object = None
    valid: object = None
    age: dt.timedelta | None = None
    refusal: str | None = None
    skipped: list = field(default_factory=list)  # damaged files passed over, one line each
    newest_valid: tuple | None = None  # (entry, valid) of the newest valid backup of any kind


def choose_fallback(entries, read, now, limit=FALLBACK_LIMIT):
    """Apply the rule to ``entries`` (the backups there before the run, newest first)."""
    choice = FallbackChoice()
    candidate = None
    for entry in entries:
        if choice.newest_valid is not None and not entry.is_automatic:
            continue  # only automatic ones matter from here on
        valid, problem = _load(entry, read)
        if valid is None:
            choice.skipped.append(f"Skipped {entry.name}: it is not a valid backup ({problem}).")
            continue
        if choice.newest_valid is None:
            choice.newest_valid = (entry, valid)
        if entry.is_automatic:
            candidate = (entry, valid)
            break
    if candidate is None:
        if not entries:
            choice.refusal = (
                "there is no backup at all in the backup folder, so there is nothing recent to fall back to"
            )
        else:
            choice.refusal = (
                "there is no valid automatic backup in the backup folder (only "
                f"{_kinds(entries)}), and only an automatic backup may be restored without a person"
            )
        return choice
    entry, valid = candidate
    age = now - valid.created_at
    if age < dt.timedelta(0):
        choice.refusal = (
            f"the newest valid automatic backup, {entry.name}, is dated {iso(valid.created_at)}, "
            f"{how_long(age, exact=True)} (now {iso(now)}): a clock went wrong, so it cannot be trusted to "
            "be recent"
        )
    elif age > limit:
        choice.refusal = (
            f"the newest valid automatic backup, {entry.name}, is {how_long(age, exact=True)} (made "
            f"{iso(valid.created_at)}), older than the {int(limit.total_seconds() // 60)}-minute "
            "limit: restoring it could take the configuration back further than this run went"
        )
    else:
        choice.entry, choice.valid, choice.age = entry, valid, age
    return choice


def _load(entry, read):
    try:
        return validate_document(read(entry.name), source=entry.name), None
    except Exception as exc:  # damaged, unreadable, gone: each just disqualifies this file
        return None, getattr(exc, "summary", None) or str(exc) or type(exc).__name__


def _kinds(entries):
    kinds = sorted({e.kind for e in entries})
    return ", ".join(f"{kind} backups" if kind != "other" else "files placed by hand" for kind in kinds)

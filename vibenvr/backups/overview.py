"""What the System Backups page shows: a page of the list, the automatic-backup status, restore previews.

The list comes from names and sizes alone (``BackupStore.list``); only a file about to be restored is read.
"""

import math
from collections import Counter
from dataclasses import dataclass, field

from flask import current_app

from ..settings.service import get_settings
from ..timeutil import parse_iso
from . import service
from .automation.pause import current_pause
from .automation.status import read_status
from .document.canonical import SECTIONS
from .store import SAFETY_KEEP

PER_PAGE = 50
KIND_LABELS = {
    "auto": "Automatic",
    "manual": "Manual",
    "imported": "Imported",
    "safety": "Safety",
    "other": "Other",
    "unusable": "Unusable",
}
KIND_BADGES = {
    "auto": "badge-blue",
    "manual": "badge-green",
    "imported": "badge-purple",
    "safety": "badge-amber",
    "other": "badge-grey",
    "unusable": "badge-red",
}
SECTION_LABELS = {
    "settings": "Settings",
    "storage_profiles": "Storage profiles",
    "cameras": "Cameras",
    "groups": "Groups",
    "associations": "Cameras in groups",
    "users": "Users",
    "api_tokens": "API tokens",
    "recovery_codes": "2FA recovery codes",
    "trusted_devices": "Trusted devices",
    "backup_recipients": "Backup recipients",
    "backup_locations": "Backup locations",
}


@dataclass
class Listing:
    """One page of the backup list, newest first, optionally one kind only."""

    entries: list
    total: int  # backups shown by the current filter
    page: int
    pages: int
    kind: str  # "" for every kind
    by_kind: Counter = field(default_factory=Counter)
    total_size: int = 0  # of every file in the folder

    @property
    def everything(self):
        return sum(self.by_kind.values())

    @property
    def first(self):
        return (self.page - 1) * PER_PAGE + 1 if self.entries else 0

    @property
    def last(self):
        return self.first + len(self.entries) - 1 if self.entries else 0

    def params(self, page=None):
        """Query arguments that bring back this view of the list (for links and hidden fields)."""
        values = {}
        if (page or self.page) > 1:
            values["page"] = page or self.page
        if self.kind:
            values["kind"] = self.kind
        return values


def page_number(value):
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 7 else 1


def category(entry):
    """What the page files an entry under: its kind, or "unusable" (a FIFO, a name the API cannot address, …)."""
    return "unusable" if entry.unusable else entry.kind


def listing(page=1, kind=""):
    entries = service.get_store().list(unusable=True)
    by_kind = Counter(category(entry) for entry in entries)
    total_size = sum(entry.size_bytes for entry in entries)
    kind = kind if kind in KIND_LABELS else ""
    if kind:
        entries = [entry for entry in entries if category(entry) == kind]
    pages = max(1, math.ceil(len(entries) / PER_PAGE))
    page = min(max(page_number(page), 1), pages)
    start = (page - 1) * PER_PAGE
    return Listing(entries[start : start + PER_PAGE], len(entries), page, pages, kind, by_kind, total_size)


def _time(value):
    try:
        return parse_iso(value)
    except ValueError:
        return None


def automatic_status():
    """The settings and the scheduler's record, ready for the status panel (times as naive UTC)."""
    settings = get_settings()
    recorded = read_status(current_app.config["DATA_DIR"])
    success = recorded["last_success"] if isinstance(recorded["last_success"], dict) else None
    failure = recorded["last_failure"] if isinstance(recorded["last_failure"], dict) else None
    enabled = bool(settings["backup_auto_enabled"])
    next_run = _time(recorded["next_run"]) if enabled and recorded["next_run"] else None
    return {
        "enabled": enabled,
        "frequency_hours": settings["backup_auto_frequency_hours"],
        "retention": settings["backup_auto_retention"],
        "safety_keep": SAFETY_KEEP,
        "last_success": success and {"name": str(success.get("name") or ""), "at": _time(success.get("at"))},
        "last_failure": failure
        and {"reason": str(failure.get("reason") or "no reason was recorded"), "at": _time(failure.get("at"))},
        "next_run": next_run,
        "has_run": bool(success or failure),
        "scheduler_off": not current_app.config.get("SCHEDULER_ENABLED"),
        "pause": current_pause(current_app.config["DATA_DIR"], service.clock()),  # a sanity run in progress
        "damaged": service.get_store().damaged_names(),  # automatic backups that failed validation, kept aside
    }


def count_rows(valid):
    """(label, in the backup, now, change) per section, for the restore confirmation."""
    now = service.current_counts()
    rows = []
    for section in SECTIONS:
        theirs, ours = valid.counts.get(section, 0), now.get(section, 0)
        rows.append((SECTION_LABELS[section], theirs, ours, theirs - ours))
    return rows


def session_warning(valid, user):
    """Why restoring ``valid`` would sign ``user`` out (SPEC §6), or None when they stay signed in."""
    mine = next((u for u in valid.doc["users"] if u["username"] == user.username), None)
    if mine is None:
        return f"Your account “{user.username}” is not in this backup, so you will be signed out after the restore."
    if mine["role"] != "admin" or not mine["is_active"]:
        return (
            f"Your account “{user.username}” is not an active administrator in this backup, so you will be "
            "signed out after the restore."
        )
    if mine["id"] != user.id or mine["hashed_password"] != user.hashed_password:
        return (
            f"Your account “{user.username}” has a different password (or id) in this backup: you will be "
            "signed out and sign in again with the password it holds."
        )
    return None

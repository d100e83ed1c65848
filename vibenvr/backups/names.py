"""Backup file names (SPEC §5): the generated and 1.x patterns and what they say, which names the API can
address, and a safe form of any other name to show or to suggest. Names only: nothing here reads the disk.
"""

import datetime as dt
import re
import unicodedata

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.json(?:\.age)?$")
GENERATED_RE = re.compile(r"^vibe_backup_(auto|manual|imported|safety)_(\d{8}_\d{6})(?:_(\d+))?\.json(?:\.age)?$")
LEGACY_AUTO_RE = re.compile(r"^vibenvr_auto_backup_(\d{8}_\d{6})(?:_(\d+))?\.json$")
#: An automatic backup that failed validation right after it was written, kept under this name (SPEC §12).
DAMAGED_RE = re.compile(r"^vibe_backup_damaged_(\d{8}_\d{6})(?:_(\d+))?\.json(?:\.age)?$")
STAMP = "%Y%m%d_%H%M%S"
TEMP_PREFIX = ".vibe-tmp-"
ENCRYPTED_SUFFIX = ".json.age"  # SPEC §13: the whole file inside an age envelope
NAME_RULE = "letters, digits, '.', '_' and '-', ending in .json"


def parse_name(name):
    """``(kind, created_at, sequence)`` from a generated or legacy name; None for other names."""
    for pattern, kind in ((GENERATED_RE, None), (LEGACY_AUTO_RE, "auto")):
        match = pattern.match(name)
        if match:
            groups = match.groups()
            kind = kind or groups[0]
            stamp, suffix = groups[-2], groups[-1]
            try:
                created = dt.datetime.strptime(stamp, STAMP)
            except ValueError:
                return None
            return kind, created, int(suffix or 1)
    return None


def backup_name(kind, created_at, sequence=1, encrypted=False):
    suffix = f"_{sequence}" if sequence > 1 else ""
    return f"vibe_backup_{kind}_{created_at.strftime(STAMP)}{suffix}.json{'.age' if encrypted else ''}"


def is_encrypted_name(name):
    """Whether ``name`` is that of an age-encrypted backup (SPEC §13: ``….json.age``)."""
    return name.lower().endswith(ENCRYPTED_SUFFIX)


def is_listed_name(name):
    """Whether a file of this name belongs in the list: ``.json`` or ``.json.age`` (any case), not a temporary."""
    return name.lower().endswith((".json", ENCRYPTED_SUFFIX)) and not name.startswith(TEMP_PREFIX)


def is_addressable(name):
    """Whether the API can name this file: the pattern of SPEC §5, and no ``..`` (refused as traversal)."""
    return bool(NAME_RE.match(name)) and ".." not in name


def _decoded(name):
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def shown_name(name):
    """``name`` safe to show and to put in JSON: undecodable bytes as U+FFFD, control characters escaped."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in _decoded(name))


def suggest_name(name, taken=()):
    """A name the API can address for a file named ``name``: ``backup (1).json`` → ``backup_1.json``."""
    stem = _decoded(name)
    ending = ENCRYPTED_SUFFIX if stem.lower().endswith(ENCRYPTED_SUFFIX) else ".json"
    stem = stem[: -len(ending)] if stem.lower().endswith(ending) else stem
    stem = "".join(c for c in unicodedata.normalize("NFKD", stem) if not unicodedata.combining(c))  # é → e
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem)
    stem = re.sub(r"\.{2,}", ".", re.sub(r"_{2,}", "_", stem))
    stem = re.sub(r"^[^A-Za-z0-9]+", "", stem)[:190].rstrip("._-") or "backup"
    candidate, number = f"{stem}{ending}", 1
    while candidate in taken:
        number += 1
        candidate = f"{stem}_{number}{ending}"
    return candidate

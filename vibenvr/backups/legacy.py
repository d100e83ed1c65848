"""VibeNVR 1.x backup files (SPEC §4 "Legacy files"): recognised here, mapped to the v2 document."""

from .errors import BackupError


def is_legacy(data):
    """A 1.x file has no ``format`` key and a ``version`` of 1.x."""
    return "format" not in data and str(data.get("version", "")).startswith("1.")


def convert(data):
    """Map a 1.x document to a v2-shaped one; return ``(doc, report)``."""
    raise BackupError(["this is a VibeNVR 1.x backup; importing 1.x files is not supported yet"])

"""The storage profile's fields and validators."""

from ..validation import REQUIRED, number, storage_path, text

STORAGE_PROFILE_SCHEMA = {
    "name": (text(100, required=True), REQUIRED),
    "path": (storage_path, REQUIRED),
    "description": (text(2000), ""),
    "max_size_gb": (number(0, 1_000_000), 0.0),
}

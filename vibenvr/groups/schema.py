"""The group's fields and validators."""

from ..validation import REQUIRED, id_list, text

GROUP_SCHEMA = {
    "name": (text(100, required=True), REQUIRED),
    "description": (text(2000), ""),
}

GROUP_API_SCHEMA = {**GROUP_SCHEMA, "camera_ids": (id_list, list)}

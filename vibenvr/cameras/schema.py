"""The camera's fields, their validators and defaults: one table for the API, the pages and restore."""

from ..validation import REQUIRED, boolean, choice, id_list, integer, json_object, optional_id, text
from .validators import polygons, schedule, stream_url

RECORDING_MODES = ("continuous", "motion", "off")
ROTATIONS = (0, 90, 180, 270)

CAMERA_SCHEMA = {
    "name": (text(100, required=True), REQUIRED),
    "location": (text(200), ""),
    "rtsp_url": (stream_url(required=True), REQUIRED),
    "sub_rtsp_url": (stream_url(), ""),
    "enabled": (boolean, True),
    "resolution_width": (integer(16, 7680), 1920),
    "resolution_height": (integer(16, 4320), 1080),
    "framerate": (integer(1, 120), 15),
    "rotation": (choice(*ROTATIONS), 0),
    "recording_mode": (choice(*RECORDING_MODES), "motion"),
    "recording_quality": (integer(1, 100), 80),
    "retention_days": (integer(1, 3650), 30),
    "storage_profile_id": (optional_id, None),
    "motion_threshold": (integer(1, 1_000_000), 1500),
    "motion_sensitivity": (integer(1, 100), 50),
    "motion_gap": (integer(0, 3600), 10),
    "pre_capture_seconds": (integer(0, 120), 2),
    "post_capture_seconds": (integer(0, 600), 5),
    "privacy_masks": (polygons, list),
    "motion_zones": (polygons, list),
    "schedule": (schedule, dict),
    "notify_email": (boolean, False),
    "notify_telegram": (boolean, False),
    "notify_webhook": (boolean, False),
    "notify_email_to": (text(320), ""),
    "overlay_text": (text(200), ""),
    "onvif_host": (text(255), ""),
    "onvif_port": (integer(1, 65535), 80),
    "onvif_username": (text(100), ""),
    "onvif_password": (text(200, strip=False), ""),
    "sort_order": (integer(-1_000_000, 1_000_000), 0),
    "extra": (json_object(), dict),
}

# Accepted in API bodies only: the camera's groups.
CAMERA_API_SCHEMA = {**CAMERA_SCHEMA, "group_ids": (id_list, list)}

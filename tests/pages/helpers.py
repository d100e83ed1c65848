"""Helpers for the page tests: htmx headers, complete form bodies, and reading inline errors back."""

import re

HTMX = {"HX-Request": "true"}


def camera_form(**overrides):
    """Everything the camera form posts, valid, with ``overrides`` applied (None removes a field)."""
    form = {
        "name": "Nursery",
        "location": "Upstairs",
        "rtsp_url": "rtsp://admin:p%40ss@192.168.1.30:554/s1",
        "sub_rtsp_url": "",
        "enabled": ["off", "on"],
        "resolution_width": "1920",
        "resolution_height": "1080",
        "framerate": "15",
        "rotation": "0",
        "recording_mode": "motion",
        "recording_quality": "80",
        "retention_days": "30",
        "storage_profile_id": "",
        "motion_threshold": "1500",
        "motion_sensitivity": "50",
        "motion_gap": "10",
        "pre_capture_seconds": "2",
        "post_capture_seconds": "5",
        "privacy_masks": "[[[0.1, 0.1], [0.4, 0.1], [0.4, 0.5]]]",
        "motion_zones": "",
        "notify_email": "off",
        "notify_telegram": "off",
        "notify_webhook": "off",
        "notify_email_to": "",
        "overlay_text": "",
        "onvif_host": "",
        "onvif_port": "80",
        "onvif_username": "",
        "onvif_password": "",
        "sort_order": "0",
        "extra": "",
    }
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
        form[f"schedule-{day}-mode"] = "all"
    for key, value in overrides.items():
        if value is None:
            form.pop(key, None)
        else:
            form[key] = value
    return form


def inline_errors(html):
    """{field id: message} for every ``<p class="field-error" id="e-…">`` in the page."""
    found = re.findall(r'<p class="field-error" id="e-([^"]+)">([^<]*)</p>', html)
    return {key: re.sub(r"&#34;|&#39;|&quot;", "'", text) for key, text in found}


def is_full_page(html):
    return html.lstrip().lower().startswith("<!doctype html")

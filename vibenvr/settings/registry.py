"""The one registry of global settings: key, type, range or choices, default, group, label and help.

The Global Settings page, ``PATCH /api/settings`` and restore all validate through ``coerce``.
"""

import math
import zoneinfo
from dataclasses import dataclass, field

from ..validation import FieldError


@dataclass(frozen=True)
class SettingDef:
    key: str
    type: str  # "str", "int", "float", "bool", "choice", "secret"
    default: object
    group: str
    label: str
    help: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    max_length: int = 500
    check: object = field(default=None, compare=False)  # extra check: value -> message or None
    masked_url: bool = False  # a URL that may hold credentials: answered masked (vibenvr/masking.py)

    @property
    def is_secret(self):
        """Write-only (SPEC §12): never in an answer or a page, only in backups and the export."""
        return self.type == "secret"


GROUPS = {
    "general": "General",
    "notifications": "Notifications",
    "storage": "Storage limits",
    "optimization": "Optimization",
    "backups": "Backups",
}


def _timezone_check(value):
    if value not in zoneinfo.available_timezones() and value != "UTC":
        return f"{value!r} is not a known time zone (for example Europe/Berlin or UTC)"
    return None


def _url_check(value):
    if value and not value.lower().startswith(("http://", "https://")):
        return "must start with http:// or https://"
    return None


def _email_check(value):
    if value and ("@" not in value or value.startswith("@") or value.endswith("@")):
        return "must be an e-mail address such as nvr@example.com"
    return None


_DEFS = [
    SettingDef(
        "system_name",
        "str",
        "VibeNVR",
        "general",
        "System name",
        "Shown in the page title and in notifications.",
        max_length=100,
    ),
    SettingDef(
        "timezone",
        "str",
        "UTC",
        "general",
        "Time zone",
        "Times on the pages are shown in this zone; files always use UTC.",
        max_length=64,
        check=_timezone_check,
    ),
    SettingDef("smtp_host", "str", "", "notifications", "SMTP host", max_length=255),
    SettingDef("smtp_port", "int", 587, "notifications", "SMTP port", min=1, max=65535),
    SettingDef("smtp_user", "str", "", "notifications", "SMTP user", max_length=255),
    SettingDef(
        "smtp_password",
        "secret",
        "",
        "notifications",
        "SMTP password",
        "Stored for sending mail; included in backups.",
        max_length=255,
    ),
    SettingDef("smtp_from", "str", "", "notifications", "From address", max_length=320, check=_email_check),
    SettingDef("telegram_bot_token", "secret", "", "notifications", "Telegram bot token", max_length=255),
    SettingDef("telegram_chat_id", "str", "", "notifications", "Telegram chat id", max_length=64),
    SettingDef(
        "webhook_url",
        "str",
        "",
        "notifications",
        "Webhook URL",
        "Called with a JSON body on every event.",
        max_length=2048,
        check=_url_check,
        masked_url=True,
    ),
    SettingDef(
        "max_storage_gb",
        "float",
        0.0,
        "storage",
        "Maximum storage (GB)",
        "Recordings are pruned above this size. 0 means no limit.",
        min=0,
        max=1_000_000,
    ),
    SettingDef(
        "min_free_space_gb",
        "float",
        5.0,
        "storage",
        "Minimum free space (GB)",
        "Oldest recordings are pruned when the disk has less free space than this.",
        min=0,
        max=1_000_000,
    ),
    SettingDef(
        "default_retention_days",
        "int",
        30,
        "storage",
        "Default retention (days)",
        "Used for new cameras.",
        min=1,
        max=3650,
    ),
    SettingDef(
        "opt_preset",
        "choice",
        "balanced",
        "optimization",
        "Preset",
        "Choosing a preset fills in the values below.",
        choices=("low_power", "balanced", "quality"),
    ),
    SettingDef(
        "opt_live_view_fps_throttle",
        "int",
        2,
        "optimization",
        "Live view FPS throttle",
        "Show every Nth frame in live view.",
        min=1,
        max=30,
    ),
    SettingDef(
        "opt_motion_fps_throttle",
        "int",
        2,
        "optimization",
        "Motion FPS throttle",
        "Analyse every Nth frame for motion.",
        min=1,
        max=30,
    ),
    SettingDef(
        "opt_live_view_height_limit", "int", 720, "optimization", "Live view height limit (px)", min=144, max=4320
    ),
    SettingDef("opt_live_view_quality", "int", 70, "optimization", "Live view quality (%)", min=1, max=100),
    SettingDef("opt_snapshot_quality", "int", 85, "optimization", "Snapshot quality (%)", min=1, max=100),
    SettingDef(
        "opt_ffmpeg_preset",
        "choice",
        "veryfast",
        "optimization",
        "FFmpeg preset",
        choices=("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"),
    ),
    SettingDef(
        "backup_auto_enabled",
        "bool",
        False,
        "backups",
        "Automatic backups",
        "Take a backup of the whole configuration on a schedule. Takes effect as soon as you save: "
        "if no automatic backup is younger than the frequency, one is made right away.",
    ),
    SettingDef(
        "backup_auto_frequency_hours",
        "int",
        24,
        "backups",
        "Frequency (hours)",
        "Hours between automatic backups, from 1 to 8760 (a year).",
        min=1,
        max=8760,
    ),
    SettingDef(
        "backup_auto_retention",
        "int",
        10,
        "backups",
        "Keep automatic backups",
        "How many automatic backups to keep (1 to 1000); after each one, older automatic backups are "
        "deleted. Manual and imported backups are never deleted automatically; safety backups (taken "
        "before every restore) keep the newest 5.",
        min=1,
        max=1000,
    ),
    SettingDef(
        "backup_encrypt",
        "choice",
        "offsite",
        "backups",
        "Encrypt backups",
        "offsite: copies that leave this machine are encrypted with age, files here stay plain JSON; all: every "
        "backup file is encrypted, here too (they open with the server key, or the emergency kit when this "
        "server is gone); off: nothing is encrypted.",
        choices=("offsite", "all", "off"),
    ),
]

SETTINGS = {s.key: s for s in _DEFS}

PRESETS = {
    "low_power": {
        "opt_live_view_fps_throttle": 4,
        "opt_motion_fps_throttle": 4,
        "opt_live_view_height_limit": 480,
        "opt_live_view_quality": 50,
        "opt_snapshot_quality": 70,
        "opt_ffmpeg_preset": "ultrafast",
    },
    "balanced": {
        "opt_live_view_fps_throttle": 2,
        "opt_motion_fps_throttle": 2,
        "opt_live_view_height_limit": 720,
        "opt_live_view_quality": 70,
        "opt_snapshot_quality": 85,
        "opt_ffmpeg_preset": "veryfast",
    },
    "quality": {
        "opt_live_view_fps_throttle": 1,
        "opt_motion_fps_throttle": 1,
        "opt_live_view_height_limit": 1080,
        "opt_live_view_quality": 90,
        "opt_snapshot_quality": 95,
        "opt_ffmpeg_preset": "medium",
    },
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def coerce(key, value, from_form=False):
    """Return ``value`` as the typed value of setting ``key``, or raise FieldError saying why not.

    ``from_form`` accepts the strings an HTML form sends ("on", "24", "0.5").
    """
    definition = SETTINGS.get(key)
    if definition is None:
        raise FieldError(key, "is not a known setting")
    if definition.type == "bool":
        return _boolean(key, value, from_form)
    if definition.type in ("int", "float"):
        return _in_range(definition, _number(definition, value, from_form))
    return _text(definition, value, from_form)


def _boolean(key, value, from_form):
    if from_form and isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if not isinstance(value, bool):
        raise FieldError(key, "must be true or false")
    return value


def _in_range(definition, value):
    if definition.min is not None and value < definition.min:
        raise FieldError(definition.key, f"must be at least {_fmt(definition.min)}")
    if definition.max is not None and value > definition.max:
        raise FieldError(definition.key, f"must be at most {_fmt(definition.max)}")
    return value


def _text(definition, value, from_form):
    """A ``choice`` or ``text`` setting."""
    key = definition.key
    if not isinstance(value, str):
        raise FieldError(key, "must be text")
    if from_form:
        value = value.strip()
    if definition.type == "choice":
        if value not in definition.choices:
            raise FieldError(key, "must be one of " + ", ".join(definition.choices))
        return value
    if len(value) > definition.max_length:
        raise FieldError(key, f"must be at most {definition.max_length} characters")
    if "\x00" in value:
        raise FieldError(key, "must not contain NUL characters")
    if definition.check and (message := definition.check(value)):
        raise FieldError(key, message)
    return value


def _number(definition, value, from_form):
    key = definition.key
    if from_form and isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if definition.type == "int" else float(text)
        except ValueError:
            noun = "a whole number" if definition.type == "int" else "a number"
            raise FieldError(key, f"must be {noun}") from None
    if isinstance(value, bool):
        raise FieldError(key, "must be a number, not true/false")
    if definition.type == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise FieldError(key, "must be a whole number")
        return value
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FieldError(key, "must be a finite number")
    return float(value)


def _fmt(number):
    return str(int(number)) if float(number).is_integer() else str(number)

"""Signals other parts of the NVR listen to (blinker)."""

from blinker import Namespace

_signals = Namespace()

#: Sent with ``keys`` (the setting keys that changed) after settings are saved.
settings_changed = _signals.signal("settings-changed")

#: Sent with ``result`` after a restore has been committed: caches and schedules reload.
config_restored = _signals.signal("config-restored")

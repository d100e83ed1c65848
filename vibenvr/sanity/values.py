"""Another valid value for each setting, so the checks can change every one and put it back."""

from ..settings.registry import SETTINGS, coerce
from ..validation import FieldError

_TEXT = {
    "timezone": ("Europe/Berlin", "UTC"),
    "webhook_url": ("https://example.invalid/sanity", "https://example.invalid/other"),
    "smtp_from": ("sanity@example.invalid", "other@example.invalid"),
}


def alternative(key, current):
    """A valid value of setting ``key`` other than ``current`` (None when the registry allows no other)."""
    definition = SETTINGS[key]
    for candidate in _candidates(definition, current):
        if candidate == current:
            continue
        try:
            return coerce(key, candidate)
        except FieldError:
            continue
    return None


def _candidates(definition, current):
    kind = definition.type
    if kind == "bool":
        return [not current]
    if kind == "choice":
        return list(definition.choices)
    if kind in ("int", "float"):
        step = 1 if kind == "int" else 0.5
        low = definition.min if definition.min is not None else current - step
        return [current + step, current - step, low]
    return [*_TEXT.get(definition.key, ()), "sanity check", "sanity check 2"]


def invalid_value(key):
    """A value of ``key`` the registry must refuse: out of range, or of the wrong type."""
    definition = SETTINGS[key]
    if definition.type in ("int", "float") and definition.max is not None:
        return definition.max + 1
    return {"not": "a setting value"}

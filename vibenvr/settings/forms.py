"""The Global Settings form: HTML form fields to a {key: value} change set for ``update_settings``."""

from ..masking import mask_url
from ..pages import form_bool
from .registry import GROUPS, PRESETS, SETTINGS


def sections():
    """[(group key, group label, [SettingDef, …])] in registry order."""
    return [(group, label, [d for d in SETTINGS.values() if d.group == group]) for group, label in GROUPS.items()]


def choice_options(definition):
    """(value, label) pairs for a select; preset names read as words ("Low power")."""
    if definition.key == "opt_preset":
        return [(c, c.replace("_", " ").capitalize()) for c in definition.choices]
    return [(c, c) for c in definition.choices]


def parse_form(form, current):
    """The changes the form asks for, as strings for ``update_settings(from_form=True)``.

    A blank secret keeps the stored one (its "remove" box clears it). When the preset changes and a
    value it stands for was left as it was, the preset's value applies (the page without JavaScript).
    """
    changes = {}
    for key, definition in SETTINGS.items():
        if definition.type == "bool":
            if key in form:
                changes[key] = "on" if form_bool(form, key) else "off"
        elif definition.is_secret:
            if form_bool(form, f"{key}_clear"):
                changes[key] = ""
            elif form.get(key):
                changes[key] = form[key]
        elif key in form:
            changes[key] = form[key]
    preset = changes.get("opt_preset")
    if preset in PRESETS and preset != current.get("opt_preset"):
        for key in PRESETS[preset]:
            if key in changes and changes[key].strip() == _as_text(current.get(key)):
                del changes[key]
    return changes


def shown_values(current, changes=None):
    """What the inputs show: the stored values, overlaid with what was just typed (never secrets)."""
    values = {}
    for key, definition in SETTINGS.items():
        if definition.is_secret:
            continue
        value = mask_url(current.get(key)) if definition.masked_url else current.get(key)
        if changes and key in changes:
            value = changes[key] == "on" if definition.type == "bool" else changes[key]
        values[key] = int(value) if isinstance(value, float) and value.is_integer() else value
    return values


def _as_text(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)

"""Reading and writing global settings, validated through the registry."""

from flask import g, has_app_context

from ..db import write_transaction
from ..masking import keep_stored_settings
from ..models import Setting
from ..signals import settings_changed
from ..validation import FieldError, ValidationError
from .registry import PRESETS, SETTINGS, coerce


def get_settings():
    """All settings as {key: typed value}, defaults filled in; cached for the current request."""
    if has_app_context() and "_settings" in g:
        return dict(g._settings)
    values = {key: definition.default for key, definition in SETTINGS.items()}
    for key, value in Setting.select(Setting.key, Setting.value).tuples():
        if key in values:
            values[key] = value
    if has_app_context():
        g._settings = dict(values)
    return values


def get_setting(key):
    return get_settings()[key]


def clear_cache():
    if has_app_context():
        g.pop("_settings", None)


def validate_settings(changes, from_form=False):
    """Validate a {key: value} mapping; return the typed values or raise ValidationError listing all."""
    if not isinstance(changes, dict):
        raise ValidationError(["the body must be a JSON object of setting key -> value"])
    clean, errors = {}, []
    for key, value in changes.items():
        try:
            clean[key] = coerce(key, value, from_form=from_form)
        except FieldError as exc:
            errors.append(exc)
    if errors:
        raise ValidationError(errors)
    preset = clean.get("opt_preset")
    if preset:
        # A preset stands for its values; values given alongside it win.
        clean = {**PRESETS[preset], **clean}
    return clean


def update_settings(changes, from_form=False):
    """Validate and save ``changes`` in one transaction; return the keys whose value changed."""
    clean = validate_settings(changes, from_form=from_form)
    with write_transaction():
        clear_cache()  # compare with the values as they are now, a restore's included (SPEC §12)
        current = get_settings()
        clean = keep_stored_settings(clean, current, SETTINGS)  # a masked URL written back keeps its password
        changed = [key for key, value in clean.items() if current.get(key) != value]
        for key in changed:
            Setting.insert(key=key, value=clean[key]).on_conflict(
                conflict_target=[Setting.key], update={Setting.value: clean[key]}
            ).execute()
    clear_cache()
    if changed:
        settings_changed.send(None, keys=changed)
    return changed

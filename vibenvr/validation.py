"""Validators shared by the API, the pages and restore. Pure functions: no Flask, no database. The
camera's own (stream URLs, polygons, the weekly schedule) are in ``vibenvr/cameras/validators.py``.

A validator takes ``(value, field)`` and returns the clean value or raises ``FieldError`` whose text
names the field and says what is wrong, e.g. ``privacy_masks[0] has 2 points, a polygon needs at least 3``.
"""

import math
import re

from . import strictjson


class FieldError(ValueError):
    """One field is wrong: ``field`` names it (``schedule.monday[0]``), ``message`` says why."""

    def __init__(self, field, message):
        super().__init__(f"{field} {message}" if field else message)
        self.field = field
        self.message = message

    def prefixed(self, prefix):
        """The same error under a parent field (``cameras[3] "Garage": …``)."""
        return FieldError(f"{prefix}{self.field}", self.message)


class ValidationError(ValueError):
    """Several fields are wrong. ``errors`` is a list of human-readable strings; ``field_errors`` the same
    problems as ``(field, message)`` pairs, with ``field`` None for those given as plain text."""

    def __init__(self, errors, status=422):
        errors = list(errors) or ["is invalid"]
        self.field_errors = [
            (e.field, e.message) if isinstance(e, FieldError) and e.field else (None, str(e)) for e in errors
        ]
        self.errors = [str(e) for e in errors]
        super().__init__("; ".join(self.errors))
        self.status = status


class ConflictError(ValueError):
    """The request is well formed but clashes with what exists (a duplicate name, the last admin)."""


# --- scalar validators -------------------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters other than tab and newlines


def text(max_length=200, required=False, strip=True):
    def check(value, field):
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise FieldError(field, "must be text")
        if strip:
            value = value.strip()
        if required and not value:
            raise FieldError(field, "must not be empty")
        if len(value) > max_length:
            raise FieldError(field, f"must be at most {max_length} characters")
        if _CONTROL.search(value):
            raise FieldError(field, "must not contain control characters")
        if strictjson.has_surrogate(value):
            raise FieldError(field, "holds a lone UTF-16 surrogate (such as \\ud800), which is not text")
        return value

    return check


def integer(minimum, maximum):
    def check(value, field):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FieldError(field, "must be a whole number")
        if isinstance(value, float):
            if not value.is_integer():
                raise FieldError(field, "must be a whole number")
            value = int(value)
        if not minimum <= value <= maximum:
            raise FieldError(field, f"must be between {minimum} and {maximum}")
        return value

    return check


def number(minimum, maximum):
    def check(value, field):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise FieldError(field, "must be a number")
        if not minimum <= value <= maximum:
            raise FieldError(field, f"must be between {minimum} and {maximum}")
        return float(value)

    return check


def boolean(value, field):
    if not isinstance(value, bool):
        raise FieldError(field, "must be true or false")
    return value


def choice(*choices):
    def check(value, field):
        if isinstance(value, bool) or value not in choices:
            raise FieldError(field, "must be one of " + ", ".join(str(c) for c in choices))
        return value

    return check


def nullable(validator):
    """``validator``, with null accepted (and kept) as "not set"."""

    def check(value, field):
        return None if value is None else validator(value, field)

    return check


optional_id = nullable(integer(1, 2**53))


def id_list(value, field):
    if not isinstance(value, list):
        raise FieldError(field, "must be a list of ids")
    ids = [integer(1, 2**53)(item, f"{field}[{i}]") for i, item in enumerate(value)]
    if len(set(ids)) != len(ids):
        raise FieldError(field, "lists an id twice")
    return sorted(ids)


def json_object(max_bytes=65536):
    """A JSON object that strict JSON can hold (SPEC §12: finite numbers, real text, bounded depth)."""

    def check(value, field):
        if not isinstance(value, dict):
            raise FieldError(field, "must be a JSON object")
        problem = strictjson.find_problem(value, where=field)
        if problem:
            raise FieldError(*problem)
        if len(strictjson.dumps(value).encode("utf-8")) > max_bytes:
            raise FieldError(field, f"must be at most {max_bytes} bytes of JSON")
        return value

    return check


# --- URLs and paths -----------------------------------------------------------------------------


def storage_path(value, field):
    value = text(1024, required=True)(value, field)
    if not value.startswith("/"):
        raise FieldError(field, "must be an absolute path, such as /recordings/garage")
    if ".." in value.split("/"):
        raise FieldError(field, "must not contain '..'")
    if "\\" in value:
        raise FieldError(field, "must use / as the separator")
    return value


# --- whole objects ------------------------------------------------------------------------------


def clean_object(schema, data, partial=False, prefix="", unknown="error"):
    """Validate ``data`` against ``schema`` ({field: (validator, default)}).

    Returns ``(clean, extra)``; ``extra`` holds unknown fields when ``unknown == "keep"``.
    Raises ValidationError listing every wrong field.
    """
    if not isinstance(data, dict):
        raise ValidationError([f"{prefix or 'the body'} must be a JSON object"])
    errors, clean, extra = [], {}, {}
    for key, value in data.items():
        if key not in schema:
            if unknown == "keep":
                extra[key] = value
            elif unknown == "error":
                errors.append(FieldError(f"{prefix}{key}", "is not a known field"))
            continue
        validator, _default = schema[key]
        try:
            clean[key] = validator(value, key)
        except FieldError as exc:
            errors.append(exc.prefixed(prefix))
    if not partial:
        for key, (_validator, default) in schema.items():
            if key in clean or key in data:
                continue
            if default is REQUIRED:
                errors.append(FieldError(f"{prefix}{key}", "is required"))
            else:
                clean[key] = default() if callable(default) else default
    if errors:
        raise ValidationError(errors)
    return clean, extra


class _Required:
    def __repr__(self):
        return "REQUIRED"


REQUIRED = _Required()

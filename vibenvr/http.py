"""Request and response helpers shared by the JSON API and the pages."""

import json

from flask import jsonify, request

from . import strictjson
from .validation import FieldError, ValidationError


class BadRequest(ValueError):
    """The request body cannot be used at all (not JSON, too deep, not an object)."""


def parse_json(data, what="the body", max_depth=strictjson.MAX_DEPTH):
    """Parse ``data`` (bytes or str) as strict JSON (SPEC §12). Unusable text raises BadRequest (400); NaN,
    infinities and lone surrogates raise ValidationError (422) naming the field that holds them."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"{what} is not valid UTF-8 (byte {exc.start})") from None
    if not data.strip():
        raise BadRequest(f"{what} is empty; send a JSON object")
    try:
        return strictjson.loads(data, max_depth)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except strictjson.StrictJSONError as exc:
        if exc.field is None:
            raise BadRequest(strictjson.describe(exc, what)) from None
        # JSON in shape, with a value strict JSON refuses: invalid content, named by field (422)
        raise ValidationError([FieldError(exc.field, exc.reason)]) from None


def json_body(required=True):
    """The request's JSON object; ``{}`` for an empty body when not ``required``."""
    raw = request.get_data(cache=True)
    if not raw.strip() and not required:
        return {}
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def error_json(status, message, errors=None):
    payload = {"error": message}
    if errors:
        payload["errors"] = errors
    response = jsonify(payload)
    response.status_code = status
    return response


def is_api_request():
    return request.path.startswith("/api/")


def is_htmx():
    return request.headers.get("HX-Request") == "true"

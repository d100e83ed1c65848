"""Request and response helpers shared by the JSON API and the pages."""

import json

from flask import jsonify, request

MAX_JSON_DEPTH = 64


class BadRequest(ValueError):
    """The request body cannot be used at all (not JSON, too deep, not an object)."""


def _depth_ok(text, limit=MAX_JSON_DEPTH):
    """Cheap pre-check so a 10,000-level document is refused before the parser recurses."""
    if text.count("[") + text.count("{") <= limit:
        return True  # too few brackets to nest deeper than the limit: skip the character scan
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return False
        elif char in "]}":
            depth -= 1
    return True


def parse_json(data, what="the body", max_depth=MAX_JSON_DEPTH):
    """Parse ``data`` (bytes or str) as JSON; raise BadRequest with a readable reason."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"{what} is not valid UTF-8 (byte {exc.start})") from None
    if not data.strip():
        raise BadRequest(f"{what} is empty; send a JSON object")
    if not _depth_ok(data, max_depth):
        raise BadRequest(f"{what} is nested more than {max_depth} levels deep")
    try:
        return json.loads(data)
    except RecursionError:
        raise BadRequest(f"{what} is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


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

"""One strict JSON parser for every way in (SPEC §12): request bodies, form fields holding JSON, stored
columns and backup files. No Flask, no database.

Python's ``json`` accepts ``NaN`` and ``Infinity``, turns ``1e400`` into infinity and lets ``"\\ud800"``
through as a lone surrogate; none of these can be written back as strict UTF-8 JSON, so a value holding
one would make every later backup unrestorable. Here each is refused with a message that says where.
Well-formed input pays for two C-level regular-expression scans only; the slower checks run when a scan
finds something that may need them.
"""

import json
import math
import re

MAX_DEPTH = 64

# A number that may overflow to infinity: an exponent of three digits or more, or 309+ digits in a row.
_MAYBE_HUGE = re.compile(r"[eE][+]?0*[1-9]\d{2,}|\d{309,}")
# A surrogate, as an escape or as a character in a str given to us.
_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")

_encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class StrictJSONError(ValueError):
    """The text is not strict JSON; the message says what and where, without a prefix.

    ``field`` is the path of the refused value (``extra.x``, ``""`` for the top) when the text is JSON in
    shape but holds a value strict JSON refuses (NaN, infinity, a lone surrogate); None when the text
    itself is unusable (too deep).
    """

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field
        self.reason = message if field is None else message.removeprefix(field).lstrip()


def _refused(problem):
    return StrictJSONError(_message(problem), field=problem[0])


def describe(exc, what):
    """The message for ``what`` (``the body``, ``the file``): ``the body is nested …``, ``… is not valid JSON: …``."""
    message = str(exc)
    return f"{what} {message}" if message.startswith("is ") else f"{what} is not valid JSON: {message}"


def refuse_constant(name):
    raise StrictJSONError(f"{name} is not allowed in JSON; send a number or null")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise StrictJSONError(f"the number {text[:40]} is too large (it overflows to infinity)")
    return value


def depth_ok(text, limit=MAX_DEPTH):
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


def loads(text, max_depth=MAX_DEPTH):
    """Parse ``text`` (str) strictly; raise StrictJSONError, or json.JSONDecodeError for bad syntax."""
    if max_depth is not None and not depth_ok(text, max_depth):
        raise StrictJSONError(f"is nested more than {max_depth} levels deep")
    hooks = {"parse_constant": refuse_constant}
    if _MAYBE_HUGE.search(text):
        hooks["parse_float"] = _finite_float
    try:
        value = json.loads(text, **hooks)
    except RecursionError:
        raise StrictJSONError("is nested too deeply") from None
    except json.JSONDecodeError:
        raise
    except StrictJSONError as exc:
        problem = _locate(text)
        raise (_refused(problem) if problem else StrictJSONError(str(exc), field="")) from None
    except ValueError as exc:  # e.g. an integer longer than the interpreter's digit limit
        raise StrictJSONError(str(exc)) from None
    if _MAYBE_SURROGATE.search(text):
        problem = find_problem(value, max_depth=None)
        if problem:
            raise _refused(problem)
    return value


def _locate(text):
    """Name the field of a refused NaN or infinity: parse leniently once more and look for it."""
    try:
        return find_problem(json.loads(text), max_depth=None)
    except (ValueError, RecursionError):
        return None


def find_problem(value, where="", max_depth=MAX_DEPTH):
    """What makes an already parsed value unfit for strict JSON, as ``(path, message)``, or None.

    Checks what ``loads`` refuses (non-finite numbers, lone surrogates, too deep) plus non-text keys,
    so values built in Python (a form, a test) obey the same rule as parsed ones. ``path`` starts with
    ``where`` (``extra.lens[2]``).
    """
    stack = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if max_depth is not None and depth > max_depth:
            return path, f"is nested more than {max_depth} levels deep"
        kind = type(item)
        if kind is str or kind is float:
            problem = _scalar_problem(item)
            if problem:
                return path, problem
        elif kind is dict:
            problem = _key_problem(item)
            if problem:
                return path, problem
            children = [(child, f"{path}.{key}" if path else key, depth + 1) for key, child in item.items()]
            stack.extend(reversed(children))  # the first problem in reading order is the one reported
        elif kind is list:
            stack.extend((item[i], f"{path}[{i}]", depth + 1) for i in range(len(item) - 1, -1, -1))
        elif item is None or kind in (bool, int):
            continue
        elif isinstance(item, str | float):  # a subclass: check it as its base type
            stack.append((str(item) if isinstance(item, str) else float(item), path, depth))
        elif isinstance(item, int):
            continue
        else:
            return path, f"is a {kind.__name__}, which JSON cannot hold"
    return None


def _scalar_problem(item):
    """Why a ``str`` or ``float`` is not strict JSON (a lone surrogate, NaN or infinity), or None."""
    if type(item) is str:
        return "holds a lone UTF-16 surrogate (such as \\ud800), which is not text" if has_surrogate(item) else None
    if math.isfinite(item):
        return None
    shown = "NaN" if item != item else ("-" if item < 0 else "") + "Infinity (or a number too large)"
    return f"is {shown}; only finite numbers are allowed in JSON"


def _key_problem(mapping):
    """Why one of ``mapping``'s keys is not strict JSON (not text, or a lone surrogate), or None."""
    for key in mapping:
        if not isinstance(key, str):
            return f"has a key that is not text ({key!r})"
        if has_surrogate(key):
            return "has a key holding a lone UTF-16 surrogate, which is not text"
    return None


def _message(problem):
    path, message = problem
    return f"{path} {message}" if path else message


def has_surrogate(text):
    """True when ``text`` holds a lone UTF-16 surrogate: it cannot be written as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def dumps(value):
    """Canonical text (SPEC §4: sorted keys, no spaces, UTF-8 as is); refuses NaN and infinities."""
    try:
        return _encode(value)
    except ValueError:
        problem = find_problem(value, max_depth=None)
        if problem is None:
            raise
        raise _refused(problem) from None


def may_need_strict_parse(text):
    """Whether ``text`` could hold what only ``loads`` refuses (a huge number, a surrogate, a constant)."""
    return bool(_MAYBE_HUGE.search(text) or _MAYBE_SURROGATE.search(text))

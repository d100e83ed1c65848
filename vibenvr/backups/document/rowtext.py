"""Canonical JSON text of backup rows, built column by column without making a dict per row.

A row's text is exactly ``json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
for the item ``columns.read_table`` gives (SPEC §4's canonical rule). Each column's values are encoded in
one pass, each row is a template with its keys already sorted, and the text a JSON column stores is
spliced in as it is when a check proves it canonical; any other stored text is parsed and re-serialised.
"""

import json
import sys
from json.encoder import encode_basestring

from ... import strictjson
from ...timeutil import iso

dump = strictjson.dumps  # refuses NaN and infinities (SPEC §12)
_scan = json.JSONDecoder(parse_constant=strictjson.refuse_constant).scan_once


def time_out(value):
    """A DATETIME column as ISO 8601 with Z; SQLite's text form is converted without parsing."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) >= 19 and value[10] == " " and value[19:20] in ("", "."):
        return f"{value[:10]}T{value[11:19]}Z"
    return iso(value)


def json_out(value):
    """Parse a JSON column. The C scanner is called directly: most values are tiny, so the
    per-call cost of ``json.loads`` would dominate a large export. Anything unusual goes to loads."""
    if value is None:
        return None
    if strictjson.may_need_strict_parse(value):
        return strictjson.loads(value, max_depth=None)
    try:
        parsed, end = _scan(value, 0)
    except (StopIteration, ValueError):
        return strictjson.loads(value, max_depth=None)  # raises the readable error
    return parsed if end == len(value) else strictjson.loads(value, max_depth=None)


# --- one value: the text json.dumps gives -----------------------------------------------------------


def _value(value):
    """``dump(value)``, with the common exact types done directly."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    return dump(value)  # floats (NaN and infinities have their own spelling), subclasses, anything else


_LITERALS = {True: "true", False: "false", None: "null"}


def _values(values):
    """``[dump(v) for v in values]`` for one column, in one C-level pass for the usual columns."""
    kinds = set(map(type, values))
    if kinds == {str}:
        return list(map(encode_basestring, values))
    if kinds == {int}:
        return list(map(int.__repr__, values))
    if kinds <= {bool, type(None)}:
        return list(map(_LITERALS.__getitem__, values))
    if kinds == {str, type(None)}:
        return ["null" if value is None else encode_basestring(value) for value in values]
    return list(map(_value, values))


def _times_to_iso(values):
    """``time_out`` over a column: database times to ISO 8601 texts, SQLite's usual text done inline."""
    return [
        value
        if value is None
        else f"{value[:10]}T{value[11:19]}Z"
        if type(value) is str and len(value) >= 19 and value[10] == " " and value[19:20] in ("", ".")
        else time_out(value)
        for value in values
    ]


def _json_texts(stored):
    """``[dump(json_out(text)) for text in stored]``: each stored text that is canonical as it is, reused.

    A text is reused only when it parses whole, holds no escape and no whitespace, and every number
    and object in it is spelt as ``dump`` spells it. The numbers and objects of the whole column are
    checked at once; only when some are not canonical are the texts checked one by one.
    """
    floats, ints, objects = [], [], []
    scan = _token_scanner(floats, ints, objects)
    out, scanned = [], []  # scanned: (index, where its numbers and objects start), in order
    for text in stored:
        if text is None:
            out.append("null")
        elif "\\" in text or " " in text or "\n" in text or "\r" in text or "\t" in text:
            out.append(dump(json_out(text)))
        else:
            scanned.append((len(out), len(floats), len(ints), len(objects)))
            out.append(text if _parses_whole(scan, text) else dump(json_out(text)))
    if not _canonical_tokens(floats, ints, objects):
        end = (len(floats), len(ints), len(objects))
        for i, f, n, o in reversed(scanned):
            if out[i] is stored[i] and not _canonical_tokens(floats[f : end[0]], ints[n : end[1]], objects[o : end[2]]):
                out[i] = dump(json_out(stored[i]))
            end = (f, n, o)
    return out


def _token_scanner(floats, ints, objects):
    """A JSON scanner that only collects the spelling of numbers and the key-value pairs of objects."""
    return json.JSONDecoder(
        parse_float=floats.append,
        parse_int=ints.append,
        object_pairs_hook=objects.append,
        parse_constant=strictjson.refuse_constant,
    ).scan_once


def _parses_whole(scan, text):
    try:
        return scan(text, 0)[1] == len(text)
    except (StopIteration, ValueError, RecursionError):
        return False


def _canonical_tokens(floats, ints, objects):
    """Whether the numbers and objects met while scanning are spelt as ``dump`` spells them: a float as
    its repr (so finite), an int without ``-0`` and short enough to convert, and the keys of every
    object in strictly increasing order."""
    if any(float.__repr__(float(token)) != token for token in set(floats)):
        return False
    limit = sys.get_int_max_str_digits()  # a longer int goes through int() and its limit, as before
    if ints and ("-0" in ints or (limit and max(map(len, ints)) > limit)):
        return False
    for pairs in objects:
        if len(pairs) > 1:
            keys = next(zip(*pairs, strict=True))
            if not all(map(str.__lt__, keys, keys[1:])):
                return False
    return True


# --- rows ----------------------------------------------------------------------------------------


_KIND = {"bool": bool, "float": float}


def column_texts(column, values):
    """The canonical JSON text of each value of one column, as read from the database."""
    if column.kind == "json":
        return _json_texts(values)
    if column.kind == "time":
        return _values(_times_to_iso(values))
    convert = _KIND.get(column.kind)
    if convert is not None:
        values = [None if value is None else convert(value) for value in values]
    return _values(values)


def row_texts(table, rows):
    """``[dump(item) for item in columns._to_dicts(table, rows)]``, from the raw rows."""
    if not rows:
        return []
    values = list(zip(*rows, strict=True))
    order = sorted(range(len(table.columns)), key=lambda i: table.columns[i].key)
    template = "{" + ",".join(dump(table.columns[i].key).replace("%", "%%") + ":%s" for i in order) + "}"
    texts = [column_texts(table.columns[i], values[i]) for i in order]
    return list(map(template.__mod__, zip(*texts, strict=True)))

"""The one strict JSON parser and encoder (SPEC §12)."""

import json

import pytest

from vibenvr import strictjson
from vibenvr.validation import FieldError, json_object

REFUSED_TEXTS = [
    ('{"a": {"x": NaN}}', "a.x", "NaN"),
    ('{"a": [1, -Infinity]}', "a[1]", "-Infinity"),
    ('{"a": Infinity}', "a", "Infinity"),
    ('{"a": 1e400}', "a", "Infinity"),
    ('{"a": -1E+999}', "a", "-Infinity"),
    ('{"a": ' + "9" * 400 + ".0}", "a", "Infinity"),
    ('{"a": "\\ud800"}', "a", "surrogate"),
    ('{"a": ["ok", "\\udfff tail"]}', "a[1]", "surrogate"),
    ('{"\\udc00": 1}', "", "surrogate"),
    ('{"first": NaN, "second": NaN}', "first", "NaN"),
]


@pytest.mark.parametrize(("text", "field", "words"), REFUSED_TEXTS)
def test_values_strict_json_cannot_hold_are_refused_naming_the_field(text, field, words):
    with pytest.raises(strictjson.StrictJSONError) as caught:
        strictjson.loads(text)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert str(caught.value).startswith(field)


ACCEPTED_TEXTS = [
    '{"a": 1e300, "b": -0.0, "c": 1E-400}',  # large but finite; underflow is zero, not infinity
    '{"pair": "\\ud83d\\ude00"}',  # a surrogate pair is one real character
    '{"escaped": "\\\\ud800"}',  # a backslash and the letters u d 8 0 0
    '{"big": 123456789012345678901234567890}',
    '{"x": "ünïcødé 🚗"}',
]


@pytest.mark.parametrize("text", ACCEPTED_TEXTS)
def test_strict_json_accepts_what_json_loads_gives_for_valid_input(text):
    assert strictjson.loads(text) == json.loads(text)


def test_nesting_beyond_the_limit_is_refused_before_parsing():
    with pytest.raises(strictjson.StrictJSONError) as caught:
        strictjson.loads("[" * 65 + "]" * 65)
    assert caught.value.field is None
    assert "nested more than 64" in str(caught.value)
    assert strictjson.loads("[" * 64 + "]" * 64)


def test_the_encoder_refuses_non_finite_numbers_and_names_where():
    with pytest.raises(strictjson.StrictJSONError, match=r"lens\[1\] is NaN"):
        strictjson.dumps({"lens": [1.0, float("nan")]})
    assert strictjson.dumps({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"x": float("inf")}, "extra.x is Infinity"),
        ({"x": {"y": "\ud800"}}, "extra.x.y holds a lone UTF-16 surrogate"),
        ({1: "a"}, "extra has a key that is not text"),
        ({"deep": {"a": [[[[]]]]}}, None),
    ],
)
def test_json_object_fields_obey_the_same_rule_as_parsed_bodies(value, message):
    if message is None:
        assert json_object()(value, "extra") == value
        return
    with pytest.raises(FieldError) as caught:
        json_object()(value, "extra")
    assert str(caught.value).startswith(message)

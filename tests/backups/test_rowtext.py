"""Backups built from row texts are byte for byte the straightforward ``json.dumps`` of the document.

The reference is ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` of what
``columns.read_table`` gives: the file's sections, its checksum and every row text must match it, whatever
text the database holds (canonical or not, written before JSON columns were stored canonically).
"""

import datetime as dt
import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vibenvr.backups.document import columns, rowtext
from vibenvr.backups.document.canonical import SECTIONS, encode
from vibenvr.backups.document.columns import TABLES, TABLES_BY_SECTION, read_table
from vibenvr.backups.document.export import export_bytes, export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.backups.restore import restore_document
from vibenvr.db import JSONField, db
from vibenvr.models import Camera, Setting, User

from .helpers import build_rich_config
from .test_roundtrip import configurations

NOW = dt.datetime(2026, 11, 29, 22, 40, 0)
CAMERA_EXTRA = next(c for c in TABLES_BY_SECTION["cameras"].columns if c.key == "extra")
FUNCTION_SCOPED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def reference(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def assert_matches_reference(data):
    """The file's sections are the reference text of what export reads; its checksum is the reference's."""
    doc = json.loads(data)
    lines = data.decode("utf-8").rstrip("\n")[1:-1].split(",\n")
    by_key = dict(line.split(":", 1) for line in lines)
    for table in TABLES:
        assert by_key[json.dumps(table.section)] == reference(read_table(table)), table.section
    for key, text in by_key.items():
        assert text == reference(doc[json.loads(key)]), key
    body = reference({key: value for key, value in doc.items() if key != "checksum"}).encode("utf-8")
    assert doc["checksum"] == {"algorithm": "sha256", "value": hashlib.sha256(body).hexdigest()}
    assert data == encode(export_document(now=NOW))


def store_raw(sql, text):
    """Put ``text`` in the database as it is, past JSONField (``sql`` has one ``{}`` for the parameter)."""
    db.execute_sql(sql.format(db.param), (text,))


def cold_export():
    return export_bytes(now=NOW)


@settings(max_examples=25, deadline=None, suppress_health_check=FUNCTION_SCOPED)
@given(doc=configurations())
def test_generated_configurations_export_the_reference_bytes(app, doc):
    restore_document(validate_document(encode(doc)))
    assert_matches_reference(cold_export())


def test_the_rich_configuration_and_an_empty_one_export_the_reference_bytes(ctx):
    assert_matches_reference(cold_export())  # empty sections
    build_rich_config()
    assert_matches_reference(cold_export())


# Stored texts a database may hold: written before the canonical form, by hand, or by another version.
ODD_TEXTS = [
    '{"monday": [["08:00", "12:00"]], "friday": []}',  # spaces, unsorted keys
    '{"b":1,"a":{"d":[],"c":{}}}',  # nested unsorted objects
    '{"a":1,"a":2}',  # a duplicate key (the last one wins)
    '{"name":"caf\\u00e9","quote":"a\\"b","slash":"a\\/b","tab":"\\t"}',  # escapes
    '{"café":"ünïcødé 🚗","é":"e"}',  # raw unicode, sorted by code point
    "[1.50,1e2,1E-7,-0.0,0.30000000000000004,0.1000000000000000055511151231257827]",
    "[-0]",
    "[0.1000000000000000055511151231257827]",
    "[1e2]",
    '{"n":1.0,"x":1.50}',
    "[123456789012345678901234567890,-5,0]",
    '["\x7f","\u2028"]',
    "[true,false,null]",
    "\n[ ]\n",
    "{}",
    '"just text"',
    "3.0",
]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_any_stored_json_text_exports_as_its_canonical_form(ctx, text):
    build_rich_config()
    store_raw('UPDATE "camera" SET "extra" = {}', text)
    store_raw('UPDATE "user" SET "allowed_group_ids" = {}', text)
    store_raw("""INSERT INTO "setting" ("key", "value") VALUES ('extra', {})""", text)
    data = cold_export()
    assert_matches_reference(data)
    assert json.loads(data)["cameras"][0]["extra"] == json.loads(text)


@pytest.mark.parametrize("text", ["[NaN]", "[1,Infinity]", '{"a":-Infinity}', "[1e400]", '["\\ud800"]'])
def test_a_stored_text_that_strict_json_refuses_stops_the_export(ctx, text):
    """SPEC §12: a stored column is read by the strict parser, so a poisoned value can never be written
    into a backup that its own validation would then refuse."""
    build_rich_config()
    store_raw('UPDATE "camera" SET "extra" = {}', text)
    with pytest.raises(ValueError, match="only finite numbers|surrogate"):
        cold_export()


def test_a_stored_text_that_is_not_json_stops_the_export_as_before(ctx):
    build_rich_config()
    store_raw('UPDATE "camera" SET "extra" = {}', '{"a":1,}')
    with pytest.raises(json.JSONDecodeError):
        cold_export()


# What strict JSON can hold (SPEC §12): finite numbers, text without lone surrogates.
finite = st.floats(allow_nan=False, allow_infinity=False)
real_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite | real_text,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(real_text.filter(lambda t: len(t) <= 6), inner, max_size=4)
    ),
    max_leaves=12,
)
spellings = st.sampled_from(
    [
        {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False},  # canonical, as stored now
        {"separators": (",", ":"), "ensure_ascii": False},  # as stored before
        {"sort_keys": True, "separators": (",", ":")},  # ASCII escapes
        {},  # spaces
        {"indent": 1, "sort_keys": True},
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.tuples(json_values, spellings).map(lambda vs: json.dumps(vs[0], **vs[1])),
            st.sampled_from(ODD_TEXTS),
        ),
        max_size=8,
    )
)
def test_a_json_column_gives_the_reference_text_of_each_parsed_value(texts):
    expected = ["null" if text is None else reference(json.loads(text)) for text in texts]
    assert rowtext.column_texts(CAMERA_EXTRA, texts) == expected


sqlite_times = st.datetimes(min_value=dt.datetime(1970, 1, 1)).map(str)
raw_values = {
    "plain": st.none() | st.booleans() | st.integers() | finite | real_text,
    "owner": st.none() | real_text,
    "bool": st.none() | st.booleans() | st.integers(0, 1),
    "float": st.none() | finite | st.integers(-(10**6), 10**6),
    "time": st.none()
    | sqlite_times
    | st.datetimes()
    | st.sampled_from(["2026-11-29 22:40:00.5", "2026-11-29T22:40:00"]),
    "json": st.none() | st.tuples(json_values, spellings).map(lambda vs: json.dumps(vs[0], **vs[1])),
}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_row_texts_are_the_reference_text_of_each_item_for_every_table(data):
    for table in TABLES:
        row = st.tuples(*[raw_values[column.kind] for column in table.columns])
        rows = data.draw(st.lists(row, max_size=4), label=table.section)
        expected = [reference(item) for item in columns._to_dicts(table, rows)]
        assert rowtext.row_texts(table, rows) == expected


def test_json_columns_are_stored_in_canonical_form(ctx):
    field = JSONField()
    assert (
        field.db_value({"b": [1.5, None], "a": "é", "c": {"z": 1, "y": 2}})
        == '{"a":"é","b":[1.5,null],"c":{"y":2,"z":1}}'
    )
    camera = build_rich_config()["garage"]
    stored = db.execute_sql(f'SELECT "schedule" FROM "camera" WHERE "id" = {camera.id:d}').fetchone()[0]  # noqa: S608
    assert stored == reference(Camera.get_by_id(camera.id).schedule)
    assert list(json.loads(stored)) == sorted(json.loads(stored))
    assert Setting.select().count() and User.select().count()


def test_every_section_is_checked_above():
    assert set(SECTIONS) - {"settings"} == {table.section for table in TABLES}


def test_canonical_stored_text_is_reused_as_it_is_even_beside_text_that_is_not():
    canonical = ['{"a":[0.5,1],"b":{}}', "[[0.1,0.2]]", '{"x":"ü"}']
    stored = [canonical[0], '{"b":1,"a":2}', canonical[1], "[1.50]", canonical[2], '{"k": 1}']
    out = rowtext.column_texts(CAMERA_EXTRA, stored)
    assert out == [reference(json.loads(text)) for text in stored]
    assert [out[0], out[2], out[4]] == canonical and all(out[i] is stored[i] for i in (0, 2, 4))


def test_an_int_too_long_to_convert_stops_the_export_as_before():
    with pytest.raises(ValueError, match="limit"):
        rowtext.column_texts(CAMERA_EXTRA, ["[" + "9" * 5000 + "]"])

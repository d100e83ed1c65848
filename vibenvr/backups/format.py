"""The backup document (SPEC §4): export, canonical bytes and checksum, encoding, and validation.

No Flask here: these functions take the bound database and plain values. What a backup holds is defined
once, in ``columns`` (built from the models and the API schemas): ``export_document`` reads it as a
document, ``export_bytes`` as the file that automatic, manual and safety backups and downloads write,
byte for byte ``encode(export_document())``. ``validate_document`` is the one way in for every restore.
"""

import datetime as dt
import gc
import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass, field

from .. import strictjson
from ..config import APP_VERSION
from ..db import db
from ..timeutil import iso, parse_iso, utcnow
from .columns import TABLES, read_settings, read_table, table_json
from .errors import BackupError

FORMAT = "vibenvr-backup"
SCHEMA_VERSION = 2
LEGACY_VERSION = "2.0"  # the ``version`` key VibeNVR 1.x readers look at
KINDS = ("auto", "manual", "imported", "safety")
SECTIONS = (
    "settings",
    "storage_profiles",
    "cameras",
    "groups",
    "associations",
    "users",
    "api_tokens",
    "recovery_codes",
    "trusted_devices",
)
HEADER = ("format", "schema_version", "version", "timestamp", "kind", "app_version", "counts")
TOP_LEVEL = (*HEADER, *SECTIONS, "checksum")


@dataclass
class ValidBackup:
    """A backup that passed validation: ``doc`` is the normalised v2 document (without ``checksum``)."""

    doc: dict
    kind: str
    created_at: dt.datetime
    app_version: str
    schema_version: int
    legacy: bool = False
    report: list = field(default_factory=list)
    given_settings: frozenset = frozenset()  # the settings the file itself holds (a merge applies only those)

    @property
    def counts(self):
        return counts_of(self.doc)

    def summary(self):
        """What the file holds, for confirmations: kind, time, version and counts."""
        return {
            "kind": self.kind,
            "created_at": iso(self.created_at),
            "app_version": self.app_version,
            "schema_version": self.schema_version,
            "legacy": self.legacy,
            "counts": self.counts,
            "report": list(self.report),
        }


# --- serialisation -------------------------------------------------------------------------------


def _dump(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _members(doc, keys):
    """``"key":value`` pieces, each value in canonical form, for the keys of ``doc`` given."""
    return [f"{_dump(key)}:{_dump(doc[key])}" for key in keys]


def canonical_bytes(doc):
    """The bytes the checksum covers: the whole object without ``checksum``, canonically serialised.

    Equal to ``json.dumps(doc_without_checksum, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False).encode("utf-8")``.
    """
    keys = sorted(k for k in doc if k != "checksum")
    return ("{" + ",".join(_members(doc, keys)) + "}").encode("utf-8")


def compute_checksum(doc):
    """``{"algorithm": "sha256", "value": hex}`` for ``doc`` (its own ``checksum`` key is ignored)."""
    return {"algorithm": "sha256", "value": hashlib.sha256(canonical_bytes(doc)).hexdigest()}


def _serialise(doc):
    """``(checksum, file bytes)`` from one serialisation of every value."""
    known = [k for k in TOP_LEVEL if k in doc and k != "checksum"]
    others = sorted(k for k in doc if k not in TOP_LEVEL)
    return _assemble({k: _dump(doc[k]) for k in known + others})


def _assemble(values):
    """``(checksum, file bytes)`` from ``{key: canonical JSON of its value}`` in file order."""
    pieces = {key: f"{_dump(key)}:{text}".encode() for key, text in values.items()}
    digest = hashlib.sha256(b"{")  # the canonical bytes: "{", the pieces in key order joined by ",", "}"
    for n, key in enumerate(sorted(pieces)):
        if n:
            digest.update(b",")
        digest.update(pieces[key])
    digest.update(b"}")
    checksum = {"algorithm": "sha256", "value": digest.hexdigest()}
    lines = [*pieces.values(), f'"checksum":{_dump(checksum)}}}\n'.encode()]  # the file: a key per line
    lines[0] = b"{" + lines[0]  # copies the first line only (the header's format, when encoding a backup)
    return checksum, b",\n".join(lines)


def encode(doc):
    """The file's bytes: one top-level key per line, in the documented order, ending with the checksum.

    The checksum is computed afresh, so it always matches the bytes written.
    """
    return _serialise(doc)[1]


def counts_of(doc):
    return {section: len(doc.get(section) or ()) for section in SECTIONS}


# --- export --------------------------------------------------------------------------------------


def export_document(kind="manual", now=None, app_version=APP_VERSION):
    """The whole configuration as a backup document, with ``counts`` and ``checksum``."""
    doc = _read_document(kind, now, app_version)
    doc["checksum"] = compute_checksum(doc)
    return doc


def export_bytes(kind="manual", now=None, app_version=APP_VERSION):
    """The file a backup of the whole configuration is: ``encode(export_document(…))``, byte for byte.

    Sections are serialised straight from the rows (``columns.table_json``), without building the
    document; this is what backups on disk and ``GET /api/config/export`` use.
    """
    with _snapshot(), _collector_paused():
        settings = read_settings()
        tables = {table.section: table_json(table) for table in TABLES}
    values = {key: _dump(value) for key, value in _header(kind, now, app_version).items()}
    counts = {"settings": len(settings), **{section: n for section, (_, n) in tables.items()}}
    values["counts"] = _dump({section: counts[section] for section in SECTIONS})
    values["settings"] = _dump(settings)
    values.update((section, text) for section, (text, _) in tables.items())
    values = {key: values[key] for key in TOP_LEVEL if key in values}
    return _assemble(values)[1]


def _header(kind, now, app_version):
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    return {"format": FORMAT, "schema_version": SCHEMA_VERSION, "version": LEGACY_VERSION,
            "timestamp": iso(now or utcnow()), "kind": kind, "app_version": app_version}


@contextmanager
def _collector_paused():
    """Hold back Python's cyclic garbage collector while rows are serialised: the work makes some 10^5
    short-lived containers, all freed by reference counting, and every collection they would set off
    walks the long-lived objects of the whole process."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _snapshot():
    """One transaction for every read, so the backup is a consistent snapshot."""
    with db.atomic():
        if type(db.obj).__name__.startswith("Postgres"):
            db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _read_document(kind, now, app_version):
    doc = _header(kind, now, app_version)
    with _snapshot():
        sections = {"settings": read_settings()}
        sections.update({table.section: read_table(table) for table in TABLES})
    doc["counts"] = {section: len(sections[section]) for section in SECTIONS}
    doc.update((section, sections[section]) for section in SECTIONS)
    return doc


# --- validation ----------------------------------------------------------------------------------


def parse_bytes(data, source="the file"):
    """Parse bytes or text into a JSON value; raise BackupError(status=400) saying what is wrong."""
    if isinstance(data, bytes | bytearray):
        if not data.strip():
            raise BackupError([f"{source} is empty; a backup is a JSON object"], status=400)
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BackupError([f"{source} is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start})"],
                              status=400) from None
    if not data.strip():
        raise BackupError([f"{source} is empty; a backup is a JSON object"], status=400)
    try:
        return strictjson.loads(data, max_depth=None)  # deep nesting ends in the parser's RecursionError
    except json.JSONDecodeError as exc:
        ended = exc.pos >= len(data.rstrip()) or exc.msg.startswith("Unterminated string")
        hint = "; the file looks truncated" if ended else ""
        raise BackupError([f"{source} is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno}){hint}"],
                          status=400) from None
    except strictjson.StrictJSONError as exc:
        message = str(exc).replace("is nested too deeply", "is nested too deeply to be a backup")
        raise BackupError([strictjson.describe(message, source)], status=400) from None


def validate_document(data, source="upload"):
    """Check a backup completely before anything is written; return a ValidBackup.

    ``data`` is bytes, text or an already parsed dict. Raises BackupError listing every problem
    (400 when the file is not a JSON object at all, 422 when its content is wrong).
    """
    from . import checks, legacy

    where = "the upload" if source == "upload" else source
    owned = not isinstance(data, dict)  # parsed here, so the checks may drop what they are done with
    if owned:
        data = parse_bytes(data, where)
    if not isinstance(data, dict):
        kind = "an array" if isinstance(data, list) else f"a {type(data).__name__} value"
        raise BackupError([f"{where} holds {kind}; a backup is a JSON object"], status=400)
    if legacy.is_legacy(data):
        doc, report = legacy.convert(data)
        return _checked(checks.check_sections(doc, consume=True), legacy=True, report=report,
                        given=doc["settings"])
    _check_header(data)
    given = data["settings"] if isinstance(data.get("settings"), dict) else {}
    return _checked(checks.check_sections(data, consume=owned), legacy=False, report=[], given=given)


def _checked(doc, legacy, report, given):
    return ValidBackup(
        doc=doc,
        kind=doc["kind"],
        created_at=parse_iso(doc["timestamp"]),
        app_version=doc["app_version"],
        schema_version=doc["schema_version"],
        legacy=legacy,
        report=report,
        given_settings=frozenset(given),
    )


def _check_header(data):
    """Format, schema version and checksum: checked first, each refused on its own."""
    fmt = data.get("format")
    if fmt != FORMAT:
        shown = "missing" if fmt is None else f"{fmt!r}"
        raise BackupError([f'format is {shown}; a VibeNVR backup has "format": "{FORMAT}"'])
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise BackupError([f"schema_version must be a whole number, got {version!r}"])
    if version > SCHEMA_VERSION:
        raise BackupError([
            f"schema_version is {version}, newer than the {SCHEMA_VERSION} this version of VibeNVR Config "
            f"({APP_VERSION}) reads; update VibeNVR Config to restore this file"
        ])
    if version < SCHEMA_VERSION:
        raise BackupError([f"schema_version {version} is not a known version (expected {SCHEMA_VERSION})"])
    checksum = data.get("checksum")
    if checksum is None:
        raise BackupError(["checksum is missing; only VibeNVR 1.x files may come without one"])
    if (not isinstance(checksum, dict) or checksum.get("algorithm") != "sha256"
            or not isinstance(checksum.get("value"), str)):
        raise BackupError(['checksum must be {"algorithm": "sha256", "value": "<64 hex digits>"}'])
    expected = compute_checksum(data)["value"]
    if checksum["value"].lower() != expected:
        raise BackupError([
            "checksum does not match the contents: the file was changed or damaged after it was written "
            f"(file says {checksum['value'][:12]}…, contents give {expected[:12]}…)"
        ])

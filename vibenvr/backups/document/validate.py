"""Validation (SPEC §4, §6): the one way in for every restore, import, merge and verify.

``validate_document`` parses (strictly), checks the header and the checksum, maps a VibeNVR 1.x file
(``legacy``), checks every section (``checks``) and returns a ``ValidBackup``; nothing is written.
"""

import datetime as dt
import json
from dataclasses import dataclass, field

from ... import strictjson
from ...config import APP_VERSION
from ...timeutil import iso, parse_iso
from ..errors import BackupError
from ..names import is_encrypted_name
from . import checks, envelope, legacy
from .canonical import FORMAT, SCHEMA_VERSION, compute_checksum, counts_of
from .upgrade import OLDEST, upgrade


@dataclass
class ValidBackup:
    """A backup that passed validation: ``doc`` is the normalised current-version document (without ``checksum``)."""

    doc: dict
    kind: str
    created_at: dt.datetime
    app_version: str
    schema_version: int  # the version the file was written in (``doc`` is always the current one)
    legacy: bool = False
    report: list = field(default_factory=list)
    given_settings: frozenset = frozenset()  # the settings the file itself holds (a merge applies only those)
    encrypted: bool = False  # the file was age-encrypted (SPEC §13); ``doc`` is what it held

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


def parse_bytes(data, source="the file"):
    """Parse bytes or text into a JSON value; raise BackupError(status=400) saying what is wrong."""
    if isinstance(data, bytes | bytearray):
        if not data.strip():
            raise BackupError([f"{source} is empty; a backup is a JSON object"], status=400)
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BackupError(
                [f"{source} is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start})"], status=400
            ) from None
    if not data.strip():
        raise BackupError([f"{source} is empty; a backup is a JSON object"], status=400)
    try:
        return strictjson.loads(data, max_depth=None)  # deep nesting ends in the parser's RecursionError
    except json.JSONDecodeError as exc:
        rest = data[exc.pos :].rstrip()  # a file cut inside true/false/null ends in a piece of it
        ended = (
            not rest
            or exc.msg.startswith("Unterminated string")
            or any(word.startswith(rest) for word in ("true", "false", "null"))
        )
        hint = "; the file looks truncated" if ended else ""
        raise BackupError(
            [f"{source} is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno}){hint}"], status=400
        ) from None
    except strictjson.StrictJSONError as exc:
        message = str(exc).replace("is nested too deeply", "is nested too deeply to be a backup")
        raise BackupError([strictjson.describe(message, source)], status=400) from None


def validate_file(data, source="upload", identities=(), phrase=None):
    """``validate_document`` for a file as it is stored or uploaded: plain JSON, or age-encrypted and opened
    with ``identities`` (the server key, a kit) or ``phrase`` (SPEC §13). Keys are used for this call only.

    The content decides, except that a file named ``….json.age`` must be age: plain JSON under that name is
    refused ("not an age-encrypted file"), as the name promises an encryption the file does not have."""
    if isinstance(data, bytes | bytearray) and (envelope.is_encrypted(data) or is_encrypted_name(source)):
        where = "the upload" if source == "upload" else source
        valid = validate_document(envelope.decrypt(data, identities, phrase, where), source)
        valid.encrypted = True
        return valid
    return validate_document(data, source)


def validate_document(data, source="upload"):
    """Check a backup completely before anything is written; return a ValidBackup.

    ``data`` is bytes, text or an already parsed dict. Raises BackupError listing every problem
    (400 when the file is not a JSON object at all, 422 when its content is wrong).
    """
    where = "the upload" if source == "upload" else source
    owned = not isinstance(data, dict)  # parsed here, so the checks may drop what they are done with
    if owned:
        data = parse_bytes(data, where)
    if not isinstance(data, dict):
        kind = "an array" if isinstance(data, list) else f"a {type(data).__name__} value"
        raise BackupError([f"{where} holds {kind}; a backup is a JSON object"], status=400)
    if legacy.is_legacy(data):
        doc, report = legacy.convert(data)
        return _checked(checks.check_sections(doc, consume=True), legacy=True, report=report, given=doc["settings"])
    _check_header(data)
    written = data["schema_version"]
    data, report = upgrade(data)  # a file of an earlier version, read as the current one
    given = data["settings"] if isinstance(data.get("settings"), dict) else {}
    doc = checks.check_sections(data, consume=owned)
    return _checked(doc, legacy=False, report=report, given=given, written=written)


def _checked(doc, legacy, report, given, written=None):
    return ValidBackup(
        doc=doc,
        kind=doc["kind"],
        created_at=parse_iso(doc["timestamp"]),
        app_version=doc["app_version"],
        schema_version=written or doc["schema_version"],
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
        raise BackupError(
            [
                f"schema_version is {version}, newer than the {SCHEMA_VERSION} this version of VibeNVR Config "
                f"({APP_VERSION}) reads; update VibeNVR Config to restore this file"
            ]
        )
    if version < OLDEST:
        raise BackupError(
            [
                f"schema_version {version} is not a version any VibeNVR Config wrote (the versions are "
                f"{OLDEST} to {SCHEMA_VERSION}; a VibeNVR 1.x file has no schema_version)"
            ]
        )
    checksum = data.get("checksum")
    if checksum is None:
        raise BackupError(["checksum is missing; only VibeNVR 1.x files may come without one"])
    if (
        not isinstance(checksum, dict)
        or checksum.get("algorithm") != "sha256"
        or not isinstance(checksum.get("value"), str)
    ):
        raise BackupError(['checksum must be {"algorithm": "sha256", "value": "<64 hex digits>"}'])
    expected = compute_checksum(data)["value"]
    if checksum["value"].lower() != expected:
        raise BackupError(
            [
                "checksum does not match the contents: the file was changed or damaged after it was written "
                f"(file says {checksum['value'][:12]}…, contents give {expected[:12]}…)"
            ]
        )

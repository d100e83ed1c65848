"""The backup file's bytes (SPEC §4): what a backup holds at the top level, the canonical form the checksum
covers, and the file layout (one top-level key per line, the checksum last).

Every JSON text of a backup is ``strictjson.dumps``: sorted keys, no spaces, UTF-8 as is, and NaN or
infinities refused, the same encoder the database's JSON columns and the zero-trace guard use.
"""

import hashlib

from ...strictjson import dumps as dump

FORMAT = "vibenvr-backup"
SCHEMA_VERSION = 4  # 3: backup_recipients (SPEC §13), 4: backup_locations (§14); upgrade.py reads 2 and 3
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
    "backup_recipients",
    "backup_locations",
)
HEADER = ("format", "schema_version", "version", "timestamp", "kind", "app_version", "counts")
TOP_LEVEL = (*HEADER, *SECTIONS, "checksum")


def _members(doc, keys):
    """``"key":value`` pieces, each value in canonical form, for the keys of ``doc`` given."""
    return [f"{dump(key)}:{dump(doc[key])}" for key in keys]


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
    return assemble({k: dump(doc[k]) for k in known + others})


def assemble(values):
    """``(checksum, file bytes)`` from ``{key: canonical JSON of its value}`` in file order."""
    pieces = {key: f"{dump(key)}:{text}".encode() for key, text in values.items()}
    digest = hashlib.sha256(b"{")  # the canonical bytes: "{", the pieces in key order joined by ",", "}"
    for n, key in enumerate(sorted(pieces)):
        if n:
            digest.update(b",")
        digest.update(pieces[key])
    digest.update(b"}")
    checksum = {"algorithm": "sha256", "value": digest.hexdigest()}
    lines = [*pieces.values(), f'"checksum":{dump(checksum)}}}\n'.encode()]  # the file: a key per line
    lines[0] = b"{" + lines[0]  # copies the first line only (the header's format, when encoding a backup)
    return checksum, b",\n".join(lines)


def encode(doc):
    """The file's bytes: one top-level key per line, in the documented order, ending with the checksum.

    The checksum is computed afresh, so it always matches the bytes written.
    """
    return _serialise(doc)[1]


def counts_of(doc):
    return {section: len(doc.get(section) or ()) for section in SECTIONS}

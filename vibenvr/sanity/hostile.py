"""The hostile-file table the sanity checks send to import: every file must be refused, none stored.

Built from a real export, so each file differs from a valid backup in exactly one way. Shared by the
in-process checks and the HTTP script.
"""

import copy
import json

from ..backups.document.canonical import SECTIONS, encode


def _base(doc):
    base = copy.deepcopy({key: value for key, value in doc.items() if key != "checksum"})
    for needed in ("cameras", "storage_profiles", "users", "api_tokens"):
        if not base.get(needed):
            raise ValueError(f"the hostile-file table needs a document with {needed}; this one has none")
    return base


def _signed(base, mutate):
    """``base`` changed by ``mutate``, recounted and signed again: only the change is wrong."""
    doc = copy.deepcopy(base)
    mutate(doc)
    doc["counts"] = {s: len(doc[s]) for s in SECTIONS if isinstance(doc.get(s), list | dict)}
    return encode(doc)


def _unsigned_change(base):
    data = json.loads(encode(base))
    data["settings"]["system_name"] = str(data["settings"].get("system_name")) + " (tampered)"
    return json.dumps(data).encode("utf-8")


def _duplicate_camera(doc):
    copy_ = dict(doc["cameras"][0], name=doc["cameras"][0]["name"] + " (copy)")
    doc["cameras"].append(copy_)


def hostile_files(doc):
    """``[(label, bytes, expected HTTP status)]`` from ``doc``, a valid export holding at least a camera,
    a storage profile, a user and an API token."""
    base = _base(doc)
    valid = encode(base)
    camera = 0

    def camera_field(**fields):
        return lambda d: d["cameras"][camera].update(fields)

    return [
        ("not JSON", b"this is not a backup", 400),
        ("an empty file", b"", 400),
        ("a JSON array", b"[1, 2, 3]", 400),
        ("a truncated file", valid[: len(valid) // 2], 400),
        ("invalid UTF-8", b'{"format": "vibenvr-backup", "name": "\xff\xfe"}', 400),
        ("10,000 levels of nesting", b'{"a":' + b"[" * 10000 + b"]" * 10000 + b"}", 400),
        ("another format", _signed(base, lambda d: d.update(format="camera-export")), 422),
        ("a future schema_version", _signed(base, lambda d: d.update(schema_version=d["schema_version"] + 1)), 422),
        ("a checksum that does not match", _unsigned_change(base), 422),
        ("a missing section", _signed(base, lambda d: d.pop("groups")), 422),
        ("a camera field of the wrong type", _signed(base, camera_field(framerate="fast")), 422),
        ("a camera URL with a file: scheme", _signed(base, camera_field(rtsp_url="file:///etc/passwd")), 422),
        (
            "a polygon point out of range",
            _signed(base, camera_field(privacy_masks=[[[0.1, 0.1], [1.5, 0.2], [0.3, 0.4]]])),
            422,
        ),
        ("a polygon of two points", _signed(base, camera_field(motion_zones=[[[0.1, 0.1], [0.2, 0.2]]])), 422),
        ("a duplicate camera id", _signed(base, _duplicate_camera), 422),
        (
            "an association to a missing camera",
            _signed(base, lambda d: d["associations"].append({"camera_id": 987654321, "group_id": 987654321})),
            422,
        ),
        (
            "a token owned by a missing user",
            _signed(base, lambda d: d["api_tokens"][0].update(username="no-such-user-xyz")),
            422,
        ),
        (
            "a storage path with ..",
            _signed(base, lambda d: d["storage_profiles"][0].update(path="/recordings/../etc")),
            422,
        ),
        ("a setting out of range", _signed(base, lambda d: d["settings"].update(backup_auto_frequency_hours=0)), 422),
        ("a setting of the wrong type", _signed(base, lambda d: d["settings"].update(smtp_port="twenty-five")), 422),
    ]

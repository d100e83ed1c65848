"""Data builders: valid objects with sensible defaults, overridden per test."""

import itertools

from pyrage import x25519

from vibenvr.auth.passwords import hash_password
from vibenvr.auth.tokens import issue_token
from vibenvr.backups.locations.service import create_location
from vibenvr.backups.recipients import create_recipient
from vibenvr.cameras.service import create_camera
from vibenvr.groups.service import create_group
from vibenvr.models import User
from vibenvr.storage.service import create_profile

_seq = itertools.count(1)
PASSWORD = "correct horse battery"
_HASH_CACHE = {}


def camera_data(**overrides):
    n = next(_seq)
    data = {
        "name": f"Camera {n}",
        "location": "Driveway",
        "rtsp_url": f"rtsp://user:p%40ss@192.168.1.{n % 250 + 1}:554/stream1",
        "privacy_masks": [[[0.1, 0.1], [0.3, 0.1], [0.3, 0.4]]],
        "schedule": {"monday": [["08:00", "12:00"]], "sunday": []},
    }
    data.update(overrides)
    return data


def make_camera(**overrides):
    return create_camera(camera_data(**overrides))


def make_group(**overrides):
    data = {"name": f"Group {next(_seq)}", "description": "Outside"}
    data.update(overrides)
    return create_group(data)


def make_profile(**overrides):
    n = next(_seq)
    data = {"name": f"Profile {n}", "path": f"/recordings/p{n}", "max_size_gb": 100}
    data.update(overrides)
    return create_profile(data)


def make_user(username=None, role="admin", password=PASSWORD, **fields):
    # argon2 is deliberately slow; hash each distinct password once per test session.
    if password not in _HASH_CACHE:
        _HASH_CACHE[password] = hash_password(password)
    return User.create(
        username=username or f"user{next(_seq)}",
        hashed_password=_HASH_CACHE[password],
        role=role,
        **fields,
    )


def make_token(user, name="test", **kwargs):
    _token, plain = issue_token(user, name, **kwargs)
    return plain


def make_recipient(name=None, recipient=None):
    """A backup recipient of the admins' own (SPEC §13): a fresh age key's public recipient unless given."""
    n = next(_seq)
    return create_recipient(
        {"name": name or f"Laptop {n}", "recipient": recipient or str(x25519.Identity.generate().to_public())}
    )


def make_location(**fields):
    """A backup location (SPEC §14): by default a disabled folder location (nothing is copied to it)."""
    n = next(_seq)
    body = {"name": f"Place {n}", "kind": "folder", "path": f"/mnt/nas-{n}", "enabled": False, **fields}
    return create_location(body)

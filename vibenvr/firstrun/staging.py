"""The backup file between its preview and the restore on /setup: kept in ``<data>/setup_restore/``.

The preview and the restore are two requests (the person reads, then confirms), and the keys that opened an
encrypted file and the credentials of a location are used for one request only (SPEC §13, §16). So the
first request keeps what it read here: the file's plain JSON (what is previewed is exactly what is
restored) and, for an upload or a file fetched from a location, the file as it came (kept as an
``imported`` backup after the restore, still encrypted when it was). Not in the backup folder: a file
there would mark the data folder as set up before (``auth.setupcode``).

Each staged file is ``<token>.json`` (0600, written atomically); the token is the time it was made and a
random part, and only the browser's session knows it. It is deleted after the restore, when the person
chooses another file, and an hour after it was made. No Flask here.
"""

import base64
import contextlib
import datetime as dt
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..fsutil import atomic_write, read_regular_file
from ..timeutil import iso, parse_iso

FOLDER_NAME = "setup_restore"
LIFETIME = dt.timedelta(hours=1)
_TOKEN = re.compile(r"^(\d{8}T\d{6})-[A-Za-z0-9_-]{32}$")
STAMP = "%Y%m%dT%H%M%S"
SOURCES = ("upload", "server", "location")


@dataclass(frozen=True)
class Staged:
    """A backup file read for a restore on /setup, waiting for the person to confirm it."""

    token: str
    source: str  # upload, server (the backup folder) or location
    name: str  # the file's name where it came from
    place: str  # where it came from, for people: "your computer", a folder, a location
    plain: bytes  # the JSON document (decrypted when the file was encrypted)
    original: bytes | None  # the file as it came, to keep as an imported backup; None for the backup folder
    encrypted: bool
    created_at: dt.datetime


def folder(data_dir):
    return Path(data_dir) / FOLDER_NAME


def _path(data_dir, token):
    if not isinstance(token, str) or not _TOKEN.match(token):
        return None
    return folder(data_dir) / f"{token}.json"


def _made_at(name):
    """When the staged file ``name`` (``<token>.json``) was made, from its token; None for other names."""
    match = _TOKEN.match(name.removesuffix(".json"))
    if not match or not name.endswith(".json"):
        return None
    try:
        return dt.datetime.strptime(match.group(1), STAMP)
    except ValueError:
        return None


def _expired(made, moment):
    return made is None or made > moment + dt.timedelta(minutes=5) or moment - made > LIFETIME


def stage(data_dir, moment, source, name, place, plain, original=None, encrypted=False):
    """Keep a file for its restore; returns its token. Older staged files are swept first."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    sweep(data_dir, moment)
    where = folder(data_dir)
    where.mkdir(mode=0o700, exist_ok=True)
    token = f"{moment.strftime(STAMP)}-{secrets.token_urlsafe(24)}"
    body = {
        "source": source,
        "name": name,
        "place": place,
        "encrypted": bool(encrypted),
        "created_at": iso(moment),
        "plain": base64.b64encode(bytes(plain)).decode("ascii"),
        "original": base64.b64encode(bytes(original)).decode("ascii") if original is not None else None,
    }
    atomic_write(where / f"{token}.json", json.dumps(body))
    return token


def load(data_dir, token, moment):
    """The Staged file of ``token``, or None when there is none (never made, restored, expired, unreadable)."""
    path = _path(data_dir, token)
    if path is None:
        return None
    if _expired(_made_at(path.name), moment):
        discard(data_dir, token)
        return None
    try:
        body = json.loads(read_regular_file(path))
        original = body["original"]
        staged = Staged(
            token=token,
            source=body["source"],
            name=str(body["name"]),
            place=str(body["place"]),
            plain=base64.b64decode(body["plain"], validate=True),
            original=base64.b64decode(original, validate=True) if original is not None else None,
            encrypted=bool(body["encrypted"]),
            created_at=parse_iso(body["created_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return staged


def discard(data_dir, token):
    """Delete the staged file of ``token`` (nothing when there is none)."""
    path = _path(data_dir, token)
    if path is not None:
        path.unlink(missing_ok=True)


def sweep(data_dir, moment):
    """Delete the staged files older than LIFETIME (by the time in their token). Temporary files of a write
    (``.<token>.json.…``) go with their token's time, so one being written meanwhile is left alone."""
    try:
        names = os.listdir(folder(data_dir))
    except FileNotFoundError:
        return
    for name in names:
        made = _made_at(name.lstrip(".").split(".json")[0] + ".json")
        if _expired(made, moment):
            with contextlib.suppress(OSError):  # gone meanwhile, or not a file: nothing of ours
                (folder(data_dir) / name).unlink()


def clear(data_dir):
    """Remove the whole folder: once a user exists, /setup is closed and no staged file is of use."""
    shutil.rmtree(folder(data_dir), ignore_errors=True)

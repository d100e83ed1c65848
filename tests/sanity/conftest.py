"""Sanity-check fixtures: an app with an injected backup clock, a small configuration, real backups dated
at chosen times, a trigger that makes a restore fail for real, and what "trace" means, measured."""

import contextlib
import hashlib

import pytest

from vibenvr import strictjson
from vibenvr.backups.automation.status import status_path
from vibenvr.backups.document.export import export_document
from vibenvr.db import db
from vibenvr.sanity.guard import comparable
from vibenvr.settings.service import update_settings

from builders import make_camera, make_group, make_profile, make_token, make_user
from support import clocked_app
from support.backups import backup_at  # noqa: F401  (for the tests)
from support.clock import T0  # noqa: F401
from support.live import LiveServer  # noqa: F401

clock, app = clocked_app.clock, clocked_app.app  # the fixtures: a FakeClock at T0, the app on it


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def build_config():
    """An admin with a token, a storage profile, cameras in a group, and settings off their defaults."""
    admin = make_user("admin", role="admin")
    token = make_token(admin, name="sanity test")
    profile = make_profile(name="NAS", path="/recordings/nas")
    garage = make_camera(name="Garage", storage_profile_id=profile.id)
    make_group(name="Outside", camera_ids=[garage.id])
    make_camera(name="Nursery", schedule={"tuesday": [["20:00", "07:00"]]})
    update_settings({"system_name": "Home NVR", "backup_auto_retention": 7})
    return token


@pytest.fixture
def config(ctx):
    """The configuration above; its value is the admin's API token."""
    return build_config()


def corrupt(app, name):
    """Change a value inside the file without fixing its checksum."""
    path = app.config["BACKUP_DIR"] / name
    text = path.read_text()
    path.write_text(text.replace('"Home NVR"', '"Home NVX"', 1))
    assert path.read_text() != text


def files(app):
    """Every file in the backup folder (backup names or not), sorted."""
    return sorted(p.name for p in app.config["BACKUP_DIR"].iterdir())


def status_bytes(app):
    path = status_path(app.config["DATA_DIR"])
    return path.read_bytes() if path.exists() else None


def fingerprint(doc):
    """SHA-256 of the sections the guard compares (usage stamps aside): equal configurations, equal prints."""
    return hashlib.sha256(strictjson.dumps(comparable(doc)).encode("utf-8")).hexdigest()


def trace(app):
    """What zero trace compares: the configuration (by checksum, usage stamps aside), the backup folder's
    files and the status file's bytes."""
    with app.app_context():  # the test thread's connection (the app fixture's)
        return {"config": fingerprint(export_document()), "files": files(app), "status": status_bytes(app)}


@contextlib.contextmanager
def refusing_camera(name):
    """A real database failure: a trigger that refuses to insert a camera called ``name``."""
    if type(db.obj).__name__.startswith("Postgres"):
        db.execute_sql(
            "CREATE FUNCTION sanity_refuse() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql"
        )
        db.execute_sql(
            f"CREATE TRIGGER sanity_refuse BEFORE INSERT ON camera FOR EACH ROW WHEN (NEW.name = '{name}') "
            "EXECUTE FUNCTION sanity_refuse()"
        )
        drop = ["DROP TRIGGER sanity_refuse ON camera", "DROP FUNCTION sanity_refuse()"]
    else:
        db.execute_sql(
            f"CREATE TRIGGER sanity_refuse BEFORE INSERT ON camera WHEN NEW.name = '{name}' "
            "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )
        drop = ["DROP TRIGGER sanity_refuse"]
    try:
        yield
    finally:
        for sql in drop:
            db.execute_sql(sql)

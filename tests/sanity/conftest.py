"""Sanity-check fixtures: an app with an injected backup clock, a small configuration, real backups dated
at chosen times, a trigger that makes a restore fail for real, and what "trace" means, measured."""

import contextlib
import datetime as dt
import threading

import pytest
from werkzeug.serving import make_server

from vibenvr.backups.format import export_document
from vibenvr.backups.guard import fingerprint
from vibenvr.backups.status import status_path
from vibenvr.backups.store import BackupStore
from vibenvr.db import db
from vibenvr.settings.service import update_settings

from builders import make_camera, make_group, make_profile, make_token, make_user
from conftest import make_app

T0 = dt.datetime(2026, 11, 29, 12, 0, 0)


class FakeClock:
    """Naive UTC time that moves only when a test moves it."""

    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def app(tmp_path, clock):
    app = make_app(tmp_path / "data", BACKUP_CLOCK=clock)
    db.connect(reuse_if_open=True)
    try:
        yield app
    finally:
        db.close()


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


def backup_at(app, when, kind="auto"):
    """A real ``kind`` backup of the configuration as it is now, dated ``when``; its name."""
    store = BackupStore(app.config["BACKUP_DIR"])
    return store.write(export_document(kind, now=when), kind).name


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


def trace(app):
    """What zero trace compares: the configuration (by checksum, usage stamps aside), the backup folder's
    files and the status file's bytes."""
    with app.app_context():  # the test thread's connection (the app fixture's)
        return {"config": fingerprint(export_document()), "files": files(app), "status": status_bytes(app)}


@contextlib.contextmanager
def refusing_camera(name):
    """A real database failure: a trigger that refuses to insert a camera called ``name``."""
    if type(db.obj).__name__.startswith("Postgres"):
        db.execute_sql("CREATE FUNCTION sanity_refuse() RETURNS trigger AS $$ BEGIN "
                       "RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql")
        db.execute_sql(f"CREATE TRIGGER sanity_refuse BEFORE INSERT ON camera FOR EACH ROW WHEN (NEW.name = '{name}') "
                       "EXECUTE FUNCTION sanity_refuse()")
        drop = ["DROP TRIGGER sanity_refuse ON camera", "DROP FUNCTION sanity_refuse()"]
    else:
        db.execute_sql(f"CREATE TRIGGER sanity_refuse BEFORE INSERT ON camera WHEN NEW.name = '{name}' "
                       "BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
        drop = ["DROP TRIGGER sanity_refuse"]
    try:
        yield
    finally:
        for sql in drop:
            db.execute_sql(sql)


class LiveServer:
    """The app served by werkzeug on 127.0.0.1 in a thread of the test process."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=10)

"""Writes read the row as it is now and write only what they change (SPEC §12), in one transaction that
holds the write lock; a lost race is a 409 with a message and a lock not had in time a 503, never a 500.

The races themselves, with two real gunicorn workers, are in test_write_races.py. Here the moment a
restore lands between a request reading a row and writing it is made by hand: the service gets the row
as the request read it (``stale``), after the database has changed.
"""

import contextlib
import sqlite3

import psycopg2
import pytest

from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.backups.errors import RestoreFailed
from vibenvr.backups.restore import restore_document
from vibenvr.cameras.service import update_camera
from vibenvr.db import BUSY_MESSAGES, WRITE_LOCK_KEY, db
from vibenvr.groups.service import update_group
from vibenvr.models import ApiToken, Camera, Group, Setting, StorageProfile, User
from vibenvr.security.tokens import revoke_token, update_token
from vibenvr.settings.service import get_setting, get_settings, update_settings
from vibenvr.storage.service import update_profile
from vibenvr.strictjson import dumps
from vibenvr.users.service import delete_user, update_user
from vibenvr.validation import ConflictError

from .conftest import error_text
from builders import make_camera, make_group, make_profile, make_user


def _token(owner):
    from vibenvr.auth.tokens import issue_token

    return issue_token(owner, "meanwhile")[0]


# (model, make a row, update through the service, the field the update sets, another field changed meanwhile)
RESOURCES = {
    "camera": (Camera, lambda: make_camera(), update_camera, ("overlay_text", "sent"), ("name", "Restored name")),
    "group": (Group, lambda: make_group(), update_group, ("description", "sent"), ("name", "Restored name")),
    "storage profile": (
        StorageProfile,
        lambda: make_profile(),
        update_profile,
        ("description", "sent"),
        ("max_size_gb", 123.0),
    ),
    "user": (User, lambda: make_user(role="viewer"), update_user, ("email", "sent@example.com"), ("language", "de")),
    "token": (ApiToken, lambda: _token(make_user(role="viewer")), update_token, ("name", "sent"), ("is_active", False)),
}


@pytest.mark.parametrize("resource", RESOURCES)
def test_an_update_writes_only_its_fields_over_what_changed_after_the_row_was_read(app, admin, resource):
    model, make, update, (field, value), (other, newer) = RESOURCES[resource]
    stale = make()
    model.update({getattr(model, other): newer}).where(model.id == stale.id).execute()  # a restore, meanwhile

    saved = update(stale, {field: value})

    row = model.get_by_id(stale.id)
    assert (getattr(row, field), getattr(row, other)) == (value, newer)
    assert getattr(saved, other) == newer  # the answer shows the row as it is


@pytest.mark.parametrize("resource", RESOURCES)
def test_an_update_of_a_row_removed_after_it_was_read_is_a_conflict_that_says_so(app, admin, resource):
    model, make, update, (field, value), _ = RESOURCES[resource]
    stale = make()
    model.delete().where(model.id == stale.id).execute()

    with pytest.raises(ConflictError, match=rf"{resource} {stale.id} no longer exists.*reload"):
        update(stale, {field: value})
    assert model.get_or_none(model.id == stale.id) is None  # not written back


def test_revoking_or_deleting_what_is_gone_is_a_conflict_not_a_crash(app, admin):
    token, viewer = _token(admin), make_user(role="viewer")
    ApiToken.delete().where(ApiToken.id == token.id).execute()
    User.delete().where(User.id == viewer.id).execute()
    with pytest.raises(ConflictError, match="token .* no longer exists"):
        revoke_token(token)
    with pytest.raises(ConflictError, match="user .* no longer exists"):
        delete_user(viewer)


def test_a_password_reset_from_a_stale_row_keeps_what_a_restore_changed(app, admin):
    viewer = make_user(role="viewer")
    User.update(role="admin", allowed_camera_ids=[7]).where(User.id == viewer.id).execute()
    update_user(viewer, {"password": "a brand new password"})
    row = User.get_by_id(viewer.id)
    assert (row.role, row.allowed_camera_ids) == ("admin", [7])
    assert row.hashed_password != viewer.hashed_password


def test_a_settings_change_compares_with_the_stored_values_not_an_earlier_read(app):
    with app.app_context():
        assert get_settings()["system_name"] == "VibeNVR"  # read (and cached) before the restore
        Setting.update(value="Restored").where(Setting.key == "system_name").execute()
        assert update_settings({"system_name": "VibeNVR"}) == ["system_name"]
        assert get_setting("system_name") == "VibeNVR"


# --- a lock not had in time ---------------------------------------------------------------------


@contextlib.contextmanager
def write_lock_held_elsewhere(app):
    """Another connection holds the write lock; this thread's connection gives up after 0.2 s."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        other = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        db.execute_sql("PRAGMA busy_timeout = 200")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
            db.execute_sql("PRAGMA busy_timeout = 10000")
    else:
        other = psycopg2.connect(url)
        other.autocommit = True
        other.cursor().execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK_KEY,))
        db.execute_sql("SET lock_timeout = '200ms'")
        try:
            yield
        finally:
            other.close()
            db.execute_sql("SET lock_timeout = 0")


def test_a_write_that_cannot_have_the_lock_in_time_is_a_503_that_says_to_try_again(app, api):
    camera = make_camera(overlay_text="before")
    with write_lock_held_elsewhere(app):
        response = api.patch(f"/api/cameras/{camera.id}", json={"overlay_text": "during"})
        created = api.post("/api/groups", json={"name": "During"})
    assert response.status_code == 503 and created.status_code == 503
    assert error_text(response) == BUSY_MESSAGES[503]
    assert "Try again" in BUSY_MESSAGES[503]
    assert Camera.get_by_id(camera.id).overlay_text == "before"
    assert not Group.select().where(Group.name == "During").exists()
    assert api.patch(f"/api/cameras/{camera.id}", json={"overlay_text": "after"}).status_code == 200


def test_a_restore_that_cannot_have_the_lock_in_time_is_refused_as_busy_and_changes_nothing(app, admin):
    make_camera(name="Kept")
    valid = validate_document(dumps(export_document("manual")).encode())
    Camera.update(name="Changed").execute()
    with write_lock_held_elsewhere(app), pytest.raises(RestoreFailed) as refused:
        restore_document(valid)
    assert refused.value.status == 503 and str(refused.value) == BUSY_MESSAGES[503]
    assert [c.name for c in Camera.select()] == ["Changed"]


def test_the_page_for_a_busy_database_is_a_readable_503(app, admin_client):
    with write_lock_held_elsewhere(app):
        response = admin_client.post("/groups/new", data={"name": "During", "description": ""})
    assert response.status_code == 503
    assert BUSY_MESSAGES[503] in response.get_data(as_text=True)
    assert not Group.select().where(Group.name == "During").exists()


def test_the_terminal_says_the_database_is_busy_instead_of_a_traceback(app, runner):
    with write_lock_held_elsewhere(app):
        result = runner.invoke(args=["users", "create", "carol", "--password-stdin"], input="a long password\n")
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "database is busy" in result.output
    assert not User.select().where(User.username == "carol").exists()

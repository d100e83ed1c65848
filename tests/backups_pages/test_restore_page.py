"""Restore from the System Backups page: the confirmation with counts, HX-Refresh, refusals, the session ending."""

import re

import pytest

from vibenvr.cameras.service import delete_camera
from vibenvr.models import Camera, User

from .helpers import HTMX, files, is_full_page
from builders import make_camera, make_user
from conftest import sign_in


def count_row(html, label):
    """(in the backup, now, change) from the confirmation's table."""
    match = re.search(
        rf'<th scope="row">{label}</th><td class="num">(\d+)</td><td class="num">(\d+)</td>\s*'
        r'<td class="num">(.*?)</td>',
        html,
    )
    return match and (int(match.group(1)), int(match.group(2)), re.sub(r"<[^>]+>", "", match.group(3)))


@pytest.fixture
def garage_deleted_after_backup(app, backup, clock):
    """A backup holding camera "Garage", which was deleted afterwards."""
    camera = make_camera(name="Garage")
    entry = backup()
    delete_camera(camera)
    clock.advance(minutes=5)
    return entry


def test_the_dialog_shows_what_the_backup_holds_next_to_now(admin_client, garage_deleted_after_backup):
    name = garage_deleted_after_backup.name
    response = admin_client.get(f"/settings/backups/{name}/restore", headers=HTMX)
    html = response.text
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert (
        html.lstrip().startswith("<dialog")
        and "data-show-on-load" in html
        and 'aria-labelledby="confirm-title"' in html
    )
    assert count_row(html, "Cameras") == (1, 0, "+1")
    assert count_row(html, "Users") == (1, 1, "0")
    assert ">Manual</span>" in html and "2026-11-29 22:40" in html and "VibeNVR Config 2.0.0" in html
    assert "A safety backup of the current configuration is taken first" in html
    assert f'hx-post="/settings/backups/{name}/restore"' in html and "Restore this backup</button>" in html
    assert "data-close-dialog autofocus" in html and "will be signed out" not in html


def test_the_confirmation_is_a_page_without_javascript(admin_client, garage_deleted_after_backup):
    name = garage_deleted_after_backup.name
    html = admin_client.get(f"/settings/backups/{name}/restore").text
    assert is_full_page(html) and "Restore this backup?</h1>" in html
    assert f'action="/settings/backups/{name}/restore"' in html and 'href="/settings/backups">Cancel</a>' in html
    assert count_row(html, "Cameras") == (1, 0, "+1")


def test_restore_with_htmx_refreshes_the_page_naming_both_backups(admin_client, app, garage_deleted_after_backup):
    name = garage_deleted_after_backup.name
    response = admin_client.post(f"/settings/backups/{name}/restore", headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Refresh"] == "true"
    assert Camera.select().where(Camera.name == "Garage").count() == 1
    safety = "vibe_backup_safety_20261129_224500.json"
    assert safety in files(app)
    page = admin_client.get("/settings/backups").text
    assert f"Restored {name} (manual backup of 2026-11-29 22:40)" in page
    assert f"saved as {safety}; restore that file to undo." in page


def test_restore_without_javascript_redirects_with_the_message(admin_client, garage_deleted_after_backup):
    name = garage_deleted_after_backup.name
    response = admin_client.post(f"/settings/backups/{name}/restore")
    assert response.status_code == 303 and response.headers["Location"] == "/settings/backups"
    assert f"Restored {name}" in admin_client.get("/settings/backups").text
    assert Camera.select().where(Camera.name == "Garage").count() == 1


def test_a_damaged_file_shows_its_problems_and_cannot_be_restored(admin_client, app, clock):
    (app.config["BACKUP_DIR"] / "broken.json").write_bytes(b'{"format": "vibenvr-backup", "cameras": [')
    make_camera(name="Porch")
    html = admin_client.get("/settings/backups/broken.json/restore", headers=HTMX).text
    assert "This file cannot be restored: 1 problem." in html and "looks truncated" in html
    assert "Restore this backup</button>" not in html and ">Other</span>" in html
    response = admin_client.post("/settings/backups/broken.json/restore", headers=HTMX)
    assert response.status_code == 400 and "The restore did not happen; nothing was changed." in response.text
    assert files(app) == ["broken.json"]  # no safety backup either
    assert Camera.select().count() == 1


def test_a_backup_without_an_administrator_is_refused(admin_client, app, admin, backup):
    User.update(role="viewer").where(User.id == admin.id).execute()
    entry = backup()
    User.update(role="admin").where(User.id == admin.id).execute()
    html = admin_client.get(f"/settings/backups/{entry.name}/restore", headers=HTMX).text
    assert "This backup cannot be restored here." in html and "The backup has no active administrator" in html
    assert "Restore this backup</button>" not in html
    response = admin_client.post(f"/settings/backups/{entry.name}/restore", headers=HTMX)
    assert response.status_code == 409 and "lock everyone out" in response.text
    assert files(app) == [entry.name]
    assert User.get_by_id(admin.id).role == "admin"


@pytest.mark.parametrize("htmx", [True, False])
def test_a_restore_that_removes_the_signed_in_admin_ends_the_session(app, admin, backup, htmx):
    entry = backup()  # holds only "admin"
    boss = make_user("boss", role="admin")
    client = sign_in(app.test_client(), boss)
    dialog = client.get(f"/settings/backups/{entry.name}/restore", headers=HTMX).text
    assert "Your account “boss” is not in this backup, so you will be signed out after the restore." in dialog
    response = client.post(f"/settings/backups/{entry.name}/restore", headers=HTMX if htmx else {})
    login = "/login?next=/settings/backups"
    if htmx:
        assert response.status_code == 200 and response.headers["HX-Redirect"] == login
    else:
        assert response.status_code == 303 and response.headers["Location"] == login
    assert User.get_or_none(User.username == "boss") is None
    assert client.get("/settings/backups").status_code == 302  # signed out
    page = client.get(login).text
    assert f"Restored {entry.name}" in page and "You were signed out because “boss”" in page


def test_a_different_password_in_the_backup_is_announced(admin_client, admin, backup):
    entry = backup()
    User.update(hashed_password=admin.hashed_password + "x").where(User.id == admin.id).execute()
    client = sign_in(admin_client.application.test_client(), User.get_by_id(admin.id))
    html = client.get(f"/settings/backups/{entry.name}/restore", headers=HTMX).text
    assert "has a different password (or id) in this backup" in html

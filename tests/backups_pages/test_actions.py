"""Create, download and delete from the System Backups page: htmx fragments, plain forms, failures."""

import datetime as dt
import errno
import os

import pytest

from vibenvr import fsutil

from .helpers import HTMX, files, is_full_page, listed

NAME = "vibe_backup_manual_20261129_224000.json"


def test_create_with_htmx_puts_the_new_row_on_top_and_says_so(admin_client, app, clock, store):
    store.write_bytes(b"{}", "auto", dt.datetime(2026, 11, 29, 12, 0))
    response = admin_client.post("/settings/backups/create", headers=HTMX)
    html = response.text
    assert response.status_code == 200 and not is_full_page(html) and "HX-Request" in response.headers["Vary"]
    assert files(app) == ["vibe_backup_auto_20261129_120000.json", NAME]
    assert listed(html)[0] == NAME
    assert f'<tr class="row-new" data-backup="{NAME}">' in html and "data-autofocus" in html
    assert 'id="messages" hx-swap-oob="innerHTML"' in html and f"Backup {NAME} created" in html
    assert '<div id="dialog-slot" hx-swap-oob="innerHTML"></div>' in html


def test_create_without_javascript_redirects_with_a_message(admin_client, app, clock):
    response = admin_client.post("/settings/backups/create")
    assert response.status_code == 303 and response.headers["Location"] == "/settings/backups"
    page = admin_client.get("/settings/backups").text
    assert f"Backup {NAME} created" in page and listed(page) == [NAME]


@pytest.fixture
def full_disk(monkeypatch):
    def write(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fsutil, "write_all", write)


def test_a_failed_create_shows_its_reason_in_the_message_region(admin_client, app, clock, full_disk):
    response = admin_client.post("/settings/backups/create", headers=HTMX)
    assert response.status_code == 507  # a full disk: Insufficient Storage, not a bug of the app
    assert response.headers["HX-Retarget"] == "#messages" and "HX-Request" in response.headers["Vary"]
    assert "The backup failed" in response.text and "the disk is full" in response.text
    assert files(app) == []


def test_a_failed_create_without_javascript_shows_the_page_with_the_reason(admin_client, app, clock, full_disk):
    response = admin_client.post("/settings/backups/create")
    assert response.status_code == 507 and is_full_page(response.text)
    assert "The backup failed. Could not write a backup" in response.text and "No backups yet" in response.text


def test_download_is_an_attachment_with_the_exact_bytes(admin_client, app, backup):
    entry = backup()
    response = admin_client.get(f"/settings/backups/{entry.name}/download")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == f"attachment; filename={entry.name}"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data == (app.config["BACKUP_DIR"] / entry.name).read_bytes()


@pytest.mark.parametrize(
    "name, status", [("nope.json", 404), ("a..json", 400), ("secret_key", 400), ("link.json", 400)]
)
@pytest.mark.parametrize("action", ["download", "restore", "delete"])
def test_bad_or_unknown_names(admin_client, app, name, status, action):
    private = app.config["DATA_DIR"] / "private.txt"
    private.write_text("not a backup")
    (app.config["BACKUP_DIR"] / "link.json").symlink_to(private)
    page = admin_client.get(f"/settings/backups/{name}/{action}")
    assert page.status_code == status and is_full_page(page.text)
    fragment = admin_client.get(f"/settings/backups/{name}/{action}", headers=HTMX)
    assert fragment.status_code == status and fragment.headers["HX-Retarget"] == "#messages"
    if action != "download":
        assert admin_client.post(f"/settings/backups/{name}/{action}", headers=HTMX).status_code == status
    assert private.read_text() == "not a backup"


def test_delete_asks_in_a_dialog_for_htmx(admin_client, backup):
    entry = backup()
    response = admin_client.get(f"/settings/backups/{entry.name}/delete", headers=HTMX)
    html = response.text
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert (
        html.lstrip().startswith('<dialog class="modal backup-dialog" id="backup-dialog"')
        and "data-show-on-load" in html
    )
    assert f'hx-post="/settings/backups/{entry.name}/delete"' in html and "Delete backup" in html
    assert "data-close-dialog autofocus" in html


def test_delete_asks_on_a_page_without_javascript(admin_client, backup):
    entry = backup()
    html = admin_client.get(f"/settings/backups/{entry.name}/delete").text
    assert is_full_page(html) and "<h1" in html and "Delete this backup?" in html
    assert f'action="/settings/backups/{entry.name}/delete"' in html and "hx-post" not in html.split("<main")[1]
    assert 'href="/settings/backups">Cancel</a>' in html


def test_deleting_a_safety_backup_warns_that_its_restore_cannot_be_undone(admin_client, backup):
    entry = backup("safety")
    assert "that restore cannot be undone" in admin_client.get(f"/settings/backups/{entry.name}/delete").text


def test_delete_with_htmx_swaps_the_list_and_says_so(admin_client, app, backup):
    entry = backup()
    response = admin_client.post(f"/settings/backups/{entry.name}/delete", headers=HTMX)
    html = response.text
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert files(app) == [] and "No backups yet" in html
    assert f"Backup {entry.name} deleted." in html and 'hx-swap-oob="innerHTML"' in html
    assert '<div id="dialog-slot" hx-swap-oob="innerHTML"></div>' in html


def test_delete_keeps_the_page_and_filter_of_the_list(admin_client, store):
    for hour in range(60):
        store.write_bytes(b"{}", "auto", dt.datetime(2026, 11, 29, 10) - dt.timedelta(hours=hour))
    victim = "vibe_backup_auto_20261129_100000.json"
    dialog = admin_client.get(f"/settings/backups/{victim}/delete?page=2&kind=auto", headers=HTMX).text
    assert '<input type="hidden" name="page" value="2">' in dialog and 'name="kind" value="auto"' in dialog
    html = admin_client.post(
        f"/settings/backups/{victim}/delete", data={"page": "2", "kind": "auto"}, headers=HTMX
    ).text
    assert "Page 2 of 2" in html and len(listed(html)) == 9


def test_delete_without_javascript_redirects_with_a_message(admin_client, app, backup):
    entry = backup()
    response = admin_client.post(f"/settings/backups/{entry.name}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/settings/backups"
    assert f"Backup {entry.name} deleted." in admin_client.get("/settings/backups").text
    assert files(app) == []

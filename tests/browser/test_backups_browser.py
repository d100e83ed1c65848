"""System Backups in headless Chromium: create, download, import (good and broken), restore, delete, status, 403.

The whole flow runs at desktop and at phone size, taking a screenshot of each state on the way.
"""

import datetime as dt
import json
import re
from pathlib import Path

from playwright.sync_api import expect

from vibenvr import fsutil
from vibenvr.backups.document.canonical import compute_checksum
from vibenvr.backups.document.export import export_document
from vibenvr.backups.names import backup_name
from vibenvr.cameras.service import delete_camera
from vibenvr.models import Camera

from browser.conftest import ARTIFACTS, SIZES, login, screenshot
from builders import PASSWORD, make_camera, make_user


def broken_document():
    """A signed document with several problems, so every message must be listed."""
    doc = export_document("manual")
    doc.pop("checksum")
    doc["cameras"] = [{**doc["cameras"][0], "rtsp_url": "ftp://nope", "privacy_masks": [[[0.1, 0.1], [0.2, 0.2]]]}]
    doc["associations"] = [{"camera_id": 999, "group_id": 998}]
    doc["checksum"] = compute_checksum(doc)
    return json.dumps(doc).encode()


def screenshot_view(page, name):
    """What the screen shows (a modal dialog sits in the viewport; a full-page capture would stretch it)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def files_in(server):
    return sorted(p.name for p in server.app.config["BACKUP_DIR"].iterdir())


def rows(page):
    return page.locator("#backup-list tbody tr")


def no_sideways_scroll(page, what):
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{what} scrolls sideways on {page.device} by {overflow}px"


def test_back_up_download_import_restore_and_delete(live_server, tab):
    page, device = tab, tab.device
    make_user("admin", role="admin")
    make_camera(name="Garage")
    login(page, live_server, "admin", PASSWORD)
    page.goto(live_server.url + "/settings/backups")
    expect(page.locator("#backup-list")).to_contain_text("No backups yet")
    expect(page.locator("#backup-status")).to_contain_text("No automatic run has happened yet.")
    no_sideways_scroll(page, "the empty page")
    screenshot(page, f"backups-empty-{device}")

    # Create: the row appears on top, with a message, without a page load.
    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name="Create backup now").click()
    expect(page.locator("#messages")).to_contain_text("created")
    expect(rows(page)).to_have_count(1)
    name = files_in(live_server)[0]
    row = rows(page).first
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("Manual")
    expect(row.locator(".backup-name")).to_be_focused()
    assert page.evaluate("window.notReloaded") is True

    # Download: an attachment with exactly the bytes on disk.
    with page.expect_download() as download:
        row.get_by_role("link", name=f"Download {name}").click()
    assert download.value.suggested_filename == name
    on_disk = (live_server.app.config["BACKUP_DIR"] / name).read_bytes()
    assert Path(download.value.path()).read_bytes() == on_disk

    # Import a good file: a new Imported row on top.
    page.set_input_files(
        "#f-file", files=[{"name": "from-laptop.json", "mimeType": "application/json", "buffer": on_disk}]
    )
    page.get_by_role("button", name="Import file").click()
    expect(page.locator("#messages")).to_contain_text("Imported “from-laptop.json”")
    expect(rows(page)).to_have_count(2)
    expect(page.locator("#backup-list tr.row-new")).to_contain_text("Imported")  # same second as the manual one
    screenshot(page, f"backups-list-{device}")

    # Import a broken file: every problem listed inline, nothing saved.
    before = files_in(live_server)
    page.set_input_files(
        "#f-file", files=[{"name": "broken.json", "mimeType": "application/json", "buffer": broken_document()}]
    )
    page.get_by_role("button", name="Import file").click()
    errors = page.locator("#import-panel .import-errors li")
    expect(page.locator("#import-panel")).to_contain_text("“broken.json” was not imported")
    assert errors.count() >= 3
    expect(page.locator("#import-panel")).to_contain_text("rtsp_url")
    expect(page.locator("#f-file")).to_be_focused()
    expect(rows(page)).to_have_count(2)
    assert files_in(live_server) == before
    no_sideways_scroll(page, "the import error")
    screenshot(page, f"backups-import-error-{device}")

    # Restore: the camera deleted after the backup comes back.
    delete_camera(Camera.get(Camera.name == "Garage"))
    manual = page.locator(f"#backup-list tr[data-backup='{name}']")
    opener = manual.get_by_role("link", name=f"Restore {name}")
    opener.click()
    dialog = page.locator("dialog#backup-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    cameras = dialog.locator("tr", has=page.get_by_role("rowheader", name="Cameras", exact=True))
    expect(cameras.locator("td")).to_have_text(["1", "0", "+1"])
    expect(dialog).to_contain_text("A safety backup of the current configuration is taken first")
    screenshot_view(page, f"backups-restore-dialog-{device}")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(opener).to_be_focused()
    opener.press("Enter")
    dialog.get_by_role("button", name="Restore this backup").click()
    expect(page.locator("#messages")).to_contain_text(f"Restored {name}")
    expect(page.locator("#messages")).to_contain_text("vibe_backup_safety_")
    assert Camera.select().where(Camera.name == "Garage").count() == 1
    safety = next(n for n in files_in(live_server) if n.startswith("vibe_backup_safety_"))
    expect(page.locator(f"#backup-list tr[data-backup='{safety}']")).to_contain_text("Safety")
    screenshot(page, f"backups-after-restore-{device}")

    # Delete with confirmation: the row goes, a message says so.
    page.locator(f"#backup-list tr[data-backup='{safety}']").get_by_role("link", name=f"Delete {safety}").click()
    expect(dialog).to_contain_text("without it, that restore cannot be undone")
    screenshot_view(page, f"backups-delete-dialog-{device}")
    dialog.get_by_role("button", name="Delete backup").click()
    expect(page.locator("#messages")).to_contain_text(f"Backup {safety} deleted.")
    expect(page.locator(f"#backup-list tr[data-backup='{safety}']")).to_have_count(0)
    expect(dialog).to_have_count(0)
    expect(page.locator("#list-title")).to_be_focused()
    assert safety not in files_in(live_server)


def test_failures_status_and_access(live_server, page, monkeypatch):
    make_user("admin", role="admin")
    make_user("viewer", role="viewer")
    login(page, live_server, "admin", PASSWORD)

    # Retention changed in Global Settings shows in the status panel.
    page.goto(live_server.url + "/settings/global")
    page.fill("#f-backup_auto_retention", "25")
    page.check("#f-backup_auto_enabled")
    page.click("button:has-text('Save settings')")
    expect(page.locator("#messages")).to_contain_text("Settings saved")
    page.get_by_role("link", name="System Backups").click(force=True)  # in the Settings menu
    page.wait_for_url(re.compile(r"/settings/backups$"))
    status = page.locator("#backup-status")
    expect(status.locator("[data-status=retention]")).to_contain_text("Keep the newest 25 automatic backups")
    expect(status).to_contain_text("On")

    # A full disk: the reason is shown, no row appears.
    def full(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsutil, "write_all", full)
    page.get_by_role("button", name="Create backup now").click()
    expect(page.locator("#messages")).to_contain_text("the disk is full")
    expect(page.get_by_role("button", name="Create backup now")).to_be_enabled()
    expect(rows(page)).to_have_count(0)
    screenshot(page, "backups-create-failed-desktop")

    # A file over the limit is refused in the browser, before any upload.
    live_server.app.config["MAX_UPLOAD_MB"] = 1
    page.reload()
    page.set_input_files(
        "#f-file", files=[{"name": "huge.json", "mimeType": "application/json", "buffer": b" " * (1024 * 1024 + 1)}]
    )
    page.get_by_role("button", name="Import file").click()
    expect(page.locator("#import-panel")).to_contain_text("larger than the upload limit of 1 MB")
    expect(page.locator("#f-file")).to_be_focused()
    assert files_in(live_server) == []

    # A viewer gets the 403 page.
    page.context.clear_cookies()
    login(page, live_server, "viewer", PASSWORD)
    response = page.goto(live_server.url + "/settings/backups")
    assert response.status == 403
    expect(page.locator("main h1")).to_have_text("Admins only")
    screenshot(page, "backups-viewer-403-desktop")


def test_many_backups_page_and_the_plain_forms_work_without_javascript(live_server, browser):
    make_user("admin", role="admin")
    make_camera(name="Garage")
    folder = live_server.app.config["BACKUP_DIR"]
    for hour in range(120):  # long ago, so the backup made below is the newest
        made = dt.datetime(2020, 1, 10) - dt.timedelta(hours=hour)
        (folder / backup_name("auto" if hour % 10 else "manual", made)).write_bytes(b"{}")
    for device, size in SIZES.items():
        context = browser.new_context(viewport=size, java_script_enabled=False)
        page = context.new_page()
        login(page, live_server, "admin", PASSWORD)
        page.goto(live_server.url + "/settings/backups")
        expect(page.locator(".pager")).to_contain_text("1–50 of 120")
        expect(rows(page)).to_have_count(50)
        page.device = device
        no_sideways_scroll(page, "the long list")
        screenshot(page, f"backups-many-{device}")
        context.close()

    # Without JavaScript: create, then restore through the confirmation page.
    context = browser.new_context(viewport=SIZES["desktop"], java_script_enabled=False)
    page = context.new_page()
    login(page, live_server, "admin", PASSWORD)
    page.goto(live_server.url + "/settings/backups?kind=manual")
    expect(rows(page)).to_have_count(12)
    page.get_by_role("button", name="Create backup now").click()
    expect(page.locator("#messages")).to_contain_text("created")
    name = max(n for n in files_in(live_server) if n.startswith("vibe_backup_manual_"))
    delete_camera(Camera.get(Camera.name == "Garage"))
    page.locator(f"tr[data-backup='{name}']").get_by_role("link", name=f"Restore {name}").click()
    expect(page.locator("main h1")).to_have_text("Restore this backup?")
    screenshot(page, "backups-restore-page-nojs-desktop")
    page.get_by_role("button", name="Restore this backup").click()
    expect(page.locator("#messages")).to_contain_text(f"Restored {name}")
    assert Camera.select().where(Camera.name == "Garage").count() == 1
    context.close()

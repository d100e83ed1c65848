"""Unusable files on System Backups in headless Chromium, at desktop and phone size: a browser's second
download (``backup (1).json``) and a FIFO are rows with the reason and no Download or Restore."""

import os

from playwright.sync_api import expect

from vibenvr.backups import service

from browser.conftest import ARTIFACTS, login, screenshot
from builders import PASSWORD, make_camera, make_user


def test_unusable_files_read_well_and_offer_no_download_or_restore(live_server, tab):
    page = tab
    make_user("admin", role="admin")
    make_camera(name="Garage")
    app = live_server.app
    with app.app_context():
        good = service.create_backup("manual").name
    folder = app.config["BACKUP_DIR"]
    (folder / "backup (1).json").write_bytes((folder / good).read_bytes())  # a second download, moved in by hand
    os.mkfifo(folder / "vibe_backup_auto_20261129_224000.json")

    login(page, live_server, "admin", PASSWORD)
    page.goto(live_server.url + "/settings/backups")
    note = page.locator("[data-unusable-note]")
    expect(note).to_contain_text("2 files in the backup folder cannot be used")
    named = page.locator("#backup-list tr[data-backup='backup (1).json']")
    pipe = page.locator("#backup-list tr[data-backup='vibe_backup_auto_20261129_224000.json']")
    expect(named).to_contain_text("Unusable name — rename to restore, e.g. to backup_1.json")
    expect(pipe).to_contain_text("A named pipe (FIFO), not a regular file — never read")
    for row in (named, pipe):
        expect(row.locator(".badge")).to_have_text("Unusable")
        expect(row.get_by_role("link")).to_have_count(0)
    expect(
        page.locator(f"#backup-list tr[data-backup='{good}']").get_by_role("link", name=f"Restore {good}")
    ).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the list scrolls sideways on {page.device} by {overflow}px"
    screenshot(page, f"backups-unusable-files-{page.device}")
    page.locator("#backup-list").screenshot(path=str(ARTIFACTS / f"backups-unusable-files-list-{page.device}.png"))

    note.get_by_role("link", name="Show them").click()
    expect(page.locator("#backup-list tbody tr")).to_have_count(2)
    expect(page.locator("#f-kind")).to_have_value("unusable")

"""System Backups in headless Chromium, at desktop and phone size, with a sanity pause in force and with a
damaged automatic backup (a real one: an allow-list written straight in SQL points at a missing camera)."""

import json
import threading

from playwright.sync_api import expect

from vibenvr.backups.automation.pause import start_pause
from vibenvr.backups.automation.rules import AutoBackups
from vibenvr.backups.service import clock
from vibenvr.db import db
from vibenvr.models import User
from vibenvr.settings.service import update_settings

from browser.conftest import ARTIFACTS, login, screenshot
from builders import PASSWORD, make_camera, make_user


def no_sideways_scroll(page):
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways on {page.device} by {overflow}px"


def test_an_active_sanity_pause_is_a_clear_notice(live_server, tab):
    page, app = tab, live_server.app
    make_user("admin", role="admin")
    with app.app_context():
        update_settings({"backup_auto_enabled": True})
        start_pause(app.config["DATA_DIR"], clock(), "refactoring_sanity.py on nvr-01", minutes=45)
    login(page, live_server, "admin", PASSWORD)
    page.goto(live_server.url + "/settings/backups")
    notice = page.locator("[data-status=paused]")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Automatic backups are paused until")
    expect(notice).to_contain_text("by refactoring_sanity.py on nvr-01, for a zero-trace sanity check")
    expect(page.locator("#backup-status .badge")).to_have_text("Paused")
    no_sideways_scroll(page)
    screenshot(page, f"backups-sanity-pause-{page.device}")
    page.locator("#backup-status").screenshot(path=str(ARTIFACTS / f"backups-sanity-pause-status-{page.device}.png"))


def test_a_damaged_automatic_backup_is_marked_in_the_list_and_the_status(live_server, tab):
    page, app = tab, live_server.app
    make_user("admin", role="admin")
    garage = make_camera(name="Garage")
    make_user("viewer", role="viewer", allowed_camera_ids=[garage.id])
    table = User._meta.table_name
    db.execute_sql(
        f'UPDATE "{table}" SET allowed_camera_ids = {db.param} WHERE username = {db.param}',  # noqa: S608
        (json.dumps([garage.id, 999]), "viewer"),
    )
    with app.app_context():
        update_settings({"backup_auto_enabled": True})
    worker = threading.Thread(target=AutoBackups(app).tick)  # one run, with its own connection, as the thread runs it
    worker.start()
    worker.join(60)
    damaged = next(p.name for p in app.config["BACKUP_DIR"].iterdir())
    assert damaged.startswith("vibe_backup_damaged_"), damaged

    login(page, live_server, "admin", PASSWORD)
    page.goto(live_server.url + "/settings/backups")
    row = page.locator(f"#backup-list tr[data-backup='{damaged}']")
    expect(row).to_contain_text("A damaged automatic backup — it failed validation right after it was written")
    expect(row.locator(".badge")).to_have_text("Damaged")
    expect(row.get_by_role("link", name=f"Download {damaged}")).to_be_visible()
    expect(row.get_by_role("link", name=f"Delete {damaged}")).to_be_visible()
    expect(row.get_by_role("link", name=f"Restore {damaged}")).to_have_count(0)
    expect(page.locator("[data-status=damaged]")).to_contain_text("1 automatic backup failed validation")
    expect(page.locator("[data-status=last-failure]")).to_contain_text("allowed_camera_ids refers to cameras")
    no_sideways_scroll(page)
    screenshot(page, f"backups-damaged-auto-{page.device}")
    page.locator("#backup-status").screenshot(path=str(ARTIFACTS / f"backups-damaged-status-{page.device}.png"))
    page.locator("#backup-list").screenshot(path=str(ARTIFACTS / f"backups-damaged-list-{page.device}.png"))

"""The camera pages in headless Chromium: a mask drawn as it is typed, inline errors, the list, delete."""

import re

from playwright.sync_api import expect

from browser.conftest import login, screenshot
from builders import PASSWORD, make_camera, make_group, make_profile, make_user

MASK = "[[[0.1, 0.1], [0.4, 0.1], [0.4, 0.5]]]"


def test_create_a_camera_with_a_privacy_mask_and_see_it_in_the_list(live_server, page):
    make_user("admin", role="admin")
    login(page, live_server, "admin", PASSWORD)
    page.get_by_role("link", name="Add camera").click()
    page.fill("#f-name", "Nursery")
    page.fill("#f-rtsp_url", "ftp://192.168.1.30/stream")  # refused: wrong scheme
    page.fill("#f-privacy_masks", MASK)
    masks = page.locator("[data-polygon-editor]:has(#f-privacy_masks)")
    polygon = masks.locator("svg polygon")
    expect(polygon).to_have_count(1)  # drawn live, as typed
    assert polygon.get_attribute("points") == "16.00,9.00 64.00,9.00 64.00,45.00"
    expect(masks.locator("[data-polygon-status]")).to_have_text("1 polygon drawn.")

    page.check("input[name=schedule-monday-mode][value=windows]")
    page.fill("#f-schedule-monday-0-start", "20:00")
    page.fill("#f-schedule-monday-0-end", "07:00")
    expect(page.locator("[data-day=monday] [data-window-note]").first).to_have_text("overnight, ends Tuesday 07:00")

    page.click("button[type=submit]:has-text('Add camera')")
    expect(page.locator("#e-rtsp_url")).to_contain_text("must start with rtsp://")
    expect(page.locator("#f-rtsp_url")).to_be_focused()
    expect(masks.locator("svg polygon")).to_have_count(1)  # the swapped-in form still shows the mask
    screenshot(page, "camera-form-error-desktop")

    page.fill("#f-rtsp_url", "rtsp://admin:p%40ss@192.168.1.30:554/stream1")
    page.click("button[type=submit]:has-text('Add camera')")
    page.wait_for_url(re.compile(r"/cameras$"))
    expect(page.locator("#messages")).to_contain_text("Camera “Nursery” added.")
    row = page.locator("#camera-list tr", has_text="Nursery")
    expect(row).to_contain_text("Enabled")
    expect(row).to_contain_text("Motion")

    row.get_by_role("link", name="Edit Nursery").click()
    expect(page.locator("[data-polygon-editor]:has(#f-privacy_masks) svg polygon")).to_have_count(1)
    expect(page.locator("#f-schedule-monday-0-end")).to_have_value("07:00")


def test_delete_asks_first_and_swaps_the_list(live_server, page):
    make_user("admin", role="admin")
    make_camera(name="Garage")
    login(page, live_server, "admin", PASSWORD)
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("link", name="Delete Garage").click()
    expect(page.locator("#camera-list")).to_contain_text("Garage")  # dismissed: nothing happened
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Delete Garage").click()
    expect(page.locator("#messages")).to_contain_text("Camera “Garage” deleted.")
    expect(page.locator("#camera-list")).to_contain_text("No cameras yet")


def test_screenshots_of_every_page(live_server, page, phone):
    make_user("admin", role="admin")
    profile = make_profile(name="NAS", path="/mnt/nas/recordings", max_size_gb=500)
    group = make_group(name="Outside", description="Around the house")
    camera = make_camera(
        name="Nursery",
        location="Upstairs",
        storage_profile_id=profile.id,
        group_ids=[group.id],
        schedule={"monday": [["20:00", "07:00"]], "tuesday": [["08:00", "24:00"]], "sunday": []},
        motion_zones=[[[0.5, 0.5], [0.95, 0.5], [0.95, 0.95], [0.5, 0.95]]],
    )
    make_camera(name="Garage", enabled=False, recording_mode="continuous")
    paths = {
        "cameras": "/cameras",
        "camera-new": "/cameras/new",
        "camera-edit": f"/cameras/{camera.id}/edit",
        "camera-delete": f"/cameras/{camera.id}/delete",
        "groups": "/groups",
        "group-edit": f"/groups/{group.id}/edit",
        "storage": "/storage",
        "storage-edit": f"/storage/{profile.id}/edit",
        "settings-global": "/settings/global",
    }
    for device, tab in (("desktop", page), ("phone", phone)):
        login(tab, live_server, "admin", PASSWORD)
        for name, path in paths.items():
            tab.goto(live_server.url + path)
            expect(tab.locator("main h1")).to_be_visible()
            overflow = tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} scrolls sideways on {device} by {overflow}px"
            screenshot(tab, f"{name}-{device}")

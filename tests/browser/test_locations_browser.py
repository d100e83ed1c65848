"""The Locations panel of System Backups in headless Chromium, at desktop and phone size: add a folder
location (only the chosen kind's fieldset shows), test the connection, see the state of its copies, and
list its files."""

import re

from playwright.sync_api import expect

from vibenvr.backups import service

from browser.conftest import ARTIFACTS, login, screenshot
from builders import PASSWORD, make_user


def shot(locator, name):
    """A screenshot of one part of the page, readable at phone size where the whole page is very long."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    locator.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def no_sideways_scroll(page, what):
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{what} scrolls sideways on {page.device} by {overflow}px"


def test_an_admin_adds_a_folder_location_tests_it_and_sees_its_copies(live_server, tab, tmp_path):
    page = tab
    nas = tmp_path / "nas"
    nas.mkdir()
    make_user("owner", role="admin")
    login(page, live_server, "owner", PASSWORD)
    page.goto(live_server.url + "/settings/backups")
    panel = page.locator("#backup-locations")
    expect(panel).to_contain_text("No locations yet.")

    panel.locator("summary", has_text="Add a location").click()
    form = panel.locator("form[data-location-form]")
    expect(form.locator("fieldset[data-kind=folder]")).to_be_visible()
    for kind in ("sftp", "webdav", "s3"):
        expect(form.locator(f"fieldset[data-kind={kind}]")).to_be_hidden()
    page.select_option("#f-loc-new-kind", "sftp")
    expect(form.locator("fieldset[data-kind=sftp]")).to_be_visible()
    expect(form.locator("fieldset[data-kind=folder]")).to_be_hidden()
    screenshot(page, f"locations-add-sftp-{page.device}")
    shot(form, f"locations-add-sftp-form-{page.device}")
    page.select_option("#f-loc-new-kind", "folder")
    page.fill("#f-loc-new-name", "Basement NAS")
    page.fill("#f-loc-new-folder-path", "mnt/nas")
    form.get_by_role("button", name="Add location").click()
    expect(page.locator("#e-loc-new-folder-path")).to_contain_text("must be an absolute path")
    expect(page.locator("#f-loc-new-name")).to_have_value("Basement NAS")
    expect(page.locator("#f-loc-new-folder-path")).to_be_focused()
    page.fill("#f-loc-new-folder-path", str(nas))
    page.locator("form[data-location-form]").get_by_role("button", name="Add location").click()
    expect(page.locator("#messages")).to_contain_text("Location “Basement NAS” added")
    item = panel.locator("li.location-item", has_text="Basement NAS")
    expect(item).to_contain_text(str(nas))
    expect(item.locator("[data-status=last-success]")).to_contain_text("None yet")

    # Test connection, the request held back until "Testing…" has been seen.
    held = []
    page.route("**/locations/*/test", lambda route: held.append(route))
    item.get_by_role("button", name="Test the connection to Basement NAS").click()
    expect(item.locator(".location-testing")).to_be_visible()
    expect(item.get_by_role("button", name="Test the connection to Basement NAS")).to_contain_text("Testing…")
    shot(item, f"locations-testing-{page.device}")
    for _ in range(250):  # the held request reaches this side a moment after htmx marked the row busy
        if held:
            break
        page.wait_for_timeout(20)
    held[0].continue_()
    result = panel.locator("[data-test-result]")
    expect(result).to_contain_text("Connection OK. A probe file was written, read back and deleted")
    expect(result).to_be_focused()
    shot(panel.locator("li.location-item"), f"locations-tested-{page.device}")
    page.unroute("**/locations/*/test")
    assert list(nas.iterdir()) == []

    page.get_by_role("button", name="Create backup now").click()
    expect(page.locator("#backup-list tbody tr")).to_have_count(1)
    with live_server.app.app_context():
        service.copy_locations()  # the scheduler's work (it is off in the test server)
    page.reload()
    item = page.locator("#backup-locations li.location-item", has_text="Basement NAS")
    expect(item.locator("[data-status=last-success]")).not_to_contain_text("None yet")
    expect(item.locator("[data-status=pending]")).to_contain_text("Nothing waiting")
    no_sideways_scroll(page, "System Backups with a location")
    item.scroll_into_view_if_needed()
    screenshot(page, f"locations-panel-{page.device}")
    shot(page.locator("#backup-locations"), f"locations-panel-only-{page.device}")

    item.get_by_role("link", name="Files at Basement NAS").click()
    expect(page.locator("#location-files li.file-item")).to_have_count(1)
    expect(page.locator("#location-files")).to_contain_text("Encrypted")
    no_sideways_scroll(page, "the files at a location")
    page.locator("#location-files summary").click()
    screenshot(page, f"locations-files-{page.device}")
    page.get_by_role("button", name=re.compile(r"^Fetch \S+$")).click()  # not "… with this key or passphrase"
    expect(page.locator("#messages")).to_contain_text("from location “Basement NAS” as vibe_backup_imported_")
    expect(page.locator("#backup-list tbody tr")).to_have_count(2)
    page.wait_for_load_state("load")  # htmx is ready: Edit and Delete open dialogs, not their pages

    page.locator("#backup-locations").get_by_role("link", name="Edit Basement NAS").click()
    dialog = page.locator("dialog#backup-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("fieldset[data-kind=webdav]")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / f"locations-edit-dialog-{page.device}.png"))  # the viewport: a modal
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)

    page.locator("#backup-locations").get_by_role("link", name="Delete Basement NAS").click()
    expect(dialog).to_contain_text("The files at the location are kept.")
    dialog.get_by_role("button", name="Delete location").click()
    expect(page.locator("#messages")).to_contain_text("Location “Basement NAS” deleted")
    expect(page.locator("#backup-locations")).to_contain_text("No locations yet.")
    assert len(list(nas.iterdir())) == 1

"""The Encryption panel of System Backups in headless Chromium, at desktop and phone size: the mode, the server
key, the kit warning, the Encrypted badge, and the kit download behind the password."""

from pathlib import Path

from playwright.sync_api import expect

from vibenvr.settings.service import update_settings

from backups.helpers import RECIPIENTS
from browser.conftest import login, screenshot
from builders import PASSWORD, make_user


def test_encrypted_backups_are_marked_and_the_kit_downloads_after_the_password(live_server, tab):
    page = tab
    make_user("owner", role="admin")
    with live_server.app.app_context():
        update_settings({"backup_encrypt": "all"})
    login(page, live_server, "owner", PASSWORD)
    page.goto(live_server.url + "/settings/backups")
    page.get_by_role("button", name="Create backup now").click()
    expect(page.locator("#backup-list")).to_contain_text(".json.age")
    panel = page.locator("#backup-encryption")
    expect(panel).to_contain_text("Every backup file is encrypted")
    expect(panel).to_contain_text("Download the emergency kit and keep it off this server")
    expect(page.locator("#backup-list .badge", has_text="Encrypted")).to_have_count(1)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"System Backups scrolls sideways on {page.device} by {overflow}px"
    screenshot(page, f"backups-encrypted-{page.device}")

    page.fill("#f-kit-password", "not the password")
    page.get_by_role("button", name="Download emergency kit").click()
    expect(page.locator("#e-kit-password")).to_contain_text("The password is wrong")
    page.fill("#f-kit-password", PASSWORD)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download emergency kit").click()
    assert download.value.suggested_filename.startswith("vibenvr-emergency-kit-")
    text = Path(download.value.path()).read_text()
    assert "AGE-SECRET-KEY-1" in text and "age -d -i kit.txt" in text
    page.goto(live_server.url + "/settings/backups")
    expect(page.locator("#backup-encryption")).to_contain_text("An emergency kit was downloaded")


def test_download_as_offers_plain_key_or_passphrase_in_a_dialog(live_server, tab):
    page = tab
    make_user("owner", role="admin")
    login(page, live_server, "owner", PASSWORD)
    page.goto(live_server.url + "/settings/backups")
    page.get_by_role("button", name="Create backup now").click()
    expect(page.locator("#backup-list tbody tr")).to_have_count(1)
    page.locator("a", has_text="Download as…").click()
    dialog = page.locator("dialog#backup-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Encrypted with a passphrase")
    page.check("#f-encrypt-passphrase")
    page.fill("#f-passphrase", "a long download passphrase")
    page.fill("#f-confirm", "a long download passphrase")
    screenshot(page, f"backups-download-as-{page.device}")
    with page.expect_download() as download:
        dialog.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename.endswith(".json.age")
    assert Path(download.value.path()).read_bytes().startswith(b"age-encryption.org/v1\n")


def test_an_admin_adds_a_key_of_their_own_and_removes_it_after_opening_remove(live_server, tab):
    page = tab
    make_user("owner", role="admin")
    with live_server.app.app_context():
        update_settings({"backup_encrypt": "all"})
    login(page, live_server, "owner", PASSWORD)
    page.goto(live_server.url + "/settings/backups")
    panel = page.locator("#backup-encryption")
    page.fill("#rc-name", "Anna's laptop")
    page.fill("#rc-recipient", "ssh-ed25519 AAAAbroken")
    page.get_by_role("button", name="Add key").click()
    expect(page.locator("#e-rc-recipient")).to_contain_text("is not a valid ssh-ed25519 public key")
    expect(page.locator("#rc-name")).to_have_value("Anna's laptop")
    page.fill("#rc-recipient", RECIPIENTS[1])
    page.get_by_role("button", name="Add key").click()
    expect(page.locator("#messages")).to_contain_text('Recipient "Anna\'s laptop" added')
    expect(panel.locator(".recipient-list li")).to_have_count(1)
    expect(panel).to_contain_text("SSH Ed25519")
    expect(panel).not_to_contain_text("Download the emergency kit and keep it off this server")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"System Backups scrolls sideways on {page.device} by {overflow}px"
    panel.locator("summary", has_text="Remove…").click()
    screenshot(page, f"backups-recipients-{page.device}")
    panel.get_by_role("button", name="Remove “Anna's laptop”").click()
    expect(page.locator("#messages")).to_contain_text("Backups written before still open with its key")
    expect(panel.locator(".recipient-list li")).to_have_count(0)

"""Global Settings in headless Chromium: a preset fills its values, saving swaps the form and says so."""

from playwright.sync_api import expect

from browser.conftest import login, screenshot
from builders import PASSWORD, make_user


def test_preset_fills_values_and_saving_swaps_the_form_in_place(live_server, page):
    make_user("admin", role="admin")
    login(page, live_server, "admin", PASSWORD)
    page.goto(live_server.url + "/settings/global")
    page.select_option("#f-opt_preset", "low_power")
    expect(page.locator("#f-opt_ffmpeg_preset")).to_have_value("ultrafast")
    expect(page.locator("#f-opt_live_view_height_limit")).to_have_value("480")

    page.fill("#f-backup_auto_frequency_hours", "0")
    page.click("button:has-text('Save settings')")
    expect(page.locator("#e-backup_auto_frequency_hours")).to_have_text("must be at least 1")
    expect(page.locator("#f-backup_auto_frequency_hours")).to_be_focused()
    screenshot(page, "settings-global-error-desktop")

    page.fill("#f-backup_auto_frequency_hours", "12")
    page.check("#f-backup_auto_enabled")
    page.click("button:has-text('Save settings')")
    message = page.locator("#messages [data-focus-message]")
    expect(message).to_contain_text("Settings saved")
    expect(message).to_be_focused()
    expect(page.locator("#e-backup_auto_frequency_hours")).to_have_count(0)
    page.reload()
    expect(page.locator("#f-backup_auto_frequency_hours")).to_have_value("12")
    expect(page.locator("#f-backup_auto_enabled")).to_be_checked()
    expect(page.locator("#f-opt_ffmpeg_preset")).to_have_value("ultrafast")

"""/setup after a data loss in headless Chromium, at desktop and phone size: the page says why it wants the
setup code and where to find it, refuses a wrong one inline, and the code from the terminal creates the admin."""

from playwright.sync_api import expect

from vibenvr.models import User

from browser.conftest import screenshot


def test_setup_after_a_data_loss_asks_for_the_code_and_reads_well(live_server, tab):
    page = tab
    app = live_server.app
    (app.config["BACKUP_DIR"] / "vibe_backup_auto_20261129_224000.json").write_text("{}")
    page.goto(live_server.url + "/cameras")
    assert page.url.endswith("/setup")
    notice = page.locator("#setup-code-notice")
    expect(notice).to_contain_text("This server has been set up before: 1 backup file is in")
    expect(notice).to_contain_text("docker compose exec vibenvr-config flask --app app users setup-code")
    expect(page.get_by_label("Setup code")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"/setup scrolls sideways on {page.device} by {overflow}px"
    screenshot(page, f"setup-code-required-{page.device}")

    page.fill("#setup_code", "AAAA-BBBB-CCCC-DDDD")
    page.fill("#username", "owner")
    page.fill("#password", "a long enough password")
    page.fill("#confirm", "a long enough password")
    page.click("button[type=submit]")
    expect(page.locator(".field-error")).to_contain_text("That is not the current setup code")
    screenshot(page, f"setup-code-wrong-{page.device}")

    result = app.test_cli_runner().invoke(args=["users", "setup-code"])
    page.fill("#setup_code", result.stdout.strip())
    page.fill("#password", "a long enough password")
    page.fill("#confirm", "a long enough password")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/setup" not in page.url
    assert [u.username for u in User.select()] == ["owner"]

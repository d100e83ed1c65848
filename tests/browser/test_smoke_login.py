from browser.conftest import login, screenshot
from builders import PASSWORD, make_user


def test_first_run_leads_to_setup_and_creates_an_admin(live_server, page):
    page.goto(live_server.url + "/")
    assert page.url.endswith("/setup")
    screenshot(page, "setup")
    page.fill("#username", "owner")
    page.fill("#password", "a long enough password")
    page.fill("#confirm", "a long enough password")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/setup" not in page.url


def test_sign_in_with_password(live_server, page):
    make_user("alice", role="admin")
    login(page, live_server, "alice", PASSWORD)
    assert "/login" not in page.url

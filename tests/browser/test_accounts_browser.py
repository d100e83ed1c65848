"""Accounts in headless Chromium: first-run setup, 2FA enrolment from the page, sign-out, sign-in with a code."""

import datetime as dt
import re

import pyotp

from browser.conftest import login, screenshot
from builders import PASSWORD, make_camera, make_user


class Clock:
    def __init__(self):
        self.now = dt.datetime(2026, 11, 29, 22, 40, 0)

    def __call__(self):
        return self.now


def _code(secret, clock):
    return pyotp.TOTP(secret).at(clock().replace(tzinfo=dt.UTC))


def test_setup_enrol_2fa_sign_out_and_sign_in_with_a_code(live_server, page):
    clock = Clock()
    live_server.app.config["CLOCK"] = clock
    page.goto(live_server.url + "/security")
    assert page.url.endswith("/setup")
    page.fill("#username", "owner")
    page.fill("#password", "a long enough password")
    page.fill("#confirm", "a long enough password")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/setup" not in page.url

    page.goto(live_server.url + "/security")
    page.click("text=Set up two-factor authentication")
    secret_box = page.locator("#totp-secret")
    secret_box.wait_for()
    assert page.locator("#sec-twofactor svg").count() == 1
    screenshot(page, "accounts_enrol_qr")
    secret = secret_box.inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)

    page.fill("#f-code", _code(secret, clock))
    page.click("text=Turn on two-factor")  # without the password: refused, and the code is not used up
    page.locator("#e-enable-password").wait_for()
    page.fill("#f-code", "000000" if _code(secret, clock) != "000000" else "111111")
    page.fill("#f-enable-password", "a long enough password")
    page.click("text=Turn on two-factor")
    page.locator("#e-code").wait_for()
    page.fill("#f-code", _code(secret, clock))
    page.fill("#f-enable-password", "a long enough password")
    page.click("text=Turn on two-factor")
    page.locator("#recovery-codes").wait_for()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "accounts_recovery_codes")

    page.click("text=Sign out")
    page.wait_for_url(re.compile(r"/login"))
    clock.now += dt.timedelta(seconds=90)
    login(page, live_server, "owner", "a long enough password")
    page.wait_for_url(re.compile(r"/login/verify"))
    screenshot(page, "accounts_two_factor_prompt")
    page.fill("#code", _code(secret, clock))
    page.check("#trust")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url
    page.goto(live_server.url + "/security")
    assert page.locator("#sec-devices tbody tr").count() == 1
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["vibenvr_trusted_device"]["httpOnly"] is True
    assert cookies["session"]["httpOnly"] is True and cookies["session"]["sameSite"] == "Lax"
    screenshot(page, "accounts_security_page")


def test_users_page_creates_a_viewer_and_deletes_after_confirming(live_server, page):
    make_user("alice", role="admin")
    make_camera(name="Porch")
    login(page, live_server, "alice", PASSWORD)
    page.goto(live_server.url + "/users")
    page.fill("#f-username", "bob")
    page.fill("#f-password", "bobs long password")
    page.fill("#f-confirm", "bobs long password")
    page.click("text=Add user")
    page.wait_for_url(re.compile(r"/users/\d+$"))
    page.check("#f-restrict_camera_access")
    page.check("text=Porch")
    page.click("text=Save camera access")
    page.locator(".message-success").wait_for()
    screenshot(page, "accounts_user_edit")
    page.click("text=Delete bob")
    dialog = page.locator("#delete-user")
    assert dialog.is_visible()
    dialog.locator("text=Cancel").click()
    assert not dialog.is_visible()
    page.click("text=Delete bob")
    dialog.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/users$"))
    assert page.locator("#users-table").inner_text().count("bob") == 0
    screenshot(page, "accounts_users_list")


def test_security_page_on_a_phone(live_server, phone):
    make_user("carol", role="viewer")
    login(phone, live_server, "carol", PASSWORD)
    phone.goto(live_server.url + "/security")
    phone.fill("#f-token-name", "phone script")
    phone.fill("#f-token-password", PASSWORD)
    phone.click("text=Create token")
    phone.locator("#new-token").wait_for()
    assert phone.locator("#new-token").inner_text().startswith("vnvr_")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    screenshot(phone, "accounts_security_phone")

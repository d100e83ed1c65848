"""Two-factor flows with an injected clock: enrolment, codes, recovery codes, trusted devices."""

import datetime as dt
import re

import pytest

from vibenvr.auth import twofactor
from vibenvr.auth.devices import COOKIE_NAME
from vibenvr.models import RecoveryCode, TrustedDevice, User

from .conftest import code_form, login_form, page_csrf, totp_at
from builders import PASSWORD, make_user


def _post(client, path, **data):
    token = page_csrf(client.get("/security").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def enrol(client, user, clock):
    """Enrol ``user`` (signed in on ``client``) through the Security page; return the plain recovery codes."""
    html = _post(client, "/security/2fa/setup").get_data(as_text=True)
    secret = User.get_by_id(user.id).totp_secret
    assert twofactor.format_secret(secret) in html and "<svg" in html
    response = _post(client, "/security/2fa/enable", code=totp_at(secret, clock()), password=PASSWORD)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return secret, re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", html)


@pytest.fixture
def enrolled(app, client, admin, clock):
    login_form(client, "admin", PASSWORD)
    secret, codes = enrol(client, admin, clock)
    token = page_csrf(client.get("/security").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    clock.advance(minutes=2)  # a fresh time step, so the enrolment code is not a replay
    return secret, codes


def test_enrolment_shows_qr_and_secret_and_enables_only_after_a_valid_code(client, admin, clock):
    login_form(client, "admin", PASSWORD)
    response = _post(client, "/security/2fa/setup")
    html = response.get_data(as_text=True)
    user = User.get_by_id(admin.id)
    assert response.status_code == 200 and "<svg viewBox=" in html and 'id="totp-secret"' in html
    assert user.totp_secret and not user.is_2fa_enabled
    code = totp_at(user.totp_secret, clock())
    no_password = _post(client, "/security/2fa/enable", code=code)
    assert no_password.status_code == 422 and "Enter your current password" in no_password.get_data(as_text=True)
    wrong_password = _post(client, "/security/2fa/enable", code=code, password="not my password at all")
    assert wrong_password.status_code == 422 and "The password is wrong" in wrong_password.get_data(as_text=True)
    wrong = _post(client, "/security/2fa/enable", code="000000" if code != "000000" else "111111", password=PASSWORD)
    assert wrong.status_code == 422 and "does not match" in wrong.get_data(as_text=True)
    assert not User.get_by_id(admin.id).is_2fa_enabled
    right = _post(client, "/security/2fa/enable", code=code, password=PASSWORD)  # not used up by the refusals
    assert right.status_code == 200
    assert User.get_by_id(admin.id).is_2fa_enabled
    html = right.get_data(as_text=True)
    assert html.count("<li><code>") == 10 and "shown only this once" in html
    rows = list(RecoveryCode.select().where(RecoveryCode.user == admin.id))
    assert len(rows) == 10 and all(r.code_hash.startswith("$argon2") for r in rows)
    # Shown once: the page no longer lists them.
    assert "<li><code>" not in client.get("/security").get_data(as_text=True)


def test_enrolment_code_from_htmx_answers_with_the_section(client, admin, clock):
    login_form(client, "admin", PASSWORD)
    token = page_csrf(client.get("/security").get_data(as_text=True))
    response = client.post("/security/2fa/setup", headers={"HX-Request": "true", "X-CSRFToken": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section class="card" id="sec-twofactor"')
    assert "HX-Request" in response.headers["Vary"]


def test_login_asks_for_the_code_after_the_password(client, admin, clock, enrolled):
    secret, _codes = enrolled
    response = login_form(client, "admin", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/login/verify"
    assert client.get("/security").status_code == 302  # not signed in yet
    assert code_form(client, totp_at(secret, clock())).status_code == 302
    assert client.get("/security").status_code == 200


def test_wrong_code_is_refused(client, admin, clock, enrolled):
    secret, _ = enrolled
    login_form(client, "admin", PASSWORD)
    wrong = totp_at(secret, clock() + dt.timedelta(minutes=5))
    response = code_form(client, wrong)
    assert response.status_code == 401 and "not valid" in response.get_data(as_text=True)
    assert client.get("/security").status_code == 302


def test_code_from_the_previous_step_is_accepted(client, admin, clock, enrolled):
    secret, _ = enrolled
    login_form(client, "admin", PASSWORD)
    assert code_form(client, totp_at(secret, clock() - dt.timedelta(seconds=30))).status_code == 302


def test_code_two_steps_old_is_refused(client, admin, clock, enrolled):
    secret, _ = enrolled
    login_form(client, "admin", PASSWORD)
    assert code_form(client, totp_at(secret, clock() - dt.timedelta(seconds=61))).status_code == 401


def test_a_code_cannot_be_replayed(app, admin, clock, enrolled):
    secret, _ = enrolled
    first, second = app.test_client(), app.test_client()
    code = totp_at(secret, clock())
    login_form(first, "admin", PASSWORD)
    login_form(second, "admin", PASSWORD)
    assert code_form(first, code).status_code == 302
    assert code_form(second, code).status_code == 401


def test_recovery_code_works_once(app, admin, clock, enrolled):
    _, codes = enrolled
    assert len(codes) == 10
    client = app.test_client()
    login_form(client, "admin", PASSWORD)
    response = code_form(client, codes[0].upper().replace("-", " "))  # typed loosely
    assert response.status_code == 302
    assert RecoveryCode.select().where(RecoveryCode.user == admin.id).count() == 9
    again = app.test_client()
    login_form(again, "admin", PASSWORD)
    assert code_form(again, codes[0]).status_code == 401


def test_pending_sign_in_expires_after_five_minutes(client, admin, clock, enrolled):
    secret, _ = enrolled
    login_form(client, "admin", PASSWORD)
    clock.advance(minutes=6)
    response = code_form_raw(client, totp_at(secret, clock()))
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def code_form_raw(client, code):
    with client.session_transaction():
        pass
    token = page_csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login/verify", data={"code": code, "csrf_token": token})


def test_trusted_device_skips_the_code_until_it_expires(app, admin, clock, enrolled):
    secret, _ = enrolled
    browser = app.test_client()
    login_form(browser, "admin", PASSWORD)
    response = code_form(browser, totp_at(secret, clock()), trust=True)
    cookie = response.headers.getlist("Set-Cookie")
    trusted = next(c for c in cookie if c.startswith(COOKIE_NAME + "="))
    assert "HttpOnly" in trusted and "SameSite=Lax" in trusted and "Max-Age=2592000" in trusted
    plain = trusted.split(";")[0].split("=", 1)[1]
    device = TrustedDevice.get(TrustedDevice.user == admin.id)
    assert device.token_hash != plain and len(device.token_hash) == 64
    assert device.expires_at == clock() + dt.timedelta(days=30)

    token = page_csrf(browser.get("/security").get_data(as_text=True))
    browser.post("/logout", data={"csrf_token": token})
    clock.advance(days=29)
    response = login_form(browser, "admin", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"  # no code asked
    assert TrustedDevice.get_by_id(device.id).last_used == clock()

    token = page_csrf(browser.get("/security").get_data(as_text=True))
    browser.post("/logout", data={"csrf_token": token})
    clock.advance(days=1, seconds=1)
    response = login_form(browser, "admin", PASSWORD)
    assert response.headers["Location"] == "/login/verify"  # expired: the code is asked again


def test_trusted_device_of_another_user_does_not_skip(app, admin, clock, enrolled):
    secret, _ = enrolled
    other = make_user("other", role="viewer")
    other_secret = twofactor.new_secret()
    User.update(totp_secret=other_secret, is_2fa_enabled=True).where(User.id == other.id).execute()
    browser = app.test_client()
    login_form(browser, "admin", PASSWORD)
    code_form(browser, totp_at(secret, clock()), trust=True)
    token = page_csrf(browser.get("/security").get_data(as_text=True))
    browser.post("/logout", data={"csrf_token": token})
    assert login_form(browser, "other", PASSWORD).headers["Location"] == "/login/verify"


def test_security_page_lists_and_revokes_devices(app, admin, clock, enrolled):
    secret, _ = enrolled
    browser = app.test_client()
    login_form(browser, "admin", PASSWORD)
    code_form(browser, totp_at(secret, clock()), trust=True)
    device = TrustedDevice.get(TrustedDevice.user == admin.id)
    html = browser.get("/security").get_data(as_text=True)
    assert "Trusted devices" in html and f"/security/devices/{device.id}/revoke" in html
    token = page_csrf(html)
    response = browser.post(f"/security/devices/{device.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 200 and TrustedDevice.select().count() == 0


def test_devices_of_another_user_cannot_be_revoked(app, admin, viewer_client, clock, enrolled):
    secret, _ = enrolled
    browser = app.test_client()
    login_form(browser, "admin", PASSWORD)
    code_form(browser, totp_at(secret, clock()), trust=True)
    device = TrustedDevice.get(TrustedDevice.user == admin.id)
    assert viewer_client.post(f"/security/devices/{device.id}/revoke").status_code == 404
    assert TrustedDevice.select().count() == 1


def test_disable_needs_the_password_and_removes_codes_and_devices(client, admin, clock, enrolled):
    secret, _ = enrolled
    login_form(client, "admin", PASSWORD)
    code_form(client, totp_at(secret, clock()), trust=True)
    assert _post(client, "/security/2fa/disable", password="not my password").status_code == 422
    assert User.get_by_id(admin.id).is_2fa_enabled
    assert _post(client, "/security/2fa/disable", password=PASSWORD).status_code == 200
    user = User.get_by_id(admin.id)
    assert not user.is_2fa_enabled and user.totp_secret is None
    assert RecoveryCode.select().count() == 0 and TrustedDevice.select().count() == 0


def test_new_recovery_codes_replace_the_old_ones(client, admin, clock, enrolled):
    secret, old = enrolled
    login_form(client, "admin", PASSWORD)
    code_form(client, totp_at(secret, clock()))
    html = _post(client, "/security/2fa/recovery-codes", password=PASSWORD).get_data(as_text=True)
    assert html.count("<li><code>") == 10
    assert not twofactor.use_recovery_code(User.get_by_id(admin.id), old[1])


def test_admin_disables_another_users_2fa(app, admin_client, clock):
    user = make_user("phone-lost", role="viewer")
    User.update(totp_secret=twofactor.new_secret(), is_2fa_enabled=True).where(User.id == user.id).execute()
    twofactor.replace_recovery_codes(user)
    response = admin_client.post(f"/users/{user.id}/disable-2fa")
    assert response.status_code == 302
    user = User.get_by_id(user.id)
    assert not user.is_2fa_enabled and user.totp_secret is None
    assert RecoveryCode.select().where(RecoveryCode.user == user.id).count() == 0


def test_viewer_cannot_disable_another_users_2fa(app, admin, viewer_client):
    User.update(totp_secret=twofactor.new_secret(), is_2fa_enabled=True).where(User.id == admin.id).execute()
    assert viewer_client.post(f"/users/{admin.id}/disable-2fa").status_code == 403
    assert User.get_by_id(admin.id).is_2fa_enabled

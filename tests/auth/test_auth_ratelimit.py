"""Failed sign-ins are limited per account and per address; the answer is 429 with a retry hint."""

import pytest

from vibenvr.auth import twofactor
from vibenvr.models import User

from .conftest import code_form, login_form
from builders import PASSWORD, make_user
from conftest import make_app
from support.clock import FakeClock


@pytest.fixture
def fake_time():
    """The app's clock (``CLOCK``): windows pass without sleeping."""
    return FakeClock()


@pytest.fixture
def limited_app(tmp_path, fake_time):
    from vibenvr.db import db

    app = make_app(
        tmp_path / "data",
        LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes",
        LOGIN_LIMIT_PER_ADDRESS="5 per 15 minutes",
        CLOCK=fake_time,
    )
    db.connect(reuse_if_open=True)
    make_user("admin", role="admin")
    yield app
    db.close()


def _from(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_account_is_limited_after_failures_even_with_the_right_password(limited_app, fake_time):
    client = _from(limited_app, "10.0.0.1")
    for _ in range(3):
        assert login_form(client, "admin", "wrong password!").status_code == 401
    response = login_form(client, "admin", PASSWORD)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 900
    assert "Try again in 15 minutes" in response.get_data(as_text=True)
    # Another address gets the same answer for this account: the limit is per account too.
    assert login_form(_from(limited_app, "10.0.0.2"), "admin", PASSWORD).status_code == 429
    fake_time.advance(seconds=901)
    assert login_form(client, "admin", PASSWORD).status_code == 302


def test_address_is_limited_across_usernames(limited_app, fake_time):
    client = _from(limited_app, "10.0.0.3")
    for name in ("a1", "a2", "a3", "a4", "a5"):
        assert login_form(client, name, "wrong password!").status_code == 401
    assert login_form(client, "admin", PASSWORD).status_code == 429
    assert login_form(_from(limited_app, "10.0.0.4"), "admin", PASSWORD).status_code == 302


def test_success_clears_the_account_count(limited_app, fake_time):
    client = _from(limited_app, "10.0.0.5")
    for _ in range(2):
        login_form(client, "admin", "wrong password!")
    assert login_form(client, "admin", PASSWORD).status_code == 302
    other = _from(limited_app, "10.0.0.6")
    for _ in range(2):
        assert login_form(other, "admin", "wrong password!").status_code == 401
    assert login_form(other, "admin", PASSWORD).status_code == 302


def test_wrong_codes_count_too(limited_app, fake_time):
    secret = twofactor.new_secret()
    User.update(totp_secret=secret, is_2fa_enabled=True).execute()
    client = _from(limited_app, "10.0.0.7")
    login_form(client, "admin", PASSWORD)
    for _ in range(3):
        assert code_form(client, "not-a-code").status_code == 401
    assert code_form(client, "123456").status_code == 429


def test_case_of_the_username_does_not_dodge_the_limit(limited_app, fake_time):
    client = _from(limited_app, "10.0.0.8")
    for name in ("admin", "Admin", "ADMIN"):
        login_form(client, name, "wrong password!")
    assert login_form(_from(limited_app, "10.0.0.9"), "admin", PASSWORD).status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(tmp_path, fake_time):
    from vibenvr.db import db

    app = make_app(
        tmp_path / "proxied",
        TRUSTED_PROXIES=1,
        LOGIN_LIMIT_PER_ACCOUNT="50 per 15 minutes",
        LOGIN_LIMIT_PER_ADDRESS="2 per 15 minutes",
        CLOCK=fake_time,
    )
    db.connect(reuse_if_open=True)
    try:
        make_user("admin", role="admin")
        proxy = _from(app, "10.9.9.9")
        for name in ("x1", "x2"):
            proxy.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.5"
            assert login_form(proxy, name, "wrong password!").status_code == 401
        assert login_form(proxy, "admin", PASSWORD).status_code == 429
        proxy.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.6"
        assert login_form(proxy, "admin", PASSWORD).status_code == 302
    finally:
        db.close()


def test_without_trusted_proxies_forwarded_headers_are_ignored(limited_app, fake_time):
    client = _from(limited_app, "10.0.1.1")
    for n, name in enumerate(("b1", "b2", "b3", "b4", "b5")):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{n}"
        login_form(client, name, "wrong password!")
    assert login_form(client, "admin", PASSWORD).status_code == 429

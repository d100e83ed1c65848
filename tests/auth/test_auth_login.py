"""First run, sign-in, sign-out, ``next`` and cookie flags (SPEC §3)."""

import pytest
from argon2 import PasswordHasher

from vibenvr.models import User

from .conftest import login_form, page_csrf
from builders import PASSWORD, make_user
from conftest import make_app


def test_without_users_every_page_leads_to_setup(client):
    for path in ("/", "/security", "/users", "/login"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/setup")
    assert client.get("/api/users").status_code == 401


def test_setup_creates_the_first_admin_signs_in_and_then_disappears(client):
    html = client.get("/setup").get_data(as_text=True)
    data = {
        "username": "owner",
        "password": "a long password",
        "confirm": "a long password",
        "csrf_token": page_csrf(html),
    }
    response = client.post("/setup", data=data)
    assert response.status_code == 302
    owner = User.get(User.username == "owner")
    assert owner.role == "admin" and owner.hashed_password.startswith("$argon2id$")
    assert client.get("/security").status_code == 200
    assert client.get("/setup").status_code == 404
    data["csrf_token"] = page_csrf(client.get("/security").get_data(as_text=True))  # the session was renewed
    assert client.post("/setup", data=data).status_code == 404
    assert User.select().count() == 1


@pytest.mark.parametrize(
    "password, confirm", [("short", "short"), ("123456789", "123456789"), ("a long password", "another one")]
)
def test_setup_refuses_weak_or_mismatched_passwords(client, password, confirm):
    token = page_csrf(client.get("/setup").get_data(as_text=True))
    response = client.post(
        "/setup", data={"username": "owner", "password": password, "confirm": confirm, "csrf_token": token}
    )
    assert response.status_code == 422
    assert User.select().count() == 0


def test_login_and_logout(client, admin):
    response = login_form(client, "admin", PASSWORD)
    assert response.status_code == 302
    assert client.get("/security").status_code == 200
    token = page_csrf(client.get("/security").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/security").status_code == 302
    with client.session_transaction() as session:
        assert "_user_id" not in session


@pytest.mark.parametrize("username, password", [("admin", "wrong password"), ("nobody", PASSWORD), ("ADMIN", PASSWORD)])
def test_wrong_credentials_get_one_message(client, admin, username, password):
    response = login_form(client, username, password)
    assert response.status_code == 401
    assert "The username or password is wrong." in response.get_data(as_text=True)
    assert client.get("/security").status_code == 302


def test_disabled_account_cannot_sign_in(client, admin):
    make_user("gone", role="viewer", is_active_user=False)
    assert login_form(client, "gone", PASSWORD).status_code == 401


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/cameras?x=1", "/cameras?x=1"),
        ("/security", "/security"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_is_followed_only_when_it_is_a_local_path(client, admin, target, expected):
    response = login_form(client, "admin", PASSWORD, next=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == expected or (expected == "/" and location == "/")


def test_anonymous_page_redirects_to_login_with_next(client, admin):
    response = client.get("/security?tab=tokens")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/security%3Ftab%3Dtokens"


def test_session_cookie_is_httponly_and_lax(client, admin):
    response = login_form(client, "admin", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookies_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("VIBENVR_SECURE_COOKIES", "1")
    app = make_app(tmp_path / "secure")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_password_change_ends_other_sessions(app, admin):
    first, second = app.test_client(), app.test_client()
    login_form(first, "admin", PASSWORD)
    login_form(second, "admin", PASSWORD)
    token = page_csrf(first.get("/security").get_data(as_text=True))
    response = first.post(
        "/security/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        },
    )
    assert response.status_code == 200
    assert first.get("/security").status_code == 200  # this session follows the new password
    assert second.get("/security").status_code == 302  # the other one ended


def test_wrong_current_password_changes_nothing(client, admin):
    login_form(client, "admin", PASSWORD)
    before = User.get_by_id(admin.id).hashed_password
    token = page_csrf(client.get("/security").get_data(as_text=True))
    response = client.post(
        "/security/password",
        data={
            "csrf_token": token,
            "current_password": "not it at all",
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        },
    )
    assert response.status_code == 422
    assert "The password is wrong." in response.get_data(as_text=True)
    assert User.get_by_id(admin.id).hashed_password == before


def test_argon2_hash_made_elsewhere_verifies_and_is_upgraded(client, app):
    foreign = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=2, hash_len=24, salt_len=12).hash(
        "imported passphrase"
    )
    User.create(username="legacy", hashed_password=foreign, role="admin")
    assert login_form(client, "legacy", "imported passphrase").status_code == 302
    upgraded = User.get(User.username == "legacy").hashed_password
    assert upgraded != foreign and upgraded.startswith("$argon2id$")


def test_host_defaults_to_loopback_and_follows_vibenvr_host(tmp_path, monkeypatch):
    monkeypatch.delenv("VIBENVR_HOST", raising=False)
    assert make_app(tmp_path / "a").config["HOST"] == "127.0.0.1"
    monkeypatch.setenv("VIBENVR_HOST", "0.0.0.0")  # noqa: S104 - the point of the test
    app = make_app(tmp_path / "b")
    assert app.config["HOST"] == "0.0.0.0"  # noqa: S104
    # Reachable from elsewhere, the app still answers requests from any address, behind sign-in.
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    assert client.get("/api/health").status_code == 200
    assert client.get("/").headers["Location"].endswith("/setup")

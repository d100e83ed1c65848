"""Server-side sessions and the Security pages' guards (SPEC §12, issue 11 findings 2 and 4).

A copied cookie stops working at sign-out; the cookie carries a random id and nothing of the password
hash; a password change, a reset, a disabled or deleted account and "sign out everywhere" end sessions
for real; /security/* never answers an API token; what could take an account over asks for the password.
"""

import datetime as dt

import pytest

from vibenvr.auth import sessions
from vibenvr.models import ApiToken, TrustedDevice, User
from vibenvr.runtime import UserSession

from .conftest import login_form, page_csrf
from builders import PASSWORD, make_token

NEW_PASSWORD = "a brand new passphrase"


def _cookie_session(app, client):
    """The Flask session as the browser holds it, decoded from the signed cookie."""
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None, "no session cookie"
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def _signed_in(client):
    return client.get("/cameras").status_code == 200


def _copy_cookie(app, source):
    """A second browser holding a copy of ``source``'s session cookie (what a thief would have)."""
    name = app.config.get("SESSION_COOKIE_NAME", "session")
    thief = app.test_client()
    thief.set_cookie(name, source.get_cookie(name).value)
    return thief


def _post(client, path, **data):
    token = page_csrf(client.get("/security").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


@pytest.fixture
def browser(app, admin, clock):
    client = app.test_client()
    assert login_form(client, "admin", PASSWORD).status_code == 302
    return client


def test_the_cookie_holds_a_random_id_and_nothing_of_the_password_hash(app, admin, browser):
    stored = _cookie_session(app, browser)
    session_id = stored["_user_id"]
    hashed = User.get_by_id(admin.id).hashed_password
    assert len(session_id) >= 40 and not session_id.startswith(f"{admin.id}:")
    digest = hashed.rsplit("$", 1)[-1]
    pieces = {digest[i : i + 8] for i in range(len(digest) - 7)}
    cookie_text = repr(stored)
    assert not [piece for piece in pieces if piece in cookie_text], "a piece of the password hash is in the cookie"
    assert "_id" not in stored  # flask-login's address/browser hash is not kept either
    record = UserSession.get(UserSession.session_hash == sessions.sha256_hex(session_id))
    assert record.user_id == admin.id and not record.is_pending
    assert session_id not in {row.session_hash for row in UserSession.select()}  # only its SHA-256 is stored


def test_a_copied_cookie_stops_working_at_sign_out(app, admin, browser):
    thief = _copy_cookie(app, browser)
    assert _signed_in(thief)  # a copy works while the session lives: that is what a session is
    token = page_csrf(browser.get("/cameras").get_data(as_text=True))
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not _signed_in(browser)
    answer = thief.get("/cameras")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert thief.get("/api/cameras").status_code == 401
    assert UserSession.select().where(UserSession.user_id == admin.id).count() == 0


def test_sessions_end_after_the_idle_and_the_absolute_limit(app, admin, clock):
    client = app.test_client()
    login_form(client, "admin", PASSWORD)
    for _ in range(3):  # used every 10 days: the idle limit (14) never bites, the absolute one (30) does
        clock.advance(days=10)
        assert _signed_in(client)
    clock.advance(days=1)
    assert not _signed_in(client)
    login_form(client, "admin", PASSWORD)
    clock.advance(days=14, minutes=1)
    assert not _signed_in(client)


def test_changing_the_password_ends_every_other_session_and_keeps_this_one(app, admin, browser):
    other = app.test_client()
    login_form(other, "admin", PASSWORD)
    thief = _copy_cookie(app, browser)
    response = _post(
        browser,
        "/security/password",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )
    assert response.status_code == 200 and "Every other session of your account has ended" in response.get_data(
        as_text=True
    )
    assert _signed_in(browser)
    assert not _signed_in(other) and not _signed_in(thief)  # the copy holds the old session id
    assert UserSession.select().where(UserSession.user_id == admin.id).count() == 1


def test_a_password_change_can_also_revoke_devices_and_tokens(app, admin, browser, clock):
    plain = make_token(admin)
    TrustedDevice.create(
        user=admin.id, token_hash="0" * 64, name="old laptop", expires_at=clock() + dt.timedelta(days=30)
    )
    response = _post(
        browser,
        "/security/password",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
        revoke_devices="on",
        revoke_tokens="on",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 trusted device removed" in html and "1 API token revoked" in html
    assert TrustedDevice.select().where(TrustedDevice.user == admin.id).count() == 0
    assert app.test_client().get("/api/cameras", headers={"X-API-Key": plain}).status_code == 401


def test_without_the_boxes_devices_and_tokens_stay(app, admin, browser):
    plain = make_token(admin)
    _post(
        browser,
        "/security/password",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
        revoke_devices="off",
        revoke_tokens="off",
    )
    assert app.test_client().get("/api/cameras", headers={"X-API-Key": plain}).status_code == 200


def test_sign_out_everywhere_else_and_one_by_one(app, admin, browser):
    first, second = app.test_client(), app.test_client()
    login_form(first, "admin", PASSWORD)
    login_form(second, "admin", PASSWORD)
    page = browser.get("/security").get_data(as_text=True)
    assert page.count("This browser") == 1 and "Sign out everywhere else" in page
    mine = sessions.sha256_hex(_cookie_session(app, browser)["_user_id"])
    records = [r for r in UserSession.select().where(UserSession.user_id == admin.id) if r.session_hash != mine]
    assert len(records) == 2
    assert _post(browser, f"/security/sessions/{records[0].id}/end").status_code == 200
    assert _signed_in(browser) and [_signed_in(first), _signed_in(second)].count(True) == 1
    own = UserSession.get(UserSession.session_hash == mine)
    assert _post(browser, f"/security/sessions/{own.id}/end").status_code == 404  # Sign out ends this one
    response = _post(browser, "/security/sessions/end-others")
    assert "1 other session signed out" in response.get_data(as_text=True)
    assert _signed_in(browser) and not _signed_in(first) and not _signed_in(second)


def test_a_session_of_another_user_cannot_be_ended(app, admin, viewer, browser):
    other = app.test_client()
    login_form(other, "viewer", PASSWORD)
    record = UserSession.get(UserSession.user_id == viewer.id)
    assert _post(browser, f"/security/sessions/{record.id}/end").status_code == 404
    assert _signed_in(other)


@pytest.mark.parametrize("change", ["reset", "disable", "delete"])
def test_an_admin_ending_an_account_or_resetting_its_password_signs_it_out(app, admin, viewer, browser, change):
    other = app.test_client()
    login_form(other, "viewer", PASSWORD)
    assert _signed_in(other)
    token = page_csrf(browser.get(f"/users/{viewer.id}").get_data(as_text=True))
    if change == "reset":
        browser.post(
            f"/users/{viewer.id}/password",
            data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
    elif change == "disable":
        assert (
            browser.patch(
                f"/api/users/{viewer.id}", json={"is_active": False}, headers={"X-CSRFToken": token}
            ).status_code
            == 200
        )
    else:
        browser.post(f"/users/{viewer.id}/delete", data={"csrf_token": token})
    assert not _signed_in(other)
    assert UserSession.select().where(UserSession.user_id == viewer.id).count() == 0


def test_a_pending_two_factor_sign_in_is_not_a_session(app, admin, clock):
    User.update(totp_secret="JBSWY3DPEHPK3PXP", is_2fa_enabled=True).where(User.id == admin.id).execute()
    client = app.test_client()
    answer = login_form(client, "admin", PASSWORD)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login/verify")
    assert not _signed_in(client)
    assert UserSession.get(UserSession.user_id == admin.id).is_pending
    clock.advance(minutes=6)
    assert client.get("/login/verify").status_code == 302  # the pending record expired


# -- /security/* with an API token: refused, whatever else the request carries (finding 2) ---------------


def _security_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/security"):
            path = (
                rule.rule.replace("<int:device_id>", "1").replace("<int:token_id>", "1").replace("<int:record_id>", "1")
            )
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, path


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_every_security_route_refuses_an_api_token(app, admin, browser, header):
    plain = make_token(admin)
    value = f"Bearer {plain}" if header == "Authorization" else plain
    routes = list(_security_routes(app))
    assert len(routes) >= 14
    before = (User.get_by_id(admin.id).totp_secret, ApiToken.select().count())
    for method, path in routes:
        for client in (app.test_client(), browser):  # a token alone, and a token beside a valid session
            answer = client.open(path, method=method, headers={header: value}, data={"password": PASSWORD})
            assert answer.status_code == 403, (method, path, answer.status_code)
            assert "never with an API token" in answer.get_json()["error"]
    assert (User.get_by_id(admin.id).totp_secret, ApiToken.select().count()) == before


def test_a_wrong_token_on_a_security_route_is_refused_too(app, admin, browser):
    answer = browser.post("/security/2fa/setup", headers={"Authorization": "Bearer not-a-token"})
    assert answer.status_code == 403 and User.get_by_id(admin.id).totp_secret is None


# -- with a session, the current password where an account could be taken over --------------------------


@pytest.mark.parametrize("typed", [None, "", "not the password"])
def test_making_a_token_on_the_page_asks_for_the_password(app, admin, browser, typed):
    data = {"name": "script", "expires_in_days": "90"}
    if typed is not None:
        data["password"] = typed
    answer = _post(browser, "/security/tokens", **data)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and ("Enter your current password" in html or "The password is wrong" in html)
    assert ApiToken.select().count() == 0
    assert _post(browser, "/security/tokens", **data | {"password": PASSWORD}).status_code == 200
    assert ApiToken.select().count() == 1


def test_turning_two_factor_on_asks_for_the_password(app, admin, browser, clock):
    from .conftest import totp_at

    _post(browser, "/security/2fa/setup")
    secret = User.get_by_id(admin.id).totp_secret
    answer = _post(browser, "/security/2fa/enable", code=totp_at(secret, clock()))
    assert answer.status_code == 422 and not User.get_by_id(admin.id).is_2fa_enabled
    assert _post(browser, "/security/2fa/enable", code=totp_at(secret, clock()), password=PASSWORD).status_code == 200
    assert User.get_by_id(admin.id).is_2fa_enabled


@pytest.mark.parametrize("path", ["/security/2fa/disable", "/security/2fa/recovery-codes"])
def test_two_factor_changes_ask_for_the_password(app, admin, browser, path):
    User.update(totp_secret="JBSWY3DPEHPK3PXP", is_2fa_enabled=True).where(User.id == admin.id).execute()
    assert _post(browser, path).status_code == 422
    assert _post(browser, path, password="wrong password here").status_code == 422
    assert User.get_by_id(admin.id).is_2fa_enabled


def test_the_password_change_needs_the_current_password(app, admin, browser):
    before = User.get_by_id(admin.id).hashed_password
    answer = _post(
        browser,
        "/security/password",
        current_password="wrong",
        new_password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )
    assert answer.status_code == 422 and User.get_by_id(admin.id).hashed_password == before


def test_the_api_makes_tokens_from_a_session_only_with_the_current_password(app, admin, browser):
    token = page_csrf(browser.get("/security").get_data(as_text=True))
    headers = {"X-CSRFToken": token}
    refused = browser.post("/api/tokens", json={"name": "from a cookie"}, headers=headers)
    assert refused.status_code == 422 and refused.get_json()["errors"][0].startswith("current_password")
    wrong = browser.post("/api/tokens", json={"name": "x", "current_password": "nope nope nope"}, headers=headers)
    assert wrong.status_code == 422 and ApiToken.select().count() == 0
    made = browser.post("/api/tokens", json={"name": "ok", "current_password": PASSWORD}, headers=headers)
    assert made.status_code == 201 and "current_password" not in made.get_json()


def test_a_token_cannot_make_a_token_that_outlives_it(app, admin, api):
    acting = ApiToken.get(ApiToken.user == admin.id)
    acting.expires_at = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=10)
    acting.save()
    made = api.post("/api/tokens", json={"name": "child"})
    assert made.status_code == 201
    assert made.get_json()["expires_at"] is not None  # it inherits the acting token's expiry
    for body in ({"name": "forever", "expires_in_days": None}, {"name": "later", "expires_in_days": 30}):
        answer = api.post("/api/tokens", json=body)
        assert answer.status_code == 422 and "outlives it" in answer.get_json()["errors"][0], body
    assert api.post("/api/tokens", json={"name": "sooner", "expires_in_days": 5}).status_code == 201


def test_a_restore_that_gives_a_user_another_password_ends_their_sessions(app, admin, viewer, browser):
    from vibenvr.backups import service as backups
    from vibenvr.users.service import set_password

    with app.app_context():
        entry = backups.create_backup("manual")  # the viewer's password is PASSWORD in it
        set_password(User.get_by_id(viewer.id), NEW_PASSWORD)
    other = app.test_client()
    login_form(other, "viewer", NEW_PASSWORD)
    assert _signed_in(other)
    with app.app_context():
        backups.restore(backups.load_backup(entry.name))
    assert UserSession.select().where(UserSession.user_id == viewer.id).count() == 0  # purged by the restore
    assert not _signed_in(other)
    assert _signed_in(browser)  # the admin's password is the same in the backup

"""API tokens: both headers, the owner's role, expiry, revocation, /api/tokens and the Security page."""

import datetime as dt

import pytest
from argon2 import PasswordHasher

from vibenvr.auth import twofactor
from vibenvr.auth.tokens import sha256_hex
from vibenvr.models import ApiToken, RecoveryCode, User

from builders import PASSWORD, make_camera, make_token, make_user


def test_bearer_and_x_api_key_both_authenticate(client, admin):
    plain = make_token(admin)
    assert client.get("/api/users", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    assert client.get("/api/users", headers={"X-API-Key": plain}).status_code == 200
    assert client.get("/api/users", headers={"Authorization": f"bearer {plain}"}).status_code == 200


def test_token_acts_with_its_owners_role(client, admin, viewer):
    plain = make_token(viewer)
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/cameras", headers=headers).status_code == 200
    assert client.get("/api/users", headers=headers).status_code == 403
    assert client.post("/api/cameras", json={"name": "x"}, headers=headers).status_code == 403


@pytest.mark.parametrize(
    "header",
    [
        {"Authorization": "Bearer vnvr_not-a-real-token"},
        {"X-API-Key": "vnvr_not-a-real-token"},
        {"Authorization": "Bearer " + "x" * 5000},
        {"Authorization": "Basic YWRtaW46cGFzcw=="},
    ],
)
def test_unknown_tokens_get_401_json(client, admin, header):
    response = client.get("/api/cameras", headers=header)
    assert response.status_code == 401
    assert "error" in response.get_json()


def test_token_expires(app, client, admin, clock):
    with app.app_context():
        plain = make_token(admin, expires_days=1)
    headers = {"X-API-Key": plain}
    assert client.get("/api/cameras", headers=headers).status_code == 200
    clock.advance(hours=23, minutes=59)
    assert client.get("/api/cameras", headers=headers).status_code == 200
    clock.advance(minutes=1)
    assert client.get("/api/cameras", headers=headers).status_code == 401


def test_revoked_token_gets_401(client, admin):
    plain = make_token(admin)
    ApiToken.update(is_active=False).execute()
    assert client.get("/api/cameras", headers={"X-API-Key": plain}).status_code == 401


def test_token_of_a_disabled_user_gets_401(client, admin):
    user = make_user("robot", role="viewer")
    plain = make_token(user)
    User.update(is_active_user=False).where(User.id == user.id).execute()
    assert client.get("/api/cameras", headers={"X-API-Key": plain}).status_code == 401


def test_last_used_is_stamped(client, admin, clock):
    plain = make_token(admin)
    client.get("/api/cameras", headers={"X-API-Key": plain})
    assert ApiToken.get().last_used_at == clock()


def test_token_is_stored_as_sha256_hex_only(admin):
    plain = make_token(admin)
    stored = ApiToken.get()
    assert stored.token_hash == sha256_hex(plain) and plain not in str(stored.__data__)


def test_imported_token_hash_keeps_working(client, admin):
    ApiToken.create(name="legacy", user=admin, token_hash=sha256_hex("an-old-vibenvr-token"))
    assert client.get("/api/cameras", headers={"Authorization": "Bearer an-old-vibenvr-token"}).status_code == 200


def test_recovery_code_hashed_elsewhere_verifies(app, admin):
    foreign = PasswordHasher(time_cost=2, memory_cost=4096, parallelism=2).hash("abcde12345")
    RecoveryCode.create(user=admin, code_hash=foreign)
    with app.app_context():
        assert twofactor.use_recovery_code(admin, "abcde-12345")
        assert not twofactor.use_recovery_code(admin, "abcde-12345")


# --- /api/tokens ------------------------------------------------------------------------------


def test_api_creates_a_token_shown_once(api, admin):
    response = api.post("/api/tokens", json={"name": "home-assistant", "expires_in_days": 30})
    assert response.status_code == 201
    body = response.get_json()
    assert body["token"].startswith("vnvr_") and body["username"] == "admin" and body["is_active"] is True
    assert set(body) == {"id", "name", "username", "created_at", "last_used_at", "expires_at", "is_active", "token"}
    listed = api.get("/api/tokens").get_json()["tokens"]
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert api.client.get("/api/users", headers={"X-API-Key": body["token"]}).status_code == 200


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({}, "name is required"),
        ({"name": ""}, "name must not be empty"),
        ({"name": "x" * 101}, "at most 100"),
        ({"name": "x", "expires_in_days": 0}, "expires_in_days must be between 1 and 3650"),
        ({"name": "x", "expires_in_days": "7"}, "expires_in_days must be a whole number"),
        ({"name": "x", "expires_at": "yesterday"}, "expires_at has 'yesterday'"),
        ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at must be in the future"),
        ({"name": "x", "username": "nobody"}, "username refers to 'nobody'"),
        ({"name": "x", "token_hash": "abc"}, "token_hash is not a known field"),
    ],
)
def test_api_token_creation_is_validated(api, body, fragment):
    response = api.post("/api/tokens", json=body)
    assert response.status_code == 422
    assert fragment in str(response.get_json())
    assert ApiToken.select().count() == 1  # the fixture's own token only


def test_viewer_manages_only_their_own_tokens(api, viewer_api, admin, viewer):
    mine = viewer_api.post("/api/tokens", json={"name": "viewer script"}).get_json()
    assert mine["username"] == "viewer"
    listed = viewer_api.get("/api/tokens").get_json()["tokens"]
    assert {t["username"] for t in listed} == {"viewer"}
    admins = api.post("/api/tokens", json={"name": "admin script"}).get_json()
    assert viewer_api.get(f"/api/tokens/{admins['id']}").status_code == 404
    assert viewer_api.delete(f"/api/tokens/{admins['id']}").status_code == 404
    refused = viewer_api.post("/api/tokens", json={"name": "sneaky", "username": "admin"})
    assert refused.status_code == 403
    assert {t["username"] for t in api.get("/api/tokens").get_json()["tokens"]} == {"admin", "viewer"}


def test_admin_creates_a_token_for_another_user(api, viewer):
    body = api.post("/api/tokens", json={"name": "for viewer", "username": "viewer"}).get_json()
    assert body["username"] == "viewer"
    assert api.client.get("/api/users", headers={"X-API-Key": body["token"]}).status_code == 403


def test_api_revokes_and_deletes_tokens(api):
    body = api.post("/api/tokens", json={"name": "temp"}).get_json()
    headers = {"X-API-Key": body["token"]}
    assert api.patch(f"/api/tokens/{body['id']}", json={"is_active": False}).get_json()["is_active"] is False
    assert api.client.get("/api/cameras", headers=headers).status_code == 401
    assert api.patch(f"/api/tokens/{body['id']}", json={"is_active": True}).status_code == 422
    assert api.delete(f"/api/tokens/{body['id']}").status_code == 204
    assert api.get(f"/api/tokens/{body['id']}").status_code == 404


# --- the Security page ------------------------------------------------------------------------


def test_security_page_creates_lists_and_revokes_tokens(admin_client, admin, clock):
    response = admin_client.post(
        "/security/tokens", data={"name": "nas script", "expires_in_days": "90", "password": PASSWORD}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "shown only this once" in html
    token = ApiToken.get(ApiToken.name == "nas script")
    assert token.expires_at == clock() + dt.timedelta(days=90)
    plain = html.split('id="new-token" class="secret">')[1].split("<")[0]
    assert sha256_hex(plain) == token.token_hash
    page = admin_client.get("/security").get_data(as_text=True)
    assert "nas script" in page and plain not in page
    response = admin_client.post(f"/security/tokens/{token.id}/revoke", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Revoked" in response.get_data(as_text=True)
    assert not ApiToken.get_by_id(token.id).is_active
    assert admin_client.post(f"/security/tokens/{token.id}/delete").status_code == 200
    assert ApiToken.get_or_none(ApiToken.id == token.id) is None


def test_security_page_refuses_a_nameless_token(admin_client):
    response = admin_client.post(
        "/security/tokens", data={"name": " ", "expires_in_days": "never", "password": PASSWORD}
    )
    assert response.status_code == 422 and "name must not be empty" in response.get_data(as_text=True)
    assert ApiToken.select().count() == 0


def test_security_page_cannot_touch_another_users_token(admin, viewer_client):
    plain = make_token(admin)
    token = ApiToken.get(ApiToken.token_hash == sha256_hex(plain))
    assert viewer_client.post(f"/security/tokens/{token.id}/revoke").status_code == 404
    assert viewer_client.post(f"/security/tokens/{token.id}/delete").status_code == 404
    assert ApiToken.get_by_id(token.id).is_active


def test_viewer_token_sees_only_allowed_cameras(client, admin):
    allowed, hidden = make_camera(), make_camera()
    viewer = make_user("restricted", role="viewer", restrict_camera_access=True, allowed_camera_ids=[allowed.id])
    headers = {"X-API-Key": make_token(viewer)}
    names = [c["name"] for c in client.get("/api/cameras", headers=headers).get_json()["cameras"]]
    assert names == [allowed.name]
    assert client.get(f"/api/cameras/{hidden.id}", headers=headers).status_code == 404


def test_token_calls_need_no_csrf_but_session_calls_do(app, admin, admin_client):
    plain = make_token(admin)
    assert (
        app.test_client().post("/api/groups", json={"name": "Outside"}, headers={"X-API-Key": plain}).status_code == 201
    )
    bare = app.test_client()
    with admin_client.session_transaction() as source:
        user_id = source["_user_id"]
    with bare.session_transaction() as session:
        session["_user_id"] = user_id
    response = bare.post("/api/groups", json={"name": "Inside"})
    assert response.status_code == 400 and "CSRF" in response.get_json()["error"]
    assert admin_client.post("/api/groups", json={"name": "Inside"}).status_code == 201


def test_a_null_expiry_means_the_token_never_expires(api):
    response = api.post("/api/tokens", json={"name": "no expiry", "expires_in_days": None})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["expires_at"] is None

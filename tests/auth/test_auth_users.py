"""Users: /api/users, the Users pages, camera restrictions and the last-admin rule."""

import pytest

from vibenvr.auth import twofactor
from vibenvr.models import ApiToken, RecoveryCode, User

from builders import PASSWORD, make_camera, make_group, make_token, make_user

pytestmark = pytest.mark.postgres  # the last-admin rule locks rows differently on PostgreSQL


def test_api_creates_and_lists_users_without_secrets(api):
    response = api.post(
        "/api/users", json={"username": "alice", "password": "a long passphrase", "email": "a@example.org"}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["role"] == "viewer" and body["is_2fa_enabled"] is False and body["is_active"] is True
    assert set(body) == {
        "id",
        "username",
        "email",
        "role",
        "language",
        "is_active",
        "is_2fa_enabled",
        "restrict_camera_access",
        "allowed_camera_ids",
        "allowed_group_ids",
        "created_at",
    }
    text = str(api.get("/api/users").get_json())
    assert "argon2" not in text and "password" not in text and "totp" not in text


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ({"username": "bob"}, 422, "password is required"),
        ({"username": "bob", "password": "short"}, 422, "password must be at least 10 characters"),
        ({"username": "bob", "password": 1234567890}, 422, "password must be text"),
        ({"username": "", "password": "a long passphrase"}, 422, "username must not be empty"),
        ({"username": "bad name", "password": "a long passphrase"}, 422, "username may hold letters"),
        ({"username": "x" * 65, "password": "a long passphrase"}, 422, "at most 64"),
        (
            {"username": "bob", "password": "a long passphrase", "role": "root"},
            422,
            "role must be one of admin, viewer",
        ),
        ({"username": "bob", "password": "a long passphrase", "email": "not-mail"}, 422, "not an e-mail address"),
        (
            {"username": "bob", "password": "a long passphrase", "allowed_camera_ids": [999]},
            422,
            "cameras that do not exist: [999]",
        ),
        ({"username": "bob", "password": "a long passphrase", "allowed_group_ids": "1"}, 422, "must be a list of ids"),
        (
            {"username": "bob", "password": "a long passphrase", "hashed_password": "$argon2id$x"},
            422,
            "hashed_password is not a known field",
        ),
        ({"username": "ADMIN", "password": "a long passphrase"}, 409, 'a user named "ADMIN" already exists'),
    ],
)
def test_api_user_validation(api, body, status, fragment):
    response = api.post("/api/users", json=body)
    assert response.status_code == status
    assert fragment in str(response.get_json())
    assert User.select().count() == 1


def test_api_updates_role_restrictions_and_password(api, client):
    camera, group = make_camera(), make_group()
    user = api.post("/api/users", json={"username": "carol", "password": "a long passphrase"}).get_json()
    response = api.patch(
        f"/api/users/{user['id']}",
        json={"restrict_camera_access": True, "allowed_camera_ids": [camera.id], "allowed_group_ids": [group.id]},
    )
    assert response.status_code == 200
    assert response.get_json()["allowed_camera_ids"] == [camera.id]
    before = User.get_by_id(user["id"]).hashed_password
    assert api.patch(f"/api/users/{user['id']}", json={"password": "another passphrase"}).status_code == 200
    assert User.get_by_id(user["id"]).hashed_password != before


def test_api_turns_2fa_off_but_never_on(api):
    user = make_user("dave", role="viewer")
    User.update(totp_secret=twofactor.new_secret(), is_2fa_enabled=True).where(User.id == user.id).execute()
    assert api.patch(f"/api/users/{user.id}", json={"is_2fa_enabled": True}).status_code == 422
    assert api.patch(f"/api/users/{user.id}", json={"is_2fa_enabled": False}).get_json()["is_2fa_enabled"] is False
    assert User.get_by_id(user.id).totp_secret is None


@pytest.mark.parametrize("change", [{"role": "viewer"}, {"is_active": False}])
def test_last_active_admin_cannot_be_demoted_or_disabled(api, admin, change):
    response = api.patch(f"/api/users/{admin.id}", json=change)
    assert response.status_code == 409
    assert "last active admin" in response.get_json()["error"]
    assert User.get_by_id(admin.id).role == "admin" and User.get_by_id(admin.id).is_active_user


def test_last_active_admin_cannot_be_deleted(app, admin):
    other = make_user("second", role="admin")
    from conftest import Api

    second_api = Api(app.test_client(), make_token(other))
    assert second_api.delete(f"/api/users/{admin.id}").status_code == 204
    # ``second`` is now the last admin; a disabled admin does not count.
    make_user("sleeping", role="admin", is_active_user=False)
    viewer = make_user("helper", role="viewer")
    assert second_api.patch(f"/api/users/{viewer.id}", json={"role": "admin"}).status_code == 200
    assert second_api.patch(f"/api/users/{viewer.id}", json={"role": "viewer"}).status_code == 200
    assert second_api.patch(f"/api/users/{other.id}", json={"role": "viewer"}).status_code == 409


def test_an_admin_cannot_delete_themselves(api, admin):
    make_user("second", role="admin")
    response = api.delete(f"/api/users/{admin.id}")
    assert response.status_code == 409 and "your own account" in response.get_json()["error"]


def test_deleting_a_user_removes_their_tokens_and_codes(api):
    user = make_user("erin", role="viewer")
    make_token(user)
    twofactor_codes = RecoveryCode.create(user=user, code_hash="$argon2id$v=19$m=8,t=1,p=1$x$y")
    assert api.delete(f"/api/users/{user.id}").status_code == 204
    assert ApiToken.select().where(ApiToken.user == user.id).count() == 0
    assert RecoveryCode.get_or_none(RecoveryCode.id == twofactor_codes.id) is None


def test_viewer_api_cannot_reach_users(viewer_api, admin):
    assert viewer_api.get("/api/users").status_code == 403
    assert viewer_api.post("/api/users", json={"username": "x", "password": "a long passphrase"}).status_code == 403
    assert viewer_api.delete(f"/api/users/{admin.id}").status_code == 403
    assert User.select().count() == 2


# --- pages --------------------------------------------------------------------------------------


def test_users_page_lists_and_creates(admin_client):
    assert "Add a user" in admin_client.get("/users").get_data(as_text=True)
    response = admin_client.post(
        "/users",
        data={
            "username": "frank",
            "email": "",
            "role": "viewer",
            "password": "a long passphrase",
            "confirm": "a long passphrase",
        },
    )
    assert response.status_code == 302
    frank = User.get(User.username == "frank")
    assert response.headers["Location"] == f"/users/{frank.id}"
    assert "frank" in admin_client.get("/users").get_data(as_text=True)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"username": "gina", "password": "short", "confirm": "short"}, "at least 10 characters"),
        ({"username": "gina", "password": "a long passphrase", "confirm": "different one"}, "the passwords differ"),
        ({"username": "admin", "password": "a long passphrase", "confirm": "a long passphrase"}, "already exists"),
    ],
)
def test_users_page_shows_errors_and_creates_nothing(admin_client, data, message):
    response = admin_client.post("/users", data={"role": "viewer", **data})
    assert response.status_code in (409, 422)
    assert message in response.get_data(as_text=True)
    assert User.select().count() == 1


def test_edit_page_changes_role_access_and_password(admin_client, admin):
    camera, group = make_camera(), make_group()
    user = make_user("hank", role="viewer")
    page = admin_client.get(f"/users/{user.id}").get_data(as_text=True)
    assert camera.name in page and group.name in page and "Delete hank?" in page
    admin_client.post(
        f"/users/{user.id}",
        data={"email": "h@example.org", "role": "admin", "language": "de", "is_active": ["off", "on"]},
    )
    user = User.get_by_id(user.id)
    assert (user.role, user.email, user.language, user.is_active_user) == ("admin", "h@example.org", "de", True)
    admin_client.post(
        f"/users/{user.id}/access",
        data={
            "restrict_camera_access": ["off", "on"],
            "allowed_camera_ids": [str(camera.id)],
            "allowed_group_ids": [str(group.id)],
        },
    )
    user = User.get_by_id(user.id)
    assert (
        user.restrict_camera_access and user.allowed_camera_ids == [camera.id] and user.allowed_group_ids == [group.id]
    )
    before = user.hashed_password
    response = admin_client.post(
        f"/users/{user.id}/password", data={"password": "fresh passphrase", "confirm": "fresh passphrase"}
    )
    assert response.status_code == 302 and User.get_by_id(user.id).hashed_password != before


def test_edit_page_refuses_to_demote_the_last_admin(admin_client, admin):
    response = admin_client.post(
        f"/users/{admin.id}", data={"email": "", "role": "viewer", "language": "en", "is_active": ["off", "on"]}
    )
    assert response.status_code == 409 and "last active admin" in response.get_data(as_text=True)
    assert User.get_by_id(admin.id).role == "admin"


def test_resetting_your_own_password_keeps_your_session(admin_client, admin):
    response = admin_client.post(
        f"/users/{admin.id}/password", data={"password": "fresh passphrase", "confirm": "fresh passphrase"}
    )
    assert response.status_code == 302
    assert admin_client.get("/users").status_code == 200


def test_delete_page_action(admin_client):
    user = make_user("ivan", role="viewer")
    response = admin_client.post(f"/users/{user.id}/delete")
    assert response.status_code == 302 and User.get_or_none(User.id == user.id) is None


def test_own_account_cannot_be_deleted_from_the_page(admin_client, admin):
    make_user("second", role="admin")
    assert admin_client.post(f"/users/{admin.id}/delete").status_code == 409
    assert User.get_or_none(User.id == admin.id) is not None


def test_viewer_gets_403_on_users_pages_and_fragments(viewer_client, admin):
    assert viewer_client.get("/users").status_code == 403
    response = viewer_client.get("/users", headers={"HX-Request": "true"})
    assert response.status_code == 403 and response.headers["HX-Retarget"] == "#messages"
    assert viewer_client.post(f"/users/{admin.id}/delete").status_code == 403
    assert User.get_or_none(User.id == admin.id) is not None


def test_viewer_has_a_security_page(viewer_client):
    html = viewer_client.get("/security").get_data(as_text=True)
    assert "Two-factor authentication" in html and "API tokens" in html


def test_restricted_viewer_sees_allowed_cameras_through_groups(client, admin):
    inside, outside = make_camera(), make_camera()
    group = make_group()
    from vibenvr.cameras.service import set_camera_groups

    set_camera_groups(inside.id, [group.id])
    viewer = make_user("grouped", role="viewer", restrict_camera_access=True, allowed_group_ids=[group.id])
    headers = {"X-API-Key": make_token(viewer)}
    names = [c["name"] for c in client.get("/api/cameras", headers=headers).get_json()["cameras"]]
    assert names == [inside.name]
    assert client.get(f"/api/cameras/{outside.id}", headers=headers).status_code == 404
    assert [g["id"] for g in client.get("/api/groups", headers=headers).get_json()["groups"]] == [group.id]


def test_password_is_never_in_pages(admin_client):
    make_user("judy", role="viewer", password=PASSWORD)
    assert "argon2" not in admin_client.get("/users").get_data(as_text=True)


def test_restricted_viewer_pages_show_only_allowed_cameras(app, admin):
    from conftest import sign_in

    allowed, hidden = make_camera(name="Front door"), make_camera(name="Back office")
    viewer = make_user("pages-viewer", role="viewer", restrict_camera_access=True, allowed_camera_ids=[allowed.id])
    client = sign_in(app.test_client(), viewer)
    html = client.get("/cameras").get_data(as_text=True)
    assert "Front door" in html and "Back office" not in html
    assert client.get(f"/cameras/{hidden.id}/edit").status_code == 403

"""Secrets are write-only (SPEC §12, issue 11 finding 1): no API answer and no page carries a stored
credential, for viewers and admins, with and without htmx; admins ask with ``include_secrets=true``; only
backups and the export carry them; a masked value written back keeps the stored one."""

import json
import re
from html.parser import HTMLParser

import pytest

from vibenvr.backups.service import create_backup
from vibenvr.cameras.service import create_camera
from vibenvr.masking import MASK, mask_url, unmask_url
from vibenvr.models import ApiToken, Camera
from vibenvr.settings.service import clear_cache, get_settings, update_settings
from vibenvr.validation import FieldError

from builders import make_group, make_location, make_profile, make_recipient, make_token, make_user
from conftest import Api, sign_in

# Distinctive markers: none may appear in an answer or a page (the user names only to viewers).
MAIN_URL = "rtsp://camuser7:SECRETPW1@192.168.1.20:554/Streaming/101"
SUB_URL = "rtsp://camuser7:SECRETPW5@192.168.1.20:554/Streaming/102"
WEBHOOK = "https://hookuser:SECRETPW6@hooks.example.com/nvr"
PASSWORDS = ["SECRETPW1", "SECRETPW2", "SECRETPW3", "SECRETPW4", "SECRETPW5", "SECRETPW6", "SECRETPW7", "SECRETPW8"]
VIEWER_ALSO_HIDDEN = ["camuser7", "onvifuser8"]


@pytest.fixture
def seeded(app, admin, viewer):
    """A camera, settings and a backup holding every kind of secret, and each way of asking for them."""
    profile = make_profile()
    group = make_group()
    camera = create_camera(
        {
            "name": "Front door",
            "rtsp_url": MAIN_URL,
            "sub_rtsp_url": SUB_URL,
            "onvif_host": "192.168.1.20",
            "onvif_username": "onvifuser8",
            "onvif_password": "SECRETPW2",
            "storage_profile_id": profile.id,
            "group_ids": [group.id],
            "extra": {"legacy_password": "SECRETPW7", "ai_threshold": 40},
        }
    )
    make_location(
        name="Bucket", kind="s3", bucket="nvr-backups", access_key_id="AK", secret_access_key="SECRETPW8", enabled=False
    )
    update_settings({"smtp_password": "SECRETPW3", "telegram_bot_token": "SECRETPW4", "webhook_url": WEBHOOK})
    with app.app_context():
        backup = create_backup("manual").name
    admin_token, viewer_token = make_token(admin), make_token(viewer)
    ids = {
        "item_id": None,
        "camera_id": camera.id,
        "group_id": group.id,
        "profile_id": profile.id,
        "user_id": viewer.id,
        "token_id": ApiToken.get(ApiToken.user == admin).id,
        "recipient_id": make_recipient().id,
        "location_id": make_location().id,
        "name": backup,
    }
    return {
        "camera": camera,
        "group": group,
        "profile": profile,
        "backup": backup,
        "ids": ids,
        "admin_api": Api(app.test_client(), admin_token),
        "viewer_api": Api(app.test_client(), viewer_token),
        "admin_page": sign_in(app.test_client(), admin),
        "viewer_page": sign_in(app.test_client(), viewer),
    }


CARRY_SECRETS = {"backups_api.download", "backups.download", "backups_api.export_config"}
ITEM_IDS = {
    "cameras_api": "camera_id",
    "groups_api": "group_id",
    "storage_profiles_api": "profile_id",
    "users_api": "user_id",
    "backup_recipients_api": "recipient_id",
    "backup_locations_api": "location_id",
}


def get_routes(app, ids):
    """Every GET route of the app but static files, with its ids filled in: (endpoint, path)."""
    routes = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint in CARRY_SECRETS:
            continue
        values = {}
        for argument in rule.arguments:
            key = ITEM_IDS.get(rule.endpoint.split(".")[0]) if argument == "item_id" else argument
            assert key in ids and ids[key] is not None, f"no id to fill {argument} of {rule.rule}"
            values[argument] = ids[key]
        with app.test_request_context():
            from flask import url_for

            routes.append((rule.endpoint, url_for(rule.endpoint, **values)))
    return sorted(routes)


def test_the_enumeration_covers_every_api_get_route_and_every_page(app, seeded):
    paths = dict(get_routes(app, seeded["ids"]))
    for endpoint in (
        "cameras_api.list_view",
        "cameras_api.read_view",
        "settings_api.read_settings",
        "users_api.read_view",
        "tokens_api.read_token",
        "backups_api.status",
        "cameras.edit",
        "cameras.list_page",
        "settings.global_page",
        "backups.page",
        "backups.restore",
        "security.page",
        "users.edit_page",
        "groups.edit",
    ):
        assert endpoint in paths
    assert len(paths) >= 30


@pytest.mark.parametrize("who", ["admin_api", "viewer_api", "admin_page", "viewer_page"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_no_get_route_answers_a_stored_secret(app, seeded, who, htmx):
    caller = seeded[who]
    hidden = PASSWORDS + (VIEWER_ALSO_HIDDEN if who.startswith("viewer") else [])
    headers = {"HX-Request": "true"} if htmx else {}
    answered = 0
    for endpoint, path in get_routes(app, seeded["ids"]):
        response = caller.get(path, headers=headers, follow_redirects=True)
        body = response.get_data(as_text=True)
        leaked = [marker for marker in hidden if marker in body]
        assert not leaked, f"{who} GET {path} ({endpoint}, {response.status_code}) shows {leaked}"
        answered += response.status_code == 200
    assert answered >= (25 if who.startswith("admin") else 5)  # the routes were really read, not refused


def test_an_admin_sees_the_masked_shape_and_that_each_secret_is_set(seeded):
    api = seeded["admin_api"]
    camera = api.get(f"/api/cameras/{seeded['camera'].id}").get_json()
    assert camera["rtsp_url"] == "rtsp://camuser7:***@192.168.1.20:554/Streaming/101"
    assert camera["sub_rtsp_url"] == "rtsp://camuser7:***@192.168.1.20:554/Streaming/102"
    assert camera["onvif_password"] is None and camera["onvif_password_set"] is True
    assert camera["onvif_username"] == "onvifuser8"
    assert camera["extra"] == {"legacy_password": None, "ai_threshold": 40}
    assert api.get("/api/cameras").get_json()["cameras"] == [camera]
    settings = api.get("/api/settings").get_json()
    assert settings["smtp_password"] is None and settings["smtp_password_set"] is True
    assert settings["telegram_bot_token"] is None and settings["telegram_bot_token_set"] is True
    assert settings["webhook_url"] == "https://hookuser:***@hooks.example.com/nvr"


def test_a_viewer_sees_no_credential_at_all(seeded):
    camera = seeded["viewer_api"].get(f"/api/cameras/{seeded['camera'].id}").get_json()
    assert camera["rtsp_url"] == "rtsp://***@192.168.1.20:554/Streaming/101"
    assert camera["onvif_username"] is None and camera["onvif_password"] is None


@pytest.mark.parametrize("path", ["/api/cameras", "/api/cameras/{id}", "/api/settings"])
def test_include_secrets_gives_an_admin_the_plain_values(seeded, path):
    body = seeded["admin_api"].get(path.format(id=seeded["camera"].id) + "?include_secrets=true").get_json()
    text = json.dumps(body)
    expected = (
        ["SECRETPW3", "SECRETPW4", "SECRETPW6"]
        if "settings" in path
        else ["SECRETPW1", "SECRETPW2", "SECRETPW5", "SECRETPW7"]
    )
    assert all(marker in text for marker in expected)


@pytest.mark.parametrize("who", ["viewer_api", "viewer_page"])
@pytest.mark.parametrize("path", ["/api/cameras", "/api/cameras/{id}"])
def test_include_secrets_is_refused_to_a_viewer(seeded, who, path):
    response = seeded[who].get(path.format(id=seeded["camera"].id) + "?include_secrets=true")
    assert response.status_code == 403
    assert not any(marker in response.get_data(as_text=True) for marker in PASSWORDS)


def test_include_secrets_with_another_word_is_a_400_that_writes_nothing(seeded):
    api = seeded["admin_api"]
    response = api.patch(f"/api/cameras/{seeded['camera'].id}?include_secrets=please", json={"location": "Hall"})
    assert response.status_code == 400 and "include_secrets" in response.get_json()["error"]
    assert Camera.get_by_id(seeded["camera"].id).location == ""
    assert api.get("/api/settings?include_secrets=false").get_json()["smtp_password"] is None


def test_the_export_and_backup_files_still_carry_every_secret(app, seeded):
    api = seeded["admin_api"]
    export = api.get("/api/config/export").get_data(as_text=True)
    downloaded = api.get(f"/api/backups/{seeded['backup']}").get_data(as_text=True)
    page_download = seeded["admin_page"].get(f"/settings/backups/{seeded['backup']}/download").get_data(as_text=True)
    on_disk = (app.config["BACKUP_DIR"] / seeded["backup"]).read_text()
    for text in (export, downloaded, page_download, on_disk):
        assert all(marker in text for marker in PASSWORDS + VIEWER_ALSO_HIDDEN)


# --- writing a masked value back ------------------------------------------------------------------


def stored_camera(seeded):
    return Camera.get_by_id(seeded["camera"].id)


def test_patching_the_answer_back_keeps_every_credential(seeded):
    api = seeded["admin_api"]
    path = f"/api/cameras/{seeded['camera'].id}"
    answer = api.get(path).get_json()
    body = {k: v for k, v in answer.items() if k not in ("id", "created_at")}
    assert api.patch(path, json=body).status_code == 200
    camera = stored_camera(seeded)
    assert (camera.rtsp_url, camera.sub_rtsp_url, camera.onvif_password) == (MAIN_URL, SUB_URL, "SECRETPW2")
    assert camera.extra == {"legacy_password": "SECRETPW7", "ai_threshold": 40}


def test_a_masked_password_is_kept_when_the_host_and_path_change(seeded):
    path = f"/api/cameras/{seeded['camera'].id}"
    response = seeded["admin_api"].patch(path, json={"rtsp_url": "rtsp://camuser7:***@10.0.0.9:8554/main"})
    assert response.status_code == 200
    assert response.get_json()["rtsp_url"] == "rtsp://camuser7:***@10.0.0.9:8554/main"
    assert stored_camera(seeded).rtsp_url == "rtsp://camuser7:SECRETPW1@10.0.0.9:8554/main"


def test_a_new_password_replaces_the_stored_one(seeded):
    path = f"/api/cameras/{seeded['camera'].id}"
    seeded["admin_api"].patch(
        path, json={"sub_rtsp_url": "rtsp://other:n%40w@192.168.1.20/s2", "onvif_password": "NEWPW"}
    )
    camera = stored_camera(seeded)
    assert camera.sub_rtsp_url == "rtsp://other:n%40w@192.168.1.20/s2" and camera.onvif_password == "NEWPW"


@pytest.mark.parametrize(("onvif_password", "stored"), [(None, "SECRETPW2"), ("", ""), ("x y", "x y")])
def test_onvif_password_null_keeps_empty_clears_text_replaces(seeded, onvif_password, stored):
    body = {"onvif_password": onvif_password, "onvif_password_set": False}  # the marker is read-only
    response = seeded["admin_api"].patch(f"/api/cameras/{seeded['camera'].id}", json=body)
    assert response.status_code == 200
    assert stored_camera(seeded).onvif_password == stored
    assert response.get_json()["onvif_password_set"] is bool(stored)


def test_the_viewers_mask_written_back_by_an_admin_keeps_user_and_password(seeded):
    path = f"/api/cameras/{seeded['camera'].id}"
    assert seeded["admin_api"].patch(path, json={"rtsp_url": "rtsp://***@192.168.1.20:554/x"}).status_code == 200
    assert stored_camera(seeded).rtsp_url == "rtsp://camuser7:SECRETPW1@192.168.1.20:554/x"


def test_a_mask_with_nothing_stored_to_keep_is_refused_naming_the_field(seeded):
    api = seeded["admin_api"]
    created = api.post("/api/cameras", json={"name": "New", "rtsp_url": "rtsp://u:***@192.168.1.9/s"})
    assert created.status_code == 422 and "rtsp_url" in created.get_json()["error"]
    assert "%2A%2A%2A" in created.get_json()["error"]
    plain = api.post("/api/cameras", json={"name": "Plain", "rtsp_url": "rtsp://192.168.1.9/s"}).get_json()
    response = api.patch(f"/api/cameras/{plain['id']}", json={"sub_rtsp_url": "rtsp://u:***@192.168.1.9/s"})
    assert response.status_code == 422 and "sub_rtsp_url" in response.get_json()["error"]
    assert Camera.get_by_id(plain["id"]).sub_rtsp_url == ""
    literal = api.patch(f"/api/cameras/{plain['id']}", json={"sub_rtsp_url": "rtsp://u:%2A%2A%2A@192.168.1.9/s"})
    assert literal.status_code == 200


def test_settings_answer_patched_back_keeps_every_secret(seeded):
    api = seeded["admin_api"]
    answer = api.get("/api/settings").get_json()
    assert api.patch("/api/settings", json=answer).status_code == 200
    clear_cache()
    stored = get_settings()
    assert (stored["smtp_password"], stored["telegram_bot_token"], stored["webhook_url"]) == (
        "SECRETPW3",
        "SECRETPW4",
        WEBHOOK,
    )


def test_a_new_secret_setting_replaces_and_empty_clears(seeded):
    api = seeded["admin_api"]
    answer = api.patch("/api/settings", json={"smtp_password": "NEWPW", "telegram_bot_token": ""}).get_json()
    assert answer["smtp_password"] is None and answer["smtp_password_set"] is True
    assert answer["telegram_bot_token_set"] is False
    clear_cache()
    assert (get_settings()["smtp_password"], get_settings()["telegram_bot_token"]) == ("NEWPW", "")


# --- the pages --------------------------------------------------------------------------------------


class FormReader(HTMLParser):
    """What a browser submits from the first form with a ``name`` input: inputs (checked boxes only),
    textareas and selected options, as a list of (name, value) pairs."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.fields, self.textarea, self.select = form_id, False, [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (self.form_id is None or a.get("id") == self.form_id):
            self.inside = True
        if not self.inside or "name" not in a and tag != "option":
            return
        if tag == "input":
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            if a.get("type") not in ("submit", "button", "file"):
                self.fields.append((a["name"], a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "textarea":
            self.textarea = [a["name"], ""]
        elif tag == "select":
            self.select = [a["name"], None]
        elif tag == "option" and self.select is not None and ("selected" in a or self.select[1] is None):
            self.select[1] = a.get("value", "")  # the first option, unless a later one is selected

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self.textarea is not None:
            self.fields.append(tuple(self.textarea))
            self.textarea = None
        elif tag == "select" and self.select is not None:
            self.fields.append((self.select[0], self.select[1] or ""))
            self.select = None
        elif tag == "form" and self.inside:
            self.inside = False


def submitted(html, form_id=None):
    reader = FormReader(form_id)
    reader.feed(html)
    data = {}
    for name, value in reader.fields:
        data.setdefault(name, []).append(value)
    return data


def test_the_camera_form_shows_the_masked_url_and_saving_it_untouched_keeps_the_credentials(seeded):
    client = seeded["admin_page"]
    path = f"/cameras/{seeded['camera'].id}/edit"
    html = client.get(path).get_data(as_text=True)
    assert 'value="rtsp://camuser7:***@192.168.1.20:554/Streaming/101"' in html
    assert re.search(r'name="onvif_password" type="password" value=""', html)
    assert "Leave blank to keep the stored value" in html
    form = submitted(html, "camera-form")
    assert form["rtsp_url"] == ["rtsp://camuser7:***@192.168.1.20:554/Streaming/101"]
    response = client.post(path, data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    camera = stored_camera(seeded)
    assert (camera.rtsp_url, camera.sub_rtsp_url, camera.onvif_password) == (MAIN_URL, SUB_URL, "SECRETPW2")
    assert camera.extra == {"legacy_password": "SECRETPW7", "ai_threshold": 40}


def test_the_camera_form_with_a_new_password_in_the_url_replaces_it(seeded):
    client = seeded["admin_page"]
    path = f"/cameras/{seeded['camera'].id}/edit"
    form = submitted(client.get(path).get_data(as_text=True), "camera-form")
    form["rtsp_url"] = ["rtsp://camuser7:FRESH@192.168.1.20:554/Streaming/101"]
    assert client.post(path, data=form).status_code == 303
    assert stored_camera(seeded).rtsp_url == "rtsp://camuser7:FRESH@192.168.1.20:554/Streaming/101"
    assert stored_camera(seeded).sub_rtsp_url == SUB_URL


def test_the_global_settings_form_saved_untouched_keeps_every_secret(seeded):
    client = seeded["admin_page"]
    html = client.get("/settings/global").get_data(as_text=True)
    assert 'value="https://hookuser:***@hooks.example.com/nvr"' in html
    form = submitted(html)
    assert form["smtp_password"] == [""] and form["telegram_bot_token"] == [""]
    assert client.post("/settings/global", data=form).status_code == 303
    clear_cache()
    stored = get_settings()
    assert (stored["smtp_password"], stored["telegram_bot_token"], stored["webhook_url"]) == (
        "SECRETPW3",
        "SECRETPW4",
        WEBHOOK,
    )


# --- the masking rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "admin", "viewer"),
    [
        (
            "rtsp://admin:p%40ss%3Aw0rd@192.168.1.20:554/s",
            "rtsp://admin:***@192.168.1.20:554/s",
            "rtsp://***@192.168.1.20:554/s",
        ),
        ("rtsp://user@cam.local/s", "rtsp://user@cam.local/s", "rtsp://***@cam.local/s"),
        ("rtsp://user:@cam.local/s", "rtsp://user:@cam.local/s", "rtsp://***@cam.local/s"),
        ("rtsp://cam.local:554/s", "rtsp://cam.local:554/s", "rtsp://cam.local:554/s"),
        ("rtsp://a%40b:p@ss@host/s", "rtsp://a%40b:***@host/s", "rtsp://***@host/s"),  # userinfo ends at the last @
        (
            "http://192.168.1.21/mjpeg?user=a&pwd=b#x",
            "http://192.168.1.21/mjpeg?user=a&pwd=***#x",
            "http://192.168.1.21/mjpeg?user=***&pwd=***#x",
        ),
        (
            "http://h/cgi?PassWord=s&res=1&flag",
            "http://h/cgi?PassWord=***&res=1&flag",
            "http://h/cgi?PassWord=***&res=1&flag",
        ),
        ("https://u:p@h?x=1", "https://u:***@h?x=1", "https://***@h?x=1"),
        ("", "", ""),
        ("not a url", "not a url", "not a url"),
    ],
)
def test_mask_url(url, admin, viewer):
    assert mask_url(url) == admin
    assert mask_url(url, viewer=True) == viewer
    assert unmask_url(admin, url, "rtsp_url") == url  # written back unchanged, the stored URL is kept
    assert unmask_url(viewer, url, "rtsp_url") == url


@pytest.mark.parametrize(
    ("written", "stored", "result"),
    [
        ("rtsp://u:***@new-host/p", "rtsp://u:old@h/s", "rtsp://u:old@new-host/p"),
        ("rtsp://other:***@h/s", "rtsp://u:old@h/s", "rtsp://other:old@h/s"),
        ("rtsp://***@h/s", "rtsp://u:old@h/s", "rtsp://u:old@h/s"),
        ("rtsp://***:new@h/s", "rtsp://u:old@h/s", "rtsp://u:new@h/s"),
        ("http://h/m?user=a&pwd=***", "http://h/m?pwd=old&user=b", "http://h/m?user=a&pwd=old"),
        ("rtsp://u:p@h/***", "rtsp://x@h/s", "rtsp://u:p@h/***"),  # *** outside the credentials is text
    ],
)
def test_unmask_url_takes_each_masked_part_from_the_stored_url(written, stored, result):
    assert unmask_url(written, stored, "rtsp_url") == result


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("rtsp://u:***@h/s", ""),
        ("rtsp://u:***@h/s", "rtsp://u@h/s"),
        ("rtsp://***@h/s", "rtsp://h/s"),
        ("http://h/m?pwd=***", "http://h/m?user=a"),
    ],
)
def test_unmask_url_refuses_a_mask_with_nothing_to_keep(written, stored):
    with pytest.raises(FieldError, match=re.escape(MASK)):
        unmask_url(written, stored, "rtsp_url")


def test_a_second_admin_reads_masked_values_too(app, seeded):
    other = Api(app.test_client(), make_token(make_user("second", role="admin")))
    assert other.get(f"/api/cameras/{seeded['camera'].id}").get_json()["onvif_password"] is None

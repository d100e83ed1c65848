"""The backup API (SPEC §9): admin only, exact status codes, JSON errors, files as attachments."""

import io
import json

import pytest

from vibenvr.backups.document.canonical import compute_checksum, encode
from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.models import User

from .helpers import backup_files, build_rich_config, sections, snapshot

NAME = "vibe_backup_manual_20261129_224000.json"

ROUTES = [
    ("GET", "/api/backups"),
    ("POST", "/api/backups"),
    ("GET", "/api/backups/status"),
    ("GET", f"/api/backups/{NAME}"),
    ("DELETE", f"/api/backups/{NAME}"),
    ("POST", f"/api/backups/{NAME}/restore"),
    ("POST", "/api/backups/import"),
    ("GET", "/api/config/export"),
    ("POST", "/api/config/restore"),
]


@pytest.fixture
def configured(api, clock):
    build_rich_config()  # no app context stays pushed: each request gets its own, as in production
    return api


def _upload(api, data, filename="backup.json"):
    return api.post(
        "/api/backups/import", data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )


@pytest.mark.parametrize("method, path", ROUTES)
def test_anonymous_callers_get_401_json(client, app, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 401 and "error" in response.get_json()


@pytest.mark.parametrize("method, path", ROUTES)
def test_viewers_get_403_and_nothing_happens(app, viewer_api, method, path):
    response = viewer_api.request(method, path)
    assert response.status_code == 403 and "error" in response.get_json()
    assert backup_files(app) == []


def test_create_list_download_delete(app, configured):
    api = configured
    created = api.post("/api/backups")
    assert created.status_code == 201
    entry = created.get_json()
    assert entry.pop("copies") == {"pending": 0, "message": "no location receives it"}
    assert entry == {
        "name": NAME,
        "kind": "manual",
        "created_at": "2026-11-29T22:40:00Z",
        "size_bytes": (app.config["BACKUP_DIR"] / NAME).stat().st_size,
    }
    assert api.get("/api/backups").get_json() == {"backups": [entry]}
    download = api.get(f"/api/backups/{NAME}")
    assert download.status_code == 200
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["Content-Disposition"] == f"attachment; filename={NAME}"
    assert download.mimetype == "application/json"
    assert download.data == (app.config["BACKUP_DIR"] / NAME).read_bytes()
    assert validate_document(download.data).kind == "manual"
    assert api.delete(f"/api/backups/{NAME}").status_code == 204
    assert api.get("/api/backups").get_json() == {"backups": []}


def test_list_is_newest_first(configured, clock):
    configured.post("/api/backups")
    clock.advance(hours=1)
    configured.post("/api/backups")
    names = [b["name"] for b in configured.get("/api/backups").get_json()["backups"]]
    assert names == ["vibe_backup_manual_20261129_234000.json", NAME]


@pytest.mark.parametrize("name", ["..%2Fsecret_key", "secret_key", ".hidden.json", "a%20b.json", "x.json.exe"])
def test_bad_names_are_400(configured, name):
    for method, path in (
        ("GET", f"/api/backups/{name}"),
        ("DELETE", f"/api/backups/{name}"),
        ("POST", f"/api/backups/{name}/restore"),
    ):
        response = configured.request(method, path)
        assert response.status_code in (400, 404), (method, path)
        if response.status_code == 404:  # the router itself refuses a slash inside a name
            assert "/" in name.replace("%2F", "/")
        else:
            assert "is not a backup name" in response.get_json()["error"]


def test_missing_backups_are_404(configured):
    assert configured.get("/api/backups/missing.json").status_code == 404
    assert configured.delete("/api/backups/missing.json").status_code == 404
    response = configured.post("/api/backups/missing.json/restore")
    assert response.status_code == 404 and "no backup named missing.json" in response.get_json()["error"]


def test_restore_by_name_returns_the_spec_s_answer(app, configured, clock):
    configured.post("/api/backups")
    before = snapshot()
    configured.patch("/api/settings", json={"system_name": "Changed"})
    clock.advance(seconds=5)
    response = configured.post(f"/api/backups/{NAME}/restore", json={"mode": "replace"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["restored"] is True and body["reload"] is True
    assert body["safety_backup"] == "vibe_backup_safety_20261129_224005.json"
    assert body["counts"]["cameras"] == 3
    assert snapshot() == before


def test_restore_options_are_checked(configured):
    configured.post("/api/backups")
    assert configured.post(f"/api/backups/{NAME}/restore", json={"mode": "sideways"}).status_code == 409
    assert configured.post(f"/api/backups/{NAME}/restore", json={"mode": 5}).status_code == 400
    assert configured.post(f"/api/backups/{NAME}/restore", json={"sections": "cameras"}).status_code == 400
    response = configured.post(f"/api/backups/{NAME}/restore", json={"sections": ["settings"]})
    assert response.status_code == 200 and response.get_json()["sections"] == ["settings"]


def test_export_builds_the_document_in_memory_and_writes_no_file(app, configured):
    response = configured.get("/api/config/export")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    doc = response.get_json()
    assert doc["kind"] == "manual" and doc["checksum"] == compute_checksum(doc)
    assert sections(doc)["cameras"] == export_document()["cameras"]
    assert backup_files(app) == []


def test_config_restore_takes_a_document_and_writes_a_safety_backup(app, configured):
    data = configured.get("/api/config/export").data
    configured.patch("/api/settings", json={"system_name": "Changed"})
    response = configured.post("/api/config/restore", data=data, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.get_json()["safety_backup"] in backup_files(app)
    assert snapshot()["settings"]["system_name"] == "Home NVR"


def test_config_restore_with_safety_false_leaves_no_trace(app, configured):
    data = configured.get("/api/config/export").data
    response = configured.post("/api/config/restore?safety=false", data=data)
    assert response.status_code == 200 and response.get_json()["safety_backup"] is None
    assert backup_files(app) == []
    assert configured.post("/api/config/restore?safety=maybe", data=data).status_code == 400


def test_config_restore_accepts_sections_in_the_query(configured):
    data = configured.get("/api/config/export").data
    response = configured.post("/api/config/restore?sections=settings,groups&safety=false", data=data)
    assert response.get_json()["sections"][:2] == ["settings", "groups"]


def test_import_stores_the_upload_unchanged_as_imported(app, configured, clock):
    data = encode(export_document("manual"))
    response = _upload(configured, data, "from-laptop.json")
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "vibe_backup_imported_20261129_224000.json" and body["kind"] == "imported"
    assert (app.config["BACKUP_DIR"] / body["name"]).read_bytes() == data


def test_import_without_a_file_is_400(configured):
    response = configured.post("/api/backups/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "field named 'file'" in response.get_json()["error"]


def test_uploads_over_the_limit_are_413(app, configured):
    app.config["MAX_UPLOAD_MB"] = 1
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024 + 64 * 1024
    just_over = _upload(configured, b" " * (1024 * 1024 + 10))
    assert just_over.status_code == 413 and "limit of 1 MB" in just_over.get_json()["error"]
    far_over = _upload(configured, b" " * (3 * 1024 * 1024))
    assert far_over.status_code == 413
    body = configured.post("/api/config/restore", data=b" " * (3 * 1024 * 1024))
    assert body.status_code == 413 and "VIBENVR_MAX_UPLOAD_MB" in body.get_json()["error"]
    assert backup_files(app) == []


def test_invalid_documents_list_every_error(configured):
    doc = export_document()
    doc.pop("checksum")
    doc["cameras"][0]["framerate"] = 0
    doc["groups"][0]["name"] = ""
    response = configured.post("/api/config/restore", data=encode(doc))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "The backup has 2 problems; nothing was changed."
    assert len(body["errors"]) == 2


def test_the_session_ends_when_the_signed_in_admin_is_gone_after_a_restore(app, admin_client):
    build_rich_config()
    doc = json.loads(admin_client.get("/api/config/export").data)
    doc["users"] = [u for u in doc["users"] if u["username"] != "admin"]
    for section in ("api_tokens", "recovery_codes", "trusted_devices"):
        doc[section] = [row for row in doc[section] if row["username"] != "admin"]
    doc["counts"] = {s: len(doc[s]) for s in doc["counts"]}
    response = admin_client.post("/api/config/restore", data=encode(doc), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.get_json()["signed_out"] is True and response.headers["HX-Refresh"] == "true"
    assert admin_client.get("/api/backups").status_code == 401


def test_the_session_ends_when_the_signed_in_admin_is_demoted(app, admin_client):
    build_rich_config()
    doc = json.loads(admin_client.get("/api/config/export").data)
    next(u for u in doc["users"] if u["username"] == "admin")["role"] = "viewer"
    response = admin_client.post("/api/config/restore", data=encode(doc))
    assert response.get_json()["signed_out"] is True
    assert admin_client.get("/api/backups").status_code == 401


def test_an_admin_who_stays_admin_stays_signed_in(app, admin_client):
    data = admin_client.get("/api/config/export").data
    response = admin_client.post("/api/config/restore", data=data)
    assert response.status_code == 200 and "signed_out" not in response.get_json()
    assert admin_client.get("/api/backups").status_code == 200


def test_session_writes_need_the_csrf_token(app, admin):
    from conftest import sign_in

    client = sign_in(app.test_client(), admin)
    client.environ_base.pop("HTTP_X_CSRFTOKEN")
    assert client.post("/api/backups").status_code == 400
    assert backup_files(app) == []


def test_no_admin_in_the_document_is_409_and_names_the_way_out(configured):
    doc = export_document()
    doc.pop("checksum")
    for user in doc["users"]:
        user["role"] = "viewer"
    response = configured.post("/api/config/restore", data=encode(doc))
    assert response.status_code == 409 and "--force" in response.get_json()["error"]
    assert User.select().where(User.role == "admin").count() == 2

"""Import from the System Backups page: validated before saving, every problem listed, size limit, plain form."""

import html as html_lib

import pytest

from vibenvr.backups.document.canonical import SCHEMA_VERSION
from vibenvr.backups.document.validate import validate_document

from .helpers import HTMX, document_bytes, files, is_full_page, listed, upload
from builders import make_camera, make_user
from conftest import make_app, sign_in

IMPORTED = "vibe_backup_imported_20261129_224000.json"


def broken(app):
    """A signed file with several problems in its sections."""
    make_camera(name="Garage")
    good = validate_document(document_bytes(app)).doc
    camera = {**good["cameras"][0], "rtsp_url": "ftp://nope", "privacy_masks": [[[0.1, 0.1], [0.2, 0.2]]]}
    return document_bytes(app, cameras=[camera], associations=[{"camera_id": 999, "group_id": 998}])


def test_a_good_file_becomes_an_imported_backup_on_top(admin_client, app, clock):
    data = document_bytes(app)
    response = upload(admin_client, data, "laptop.json")
    html = response.text
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert response.headers["HX-Retarget"] == "#backup-list" and response.headers["HX-Reswap"] == "outerHTML"
    assert listed(html) == [IMPORTED] and f'<tr class="row-new" data-backup="{IMPORTED}">' in html
    assert f"Imported “laptop.json” as {IMPORTED}" in html and "Nothing was restored" in html
    assert (
        '<section id="import-panel" class="card import-card" aria-labelledby="import-title" hx-swap-oob="outerHTML">'
        in html
    )
    assert (app.config["BACKUP_DIR"] / IMPORTED).read_bytes() == data  # stored unchanged


def test_import_without_javascript_redirects_with_a_message(admin_client, app, clock):
    response = upload(admin_client, document_bytes(app), "laptop.json", htmx=False)
    assert response.status_code == 303 and response.headers["Location"] == "/settings/backups"
    page = admin_client.get("/settings/backups").text
    assert f"Imported “laptop.json” as {IMPORTED}" in page and listed(page) == [IMPORTED]


@pytest.mark.parametrize("htmx", [True, False])
def test_a_file_with_problems_lists_every_one_and_saves_nothing(admin_client, app, clock, htmx):
    response = upload(admin_client, broken(app), "broken.json", htmx=htmx)
    html = html_lib.unescape(response.text)
    assert response.status_code == 422 and is_full_page(html) is not htmx
    assert "“broken.json” was not imported: 5 problems. Nothing was saved." in html
    for problem in (
        'cameras[0] "Garage": rtsp_url must start with rtsp://',
        'cameras[0] "Garage": privacy_masks[0] has 2 points, a polygon needs at least 3',
        "associations[0]: camera_id 999 refers to a camera that is not in the backup",
        "associations[0]: group_id 998 refers to a group that is not in the backup",
    ):
        assert problem in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="h-file e-file"' in html
    assert files(app) == []


@pytest.mark.parametrize(
    "data, message, status",
    [
        (b"hello", "broken.json is not valid JSON", 400),
        (b"", "broken.json is empty", 400),
        (b"[1, 2]", "broken.json holds an array; a backup is a JSON object", 400),
        (
            b'{"format": "vibenvr-backup", "schema_version": %d}' % (SCHEMA_VERSION + 1),
            f"schema_version is {SCHEMA_VERSION + 1}, newer than the {SCHEMA_VERSION}",
            422,
        ),
    ],
)
def test_files_that_are_not_backups_are_refused_with_the_reason(admin_client, app, clock, data, message, status):
    response = upload(admin_client, data, "broken.json")
    assert response.status_code == status and message in html_lib.unescape(response.text)
    assert files(app) == []


def test_no_file_chosen(admin_client, app):
    response = admin_client.post("/settings/backups/import", data={}, headers=HTMX)
    assert response.status_code == 400 and "Choose a backup file (.json) from your computer first." in response.text


def test_only_the_name_of_the_uploaded_file_is_shown(admin_client, app, clock):
    response = upload(admin_client, b"nope", "/home/me/<i>evil.json")
    assert "“&lt;i&gt;evil.json” was not imported" in response.text and "/home/me" not in response.text


@pytest.fixture
def small_limit(tmp_path):
    """An app whose upload limit is 1 MB, with a signed-in admin."""
    app = make_app(tmp_path / "small", MAX_UPLOAD_MB=1)
    from vibenvr.db import db

    db.connect(reuse_if_open=True)
    client = sign_in(app.test_client(), make_user("admin", role="admin"))
    yield app, client
    db.close()


@pytest.mark.parametrize("size", [1024 * 1024 + 10, 3 * 1024 * 1024])  # caught by the view; by the request limit
@pytest.mark.parametrize("htmx", [True, False])
def test_files_over_the_limit_get_a_clear_message(small_limit, size, htmx):
    app, client = small_limit
    response = upload(client, b" " * size, "huge.json", htmx=htmx)
    assert response.status_code == 413
    assert "The file is larger than the upload limit of 1 MB. Nothing was saved." in response.text
    assert 'id="import-panel"' in response.text and is_full_page(response.text) is not htmx
    assert files(app) == []

"""Every System Backups route is for admins: viewers get a 403 page or fragment, strangers the sign-in page, CSRF."""

import io

import pytest

from .helpers import HTMX, document_bytes, files, is_full_page

NAME = "vibe_backup_manual_20261129_224000.json"
ROUTES = [
    ("GET", "/settings/backups"),
    ("GET", "/settings/backups/status"),
    ("POST", "/settings/backups/create"),
    ("POST", "/settings/backups/import"),
    ("GET", f"/settings/backups/{NAME}/download"),
    ("GET", f"/settings/backups/{NAME}/restore"),
    ("POST", f"/settings/backups/{NAME}/restore"),
    ("GET", f"/settings/backups/{NAME}/delete"),
    ("POST", f"/settings/backups/{NAME}/delete"),
]
POSTS = [(m, p) for m, p in ROUTES if m == "POST"]


def body(app, method, path):
    if method != "POST":
        return {}
    if path.endswith("/import"):
        return {"data": {"file": (io.BytesIO(document_bytes(app)), "x.json")}, "content_type": "multipart/form-data"}
    return {"data": {}}


@pytest.mark.parametrize("method, path", ROUTES)
def test_viewers_get_a_403_page_and_htmx_a_403_fragment(app, viewer_client, backup, method, path):
    backup()
    page = viewer_client.open(path, method=method, **body(app, method, path))
    assert page.status_code == 403 and is_full_page(page.text) and "Admins only" in page.text
    fragment = viewer_client.open(path, method=method, headers=HTMX, **body(app, method, path))
    assert fragment.status_code == 403 and not is_full_page(fragment.text)
    assert fragment.headers["HX-Retarget"] == "#messages" and "Admins only" in fragment.text
    assert files(app) == [NAME]


@pytest.mark.parametrize("method, path", ROUTES)
def test_strangers_are_sent_to_sign_in(app, admin, client, method, path):
    response = client.open(path, method=method, data={"csrf_token": "x"} if method == "POST" else None)
    assert response.status_code in (302, 400)  # a POST without a session's CSRF token stops there
    if method == "GET":
        assert response.headers["Location"] == f"/login?next={path}"
        htmx = client.get(path, headers=HTMX)
        assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login?next=")


@pytest.mark.parametrize("method, path", POSTS)
def test_every_form_needs_the_csrf_token(app, admin_client, backup, method, path):
    backup()
    del admin_client.environ_base["HTTP_X_CSRFTOKEN"]
    response = admin_client.open(path, method=method, headers=HTMX, **body(app, method, path))
    assert response.status_code == 400 and "security token" in response.text
    assert files(app) == [NAME]


def test_every_form_on_the_page_carries_the_token(admin_client, backup):
    entry = backup()
    html = admin_client.get("/settings/backups").text
    assert html.count('name="csrf_token"') == html.count('method="post"') == 5  # create, import, kit, add key, sign out
    for action in ("restore", "delete"):
        dialog = admin_client.get(f"/settings/backups/{entry.name}/{action}", headers=HTMX).text
        assert 'name="csrf_token"' in dialog

"""Every System Backups route is for admins, the Locations panel's too: viewers get a 403 page or fragment,
strangers the sign-in page, and every form needs its CSRF token."""

import io

import pytest

from vibenvr.models import BackupLocation

from .helpers import HTMX, document_bytes, files, is_full_page
from builders import make_location

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
    # create, import, kit, add key, add location, sign out
    assert html.count('name="csrf_token"') == html.count('method="post"') == 6
    for action in ("restore", "delete"):
        dialog = admin_client.get(f"/settings/backups/{entry.name}/{action}", headers=HTMX).text
        assert 'name="csrf_token"' in dialog
    location = make_location()
    html = admin_client.get("/settings/backups").text
    assert html.count('name="csrf_token"') == html.count('method="post"') == 8  # and its Test and Disable
    for path in (
        f"/settings/backups/locations/{location.id}/edit",
        f"/settings/backups/locations/{location.id}/delete",
    ):
        for headers in ({}, HTMX):
            page = admin_client.get(path, headers=headers).text
            assert page.count('name="csrf_token"') == page.count('method="post"') > 0


# --- the Locations panel (SPEC §14) ----------------------------------------------------------------

LOCATION_ROUTES = [
    ("POST", "/settings/backups/locations"),
    ("GET", "/settings/backups/locations/{id}/edit"),
    ("POST", "/settings/backups/locations/{id}/edit"),
    ("POST", "/settings/backups/locations/{id}/enabled"),
    ("GET", "/settings/backups/locations/{id}/delete"),
    ("POST", "/settings/backups/locations/{id}/delete"),
    ("POST", "/settings/backups/locations/{id}/test"),
    ("GET", "/settings/backups/locations/{id}/files"),
    ("POST", f"/settings/backups/locations/{{id}}/files/{NAME}/fetch"),
]
LOCATION_POSTS = [(m, p) for m, p in LOCATION_ROUTES if m == "POST"]
LOCATION_FORM = {"name": "Other", "kind": "folder", "folder-path": "/mnt/other", "enabled": "off", "receives": "auto"}


def unchanged(location):
    """The location as it was: nothing added, changed or deleted."""
    rows = [(r.id, r.name, r.path, r.enabled) for r in BackupLocation.select()]
    return rows == [(location.id, location.name, location.path, location.enabled)]


@pytest.mark.parametrize("method, path", LOCATION_ROUTES)
def test_viewers_get_a_403_for_every_location_route(app, viewer_client, method, path):
    location = make_location(enabled=True)
    path = path.format(id=location.id)
    data = {**LOCATION_FORM, "enabled": "off"} if method == "POST" else None
    page = viewer_client.open(path, method=method, data=data)
    assert page.status_code == 403 and is_full_page(page.text) and "Admins only" in page.text
    fragment = viewer_client.open(path, method=method, data=data, headers=HTMX)
    assert fragment.status_code == 403 and fragment.headers["HX-Retarget"] == "#messages"
    assert unchanged(location)


@pytest.mark.parametrize("method, path", LOCATION_ROUTES)
def test_strangers_are_sent_to_sign_in_from_every_location_route(app, admin, client, method, path):
    location = make_location()
    path = path.format(id=location.id)
    response = client.open(path, method=method, data={"csrf_token": "x", **LOCATION_FORM} if method == "POST" else None)
    assert response.status_code in (302, 400)
    if method == "GET":
        assert response.headers["Location"] == f"/login?next={path}"
        htmx = client.get(path, headers=HTMX)
        assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login?next=")
    assert unchanged(location)


@pytest.mark.parametrize("method, path", LOCATION_POSTS)
def test_every_location_form_needs_the_csrf_token(app, admin_client, method, path):
    location = make_location(enabled=True)
    del admin_client.environ_base["HTTP_X_CSRFTOKEN"]
    response = admin_client.open(
        path.format(id=location.id), method=method, headers=HTMX, data={**LOCATION_FORM, "enabled": "off"}
    )
    assert response.status_code == 400 and "security token" in response.text
    assert unchanged(location)

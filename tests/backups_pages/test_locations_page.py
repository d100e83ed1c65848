"""The Locations panel of System Backups (SPEC §14), against a real second folder: add, edit, validate,
enable/disable, delete (the files stay), test connection, the state of the copies, the files there and
fetching one back as an imported backup; htmx fragments and the same without JavaScript."""

import html as html_lib
import re
import shutil
import sys

import pytest

from vibenvr.backups import service
from vibenvr.backups.document import envelope
from vibenvr.models import BackupLocation
from vibenvr.runtime import LocationCopy
from vibenvr.settings.service import update_settings

from .helpers import HTMX, files, is_full_page
from builders import make_location
from support.rclone import PASSWORD, USER, RcloneServer

PAGE = "/settings/backups"
LOCATIONS = "/settings/backups/locations"


@pytest.fixture
def nas(tmp_path):
    folder = tmp_path / "nas"
    folder.mkdir()
    return folder


def form(kind="folder", **fields):
    """The add/edit form as a browser without JavaScript sends it: every kind's fieldset, the chosen one filled."""
    data = {
        "name": "NAS",
        "kind": kind,
        "enabled": ["off", "on"],
        "receives": ["auto", "manual"],
        "retention": "",
        "folder-path": "",
        "sftp-host": "",
        "sftp-port": "22",
        "sftp-username": "",
        "sftp-password": "",
        "sftp-private_key": "",
        "sftp-path": "",
        "sftp-host_key": "",
        "webdav-url": "",
        "webdav-username": "",
        "webdav-password": "",
        "webdav-tls_fingerprint": "",
        "s3-endpoint_url": "",
        "s3-region": "",
        "s3-bucket": "",
        "s3-prefix": "",
        "s3-access_key_id": "",
        "s3-secret_access_key": "",
        "s3-tls_fingerprint": "",
    }
    data.update(fields)
    return data


def add(client, nas, htmx=False, **fields):
    return client.post(LOCATIONS, data=form(**{"folder-path": str(nas), **fields}), headers=HTMX if htmx else {})


def only_location():
    [row] = BackupLocation.select()
    return row


def text(response):
    """The answer's text with entities decoded (quotes, “ ”)."""
    return html_lib.unescape(response.text)


def run_copies(app):
    with app.app_context():
        return service.copy_locations()


# --- the list ------------------------------------------------------------------------------------


def test_the_panel_lists_each_location_with_where_it_writes_and_never_a_secret(admin_client):
    make_location(
        name="Bucket",
        kind="s3",
        bucket="nvr-backups",
        prefix="office",
        access_key_id="AKID",
        secret_access_key="S3CRET-KEY-1",
        endpoint_url="http://minio.local:9000",
    )
    make_location(
        name="Box",
        kind="webdav",
        url="https://dav.example.com/nvr",
        username="nvr",
        password="S3CRET-PW-2",
        enabled=True,
        receives=["manual"],
        retention=3,
    )
    page = text(admin_client.get(PAGE))
    assert 'id="backup-locations"' in page and "2 locations" in page
    assert "s3://nvr-backups/office/ at minio.local:9000" in page and "https://dav.example.com/nvr" in page
    assert (
        '<span class="badge badge-amber">S3</span>' in page and '<span class="badge badge-purple">WebDAV</span>' in page
    )
    assert (
        '<span class="badge badge-grey">Disabled</span>' in page
        and '<span class="badge badge-green">Enabled</span>' in page
    )
    assert "Manual backups" in page and "The newest 3 automatic copies;" in page
    assert "S3CRET" not in page and "AKID" not in page  # the key id is only in the edit form


def test_the_status_shows_the_last_copy_in_local_time_the_last_failure_and_what_is_pending(
    admin_client, app, nas, clock
):
    update_settings({"timezone": "Europe/Berlin"})
    add(admin_client, nas)
    admin_client.post(f"{PAGE}/create")
    run_copies(app)
    page = text(admin_client.get(PAGE))
    assert "2026-11-29 23:40" in page and "Nothing waiting" in page  # 22:40 UTC is 23:40 in Berlin
    shutil.rmtree(nas)
    clock.advance(hours=1)
    admin_client.post(f"{PAGE}/create")
    run_copies(app)
    page = text(admin_client.get(PAGE))
    assert "2026-11-30 00:40" in page
    assert (
        f"The folder, bucket or path does not exist: folder {nas} (is it mounted?): No such file or directory." in page
    )
    assert "1 copy waiting to be sent" in page


# --- add -----------------------------------------------------------------------------------------


def test_adding_a_folder_without_javascript_reads_only_its_kind_and_redirects_to_the_panel(admin_client, nas):
    response = add(admin_client, nas, **{"sftp-host": "ignored.example", "webdav-password": "IGNORED-PW"})
    assert response.status_code == 303 and response.headers["Location"] == f"{PAGE}#backup-locations"
    row = only_location()
    assert (row.kind, row.path, row.host, row.password, row.enabled) == ("folder", str(nas), "", "", True)
    assert row.receives == ["auto", "manual"] and row.retention is None
    page = text(admin_client.get(PAGE))
    assert "Location “NAS” added. Use Test connection to check it" in page and str(nas) in page


def test_adding_with_htmx_swaps_the_whole_panel_and_says_so(admin_client, nas):
    response = add(admin_client, nas, htmx=True, retention="4", receives=["imported", "auto"])
    assert response.status_code == 200 and not is_full_page(response.text)
    assert response.headers["HX-Retarget"] == "#backup-locations" and response.headers["HX-Reswap"] == "outerHTML"
    assert response.text.lstrip().startswith("{#") is False and '<section class="card locations-panel"' in response.text
    assert "Location “NAS” added" in text(response) and 'id="messages" hx-swap-oob="innerHTML"' in response.text
    row = only_location()
    assert row.receives == ["auto", "imported"] and row.retention == 4


@pytest.mark.parametrize(
    ("fields", "field_id", "error"),
    [
        ({"folder-path": ""}, "loc-new-folder-path", "is required for a folder location"),
        ({"folder-path": "mnt/nas"}, "loc-new-folder-path", "must be an absolute path"),
        ({"name": ""}, "loc-new-name", "must not be empty"),
        ({"retention": "0"}, "loc-new-retention", "must be between 1 and 1000"),
        ({"retention": "many"}, "loc-new-retention", "must be a whole number"),
        ({"receives": []}, "loc-new-receives", "must be a list of backup kinds"),
        ({"kind": "tape"}, "loc-new-kind", "must be one of folder, sftp, webdav, s3"),
        ({"kind": "webdav", "webdav-url": "ftp://x"}, "loc-new-webdav-url", "must be an http:// or https:// address"),
        (
            {"kind": "s3", "s3-bucket": "Bad_Bucket", "s3-access_key_id": "a", "s3-secret_access_key": "b"},
            "loc-new-s3-bucket",
            "must be an S3 bucket name",
        ),
        (
            {"kind": "sftp", "sftp-host": "nas.local", "sftp-username": "nvr"},
            "loc-new-sftp-password",
            "is required, or a private key",
        ),
        (
            {
                "kind": "sftp",
                "sftp-host": "nas.local",
                "sftp-username": "nvr",
                "sftp-password": "pw",
                "sftp-port": "70000",
            },
            "loc-new-sftp-port",
            "must be between 1 and 65535",
        ),
    ],
)
def test_a_refused_add_names_the_field_in_place_and_saves_nothing(admin_client, nas, fields, field_id, error):
    response = add(admin_client, nas, htmx=True, **fields)
    assert response.status_code == 422 and response.text.lstrip().startswith('<form id="loc-new-form"')
    page = text(response)
    assert f'<p class="field-error" id="e-{field_id}">' in page
    assert error in page.split(f'id="e-{field_id}">')[1].split("</p>")[0]
    assert "Nothing was saved." in page and BackupLocation.select().count() == 0


def test_a_refused_add_keeps_what_was_typed_but_never_a_secret(admin_client, nas):
    fields = {
        "kind": "sftp",
        "sftp-host": "nas.local",
        "sftp-path": "/srv/nvr",
        "sftp-password": "TYPED-SECRET-9",
        "name": "Basement NAS",
        "retention": "5",
    }
    response = add(admin_client, nas, **fields)  # the username is missing; without JavaScript: the whole page
    page = text(response)
    assert response.status_code == 422 and is_full_page(response.text)
    assert '<details class="location-add" open>' in page
    assert 'value="nas.local"' in page and 'value="/srv/nvr"' in page and 'value="Basement NAS"' in page
    assert 'value="5"' in page and f'value="{nas}"' in page  # the folder fieldset's too
    assert "TYPED-SECRET-9" not in page
    assert "is required for a sftp location" in page and BackupLocation.select().count() == 0


def test_a_second_location_of_the_same_name_is_a_409_on_the_name(admin_client, nas):
    add(admin_client, nas)
    response = add(admin_client, nas, htmx=True)
    assert response.status_code == 409
    assert 'a location named "NAS" already exists' in text(response).split('id="e-loc-new-name">')[1]
    assert BackupLocation.select().count() == 1


def test_every_kind_is_offered_with_a_labelled_fieldset(admin_client):
    page = text(admin_client.get(PAGE))
    for kind, label in (("folder", "Folder"), ("sftp", "SFTP"), ("webdav", "WebDAV"), ("s3", "S3")):
        assert f'<option value="{kind}"' in page
        assert f'<fieldset class="location-kind" data-kind="{kind}">\n      <legend>{label}<' in page
    assert 'id="f-loc-new-sftp-private_key" name="sftp-private_key"' in page  # a textarea: keys have lines
    assert 'id="f-loc-new-s3-secret_access_key" name="s3-secret_access_key" type="password"' in page


# --- edit ----------------------------------------------------------------------------------------


def test_the_edit_page_and_dialog_fill_everything_but_the_secrets(admin_client):
    row = make_location(
        name="Box", kind="webdav", url="https://dav.example.com/nvr", username="nvr", password="S3CRET-PW-2"
    )
    page = text(admin_client.get(f"{LOCATIONS}/{row.id}/edit"))
    assert is_full_page(page) and "Edit location “Box”" in page
    assert 'value="https://dav.example.com/nvr"' in page and 'value="nvr"' in page and "S3CRET" not in page
    assert "Leave blank to keep the stored value." in page and 'name="webdav-password_clear"' in page
    dialog = admin_client.get(f"{LOCATIONS}/{row.id}/edit", headers=HTMX)
    assert dialog.text.lstrip().startswith("{#") is False and not is_full_page(dialog.text)
    assert "data-show-on-load" in dialog.text and 'name="in_dialog" value="1"' in dialog.text
    assert "S3CRET" not in dialog.text


def test_saving_with_a_blank_secret_keeps_it_and_the_box_removes_it(admin_client):
    row = make_location(
        name="Box", kind="webdav", url="https://dav.example.com/nvr", username="nvr", password="S3CRET-PW-2"
    )
    edit = f"{LOCATIONS}/{row.id}/edit"
    saved = admin_client.post(
        edit, data=form("webdav", name="Box 2", **{"webdav-url": "https://dav.example.com/x", "webdav-username": "nvr"})
    )
    assert saved.status_code == 303 and saved.headers["Location"] == f"{PAGE}#backup-locations"
    row = BackupLocation.get_by_id(row.id)
    assert (row.name, row.url, row.password) == ("Box 2", "https://dav.example.com/x", "S3CRET-PW-2")
    admin_client.post(edit, data=form("webdav", name="Box 2", **{"webdav-url": row.url, "webdav-password_clear": "on"}))
    assert BackupLocation.get_by_id(row.id).password == ""


def test_changing_the_kind_drops_the_old_kinds_credentials(admin_client, nas):
    row = make_location(name="Box", kind="webdav", url="https://dav.example.com/nvr", password="S3CRET-PW-2")
    response = admin_client.post(f"{LOCATIONS}/{row.id}/edit", data=form(**{"name": "Box", "folder-path": str(nas)}))
    assert response.status_code == 303
    row = BackupLocation.get_by_id(row.id)
    assert (row.kind, row.path, row.url, row.password) == ("folder", str(nas), "", "")


def test_a_refused_edit_in_the_dialog_answers_the_form_in_place(admin_client, nas):
    row = make_location(name="Box", path=str(nas))
    response = admin_client.post(
        f"{LOCATIONS}/{row.id}/edit", headers=HTMX, data=form(name="Box", in_dialog="1", **{"folder-path": "relative"})
    )
    page = text(response)
    assert response.status_code == 422 and page.lstrip().startswith(f'<form id="loc-{row.id}-form"')
    assert 'class="modal-body"' in page and "must be an absolute path" in page
    assert BackupLocation.get_by_id(row.id).path == str(nas)
    plain = admin_client.post(f"{LOCATIONS}/{row.id}/edit", data=form(name="Box", **{"folder-path": "relative"}))
    assert plain.status_code == 422 and is_full_page(plain.text) and "Edit location “Box”" in text(plain)


# --- enable, disable, delete ---------------------------------------------------------------------


def test_disable_and_enable_swap_the_panel(admin_client, nas):
    row = make_location(name="Box", path=str(nas), enabled=True)
    response = admin_client.post(f"{LOCATIONS}/{row.id}/enabled", data={"enabled": "off"}, headers=HTMX)
    assert response.status_code == 200 and '<section class="card locations-panel"' in response.text
    assert "Location “Box” disabled: nothing is copied there" in text(response)
    assert BackupLocation.get_by_id(row.id).enabled is False
    assert 'name="enabled" value="on"' in response.text  # its button now enables
    plain = admin_client.post(f"{LOCATIONS}/{row.id}/enabled", data={"enabled": "on"})
    assert plain.status_code == 303 and BackupLocation.get_by_id(row.id).enabled is True


def test_toggle_wants_on_or_off(admin_client, nas):
    row = make_location(name="Box", path=str(nas), enabled=True)
    response = admin_client.post(f"{LOCATIONS}/{row.id}/enabled", data={"enabled": "maybe"})
    assert response.status_code == 400 and BackupLocation.get_by_id(row.id).enabled is True


def test_toggling_a_location_that_no_longer_validates_says_so_and_changes_nothing(admin_client):
    row = BackupLocation.create(name="Old", kind="folder", path="", enabled=True)  # as written before a check existed
    response = admin_client.post(f"{LOCATIONS}/{row.id}/enabled", data={"enabled": "off"}, headers=HTMX)
    assert response.status_code == 422 and response.headers["HX-Retarget"] == "#messages"
    assert "Location “Old” was not changed" in text(response)
    assert "path is required for a folder location. Edit it to correct that." in text(response)
    assert BackupLocation.get_by_id(row.id).enabled is True


def test_delete_asks_first_says_the_files_stay_and_keeps_them(admin_client, app, nas, clock):
    add(admin_client, nas)
    row = only_location()
    admin_client.post(f"{PAGE}/create")
    run_copies(app)
    copied = sorted(p.name for p in nas.iterdir())
    page = text(admin_client.get(f"{LOCATIONS}/{row.id}/delete"))
    assert is_full_page(page) and "Delete location “NAS”?" in page and "The files at the location are kept." in page
    dialog = admin_client.get(f"{LOCATIONS}/{row.id}/delete", headers=HTMX)
    assert "data-show-on-load" in dialog.text and not is_full_page(dialog.text)
    assert BackupLocation.select().count() == 1
    response = admin_client.post(f"{LOCATIONS}/{row.id}/delete", headers=HTMX)
    assert response.status_code == 200 and f"Location “NAS” deleted. Its files at {nas} were kept." in text(response)
    assert '<div id="dialog-slot" hx-swap-oob="innerHTML"></div>' in response.text
    assert BackupLocation.select().count() == 0 and LocationCopy.select().count() == 0
    assert sorted(p.name for p in nas.iterdir()) == copied and len(copied) == 1
    assert admin_client.get(f"{LOCATIONS}/{row.id}/edit").status_code == 404


# --- test connection -----------------------------------------------------------------------------


def test_test_connection_answers_the_row_with_the_result(admin_client, nas, clock):
    add(admin_client, nas)
    row = only_location()
    ok = admin_client.post(f"{LOCATIONS}/{row.id}/test", headers=HTMX)
    page = text(ok)
    assert ok.status_code == 200 and page.lstrip().startswith(f'<li class="location-item" id="location-{row.id}"')
    flat = " ".join(page.split())
    assert "<strong>Connection OK.</strong> A probe file was written, read back and deleted;" in flat
    assert re.search(r"deleted; [0-9.]+ [KMG]?B free there\.", flat) and "Tested at 22:40:00." in flat
    assert list(nas.iterdir()) == []  # the probe is gone
    assert f'hx-indicator="#location-{row.id}"' in page and "Testing…" in page
    shutil.rmtree(nas)
    failed = admin_client.post(f"{LOCATIONS}/{row.id}/test", headers=HTMX)
    assert failed.status_code == 502 and 'data-test-result="failed"' in failed.text
    assert (
        f"The test failed.</strong> The folder, bucket or path does not exist: folder {nas} (is it mounted?): "
        "No such file or directory."
    ) in text(failed)


def test_test_connection_without_javascript_shows_the_page_with_the_result(admin_client, nas):
    add(admin_client, nas)
    row = only_location()
    response = admin_client.post(f"{LOCATIONS}/{row.id}/test")
    assert response.status_code == 200 and is_full_page(response.text)
    assert "Connection OK." in response.text and 'data-test-result="ok"' in response.text


def test_testing_an_sftp_location_pins_its_host_key_and_shows_it(admin_client, tmp_path, clock):
    with RcloneServer("sftp", tmp_path / "served") as server:
        (tmp_path / "served" / "nvr").mkdir()
        fields = {
            "sftp-host": "127.0.0.1",
            "sftp-port": str(server.port),
            "sftp-username": USER,
            "sftp-password": PASSWORD,
            "sftp-path": "nvr",
        }
        assert admin_client.post(LOCATIONS, data=form("sftp", **fields)).status_code == 303
        row = only_location()
        assert "Not pinned yet: pinned at the first connection" in text(admin_client.get(PAGE))
        tested = admin_client.post(f"{LOCATIONS}/{row.id}/test", headers=HTMX)
        row = BackupLocation.get_by_id(row.id)
    page = " ".join(text(tested).split())
    assert tested.status_code == 200 and row.host_key.startswith("ssh-ed25519 ")
    fingerprint = re.search(
        r"Host key <code class=\"path\">(SHA256:[^<]+)</code> pinned: later connections must show "
        r"the same key\.",
        page,
    )
    assert fingerprint and "Folder there:" in page
    assert f'<dd><code class="path">{row.host_key}</code></dd>' in page  # the row shows the pinned key now
    assert PASSWORD not in page


def test_a_kind_missing_from_this_build_says_so_and_holds_up_no_other_location(
    admin_client, app, nas, monkeypatch, clock
):
    monkeypatch.setitem(sys.modules, "vibenvr.backups.locations.sftp", None)  # as if the module were not there
    response = admin_client.post(
        LOCATIONS,
        data=form(
            "sftp", **{"sftp-host": "nas.local", "sftp-username": "nvr", "sftp-password": "pw", "sftp-path": "/srv"}
        ),
    )
    assert response.status_code == 303
    row = only_location()
    assert "sftp://nvr@nas.local/srv" in text(admin_client.get(PAGE))
    tested = admin_client.post(f"{LOCATIONS}/{row.id}/test", headers=HTMX)
    assert tested.status_code == 502
    assert (
        "The test failed.</strong> This kind is not available in this build: sftp locations need "
        "vibenvr.backups.locations.sftp."
    ) in text(tested)
    listed = admin_client.get(f"{LOCATIONS}/{row.id}/files")
    assert listed.status_code == 502 and "This kind is not available in this build" in listed.text
    add(admin_client, nas, name="NAS folder")
    folder = BackupLocation.get(BackupLocation.name == "NAS folder")
    admin_client.post(f"{PAGE}/create")
    # the sftp copy fails with the reason; the folder after it still gets its copy
    assert run_copies(app) == {row.id: (0, 1), folder.id: (1, 0)}
    assert len(list(nas.iterdir())) == 1
    assert "This kind is not available in this build" in text(admin_client.get(PAGE))


# --- files and fetch -----------------------------------------------------------------------------


def test_the_files_page_lists_backups_there_and_fetch_imports_one(admin_client, app, nas, clock):
    add(admin_client, nas)
    row = only_location()
    admin_client.post(f"{PAGE}/create")
    run_copies(app)
    (nas / "notes.txt").write_text("not a backup")
    [copy] = [p.name for p in nas.iterdir() if p.name.endswith(".age")]
    page = admin_client.get(f"{LOCATIONS}/{row.id}/files")
    html = text(page)
    assert page.status_code == 200 and is_full_page(html) and "Files at “NAS”" in html
    assert f'data-file="{copy}"' in html and "Encrypted" in html and "notes.txt" not in html and "1 file" in html
    fetched = admin_client.post(f"{LOCATIONS}/{row.id}/files/{copy}/fetch")
    assert fetched.status_code == 303 and fetched.headers["Location"] == PAGE
    imported = "vibe_backup_imported_20261129_224000.json.age"
    assert files(app) == [imported, "vibe_backup_manual_20261129_224000.json"]
    assert (app.config["BACKUP_DIR"] / imported).read_bytes() == (nas / copy).read_bytes()  # stored as it came
    message = text(admin_client.get(PAGE))
    assert f"Imported {copy} from location “NAS” as {imported}: a manual backup of" in message


def test_a_file_with_a_passphrase_is_fetched_only_with_it(admin_client, app, nas, clock):
    add(admin_client, nas)
    row = only_location()
    admin_client.post(f"{PAGE}/create")
    with app.app_context():
        _, data = service.download("vibe_backup_manual_20261129_224000.json", "passphrase", "a long passphrase here")
    name = "vibe_backup_manual_20200101_000000.json.age"
    (nas / name).write_bytes(data)
    refused = admin_client.post(f"{LOCATIONS}/{row.id}/files/{name}/fetch", headers=HTMX)
    page = text(refused)
    assert refused.status_code == 422 and page.lstrip().startswith('<section id="location-files"')
    assert f"{name} was not fetched. Nothing was saved." in page and "passphrase" in page
    assert '<details class="import-keys fetch-keys" open>' in page
    assert files(app) == ["vibe_backup_manual_20261129_224000.json"]
    fetched = admin_client.post(
        f"{LOCATIONS}/{row.id}/files/{name}/fetch", headers=HTMX, data={"passphrase": "a long passphrase here"}
    )
    assert fetched.status_code == 200 and fetched.headers["HX-Redirect"] == PAGE
    assert len(files(app)) == 2 and envelope.is_encrypted((app.config["BACKUP_DIR"] / files(app)[0]).read_bytes())


def test_fetch_refuses_other_names_and_invalid_files_and_says_when_the_file_is_gone(admin_client, app, nas, clock):
    add(admin_client, nas)
    row = only_location()
    (nas / "notes.txt").write_text("{}")
    assert admin_client.post(f"{LOCATIONS}/{row.id}/files/notes.txt/fetch").status_code == 400
    (nas / "broken.json").write_text("{}")
    refused = admin_client.post(f"{LOCATIONS}/{row.id}/files/broken.json/fetch")
    assert refused.status_code == 422 and "broken.json was not fetched. Nothing was saved." in refused.text
    missing = admin_client.post(f"{LOCATIONS}/{row.id}/files/vibe_backup_manual_20000101_000000.json/fetch")
    assert missing.status_code == 502 and "The file is not at the location" in text(missing)
    assert files(app) == []


def test_the_files_page_says_why_a_location_cannot_be_listed(admin_client, nas):
    add(admin_client, nas)
    row = only_location()
    shutil.rmtree(nas)
    response = admin_client.get(f"{LOCATIONS}/{row.id}/files")
    assert response.status_code == 502 and "The files could not be listed." in response.text
    assert "The folder, bucket or path does not exist" in response.text


def test_a_location_that_does_not_exist_is_a_404(admin_client):
    for path in ("/9/edit", "/9/files", "/9/delete"):
        assert admin_client.get(LOCATIONS + path).status_code == 404
    assert admin_client.post(LOCATIONS + "/9/test").status_code == 404
    assert admin_client.get(LOCATIONS + f"/{2**63}/edit").status_code == 404

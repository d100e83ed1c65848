"""A fresh install restores from a backup location in headless Chromium, at desktop and phone size (SPEC §16):
/setup's first choice, the location typed in, its files, the preview, the restore, and the sign-in with an
account from the backup. A screenshot of each step."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from pyrage import x25519

from vibenvr.backups import keys
from vibenvr.backups.document import envelope
from vibenvr.models import Camera, User

from browser.conftest import login, screenshot
from builders import PASSWORD
from conftest import connected_app
from support.live import LiveServer
from support.source_backup import source_backup


@pytest.fixture
def nas(tmp_path):
    """A folder location (a NAS mounted at …/nas) holding the backups of an earlier install."""
    folder = tmp_path / "nas"
    folder.mkdir()
    name, data = source_backup(tmp_path / "old-server")
    (folder / name).write_bytes(data)
    return folder, name


@pytest.fixture
def fresh_server(tmp_path, nas):
    """A server on a fresh data folder: no user, no backup (made after the old server's backup)."""
    with connected_app(tmp_path / "data") as app, LiveServer(app) as server:
        yield server


def no_sideways_scroll(page, what):
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{what} scrolls sideways on {page.device} by {overflow}px"


def test_a_fresh_install_restores_from_a_folder_location_and_signs_in_from_the_backup(fresh_server, nas, tab):
    page, (folder, name) = tab, nas
    page.goto(fresh_server.url + "/cameras")
    assert page.url.endswith("/setup")
    choice = page.get_by_role("navigation", name="How to start")
    expect(choice.get_by_role("link", name="Create the administrator")).to_be_visible()
    expect(choice.get_by_role("link", name="Restore from a backup")).to_be_visible()
    no_sideways_scroll(page, "/setup")
    screenshot(page, f"setup-restore-1-choice-{page.device}")

    choice.get_by_role("link", name="Restore from a backup").click()
    expect(page.get_by_role("link", name="Upload a file", exact=True)).to_have_attribute("aria-current", "page")
    screenshot(page, f"setup-restore-2-upload-{page.device}")
    page.get_by_role("link", name="From a location", exact=True).click()
    page.get_by_label("Folder path").fill(str(folder))
    screenshot(page, f"setup-restore-3-location-{page.device}")
    page.get_by_role("button", name="Connect and list backups").click()
    panel = page.locator("#restore-panel")
    expect(panel).to_contain_text(f"Connected to the folder {folder}: 1 backup file.")
    expect(panel.get_by_role("radio", name=name)).to_be_checked()
    no_sideways_scroll(page, "the location's files")
    screenshot(page, f"setup-restore-4-files-{page.device}")

    page.get_by_role("button", name="Fetch and check this backup").click()
    expect(page.get_by_role("heading", name="Restore this backup?")).to_be_visible()
    summary = page.locator(".restore-summary")
    expect(summary).to_contain_text("This will restore 12 cameras, 1 group, 3 users (admins: anna, bob)")
    expect(page.locator(".preview-card")).to_contain_text("as an administrator: anna or bob")
    assert User.select().count() == 0 and Camera.select().count() == 0  # nothing changed before the confirmation
    no_sideways_scroll(page, "the preview")
    screenshot(page, f"setup-restore-5-preview-{page.device}")

    page.get_by_role("button", name="Restore this backup").click()
    page.wait_for_url("**/login")
    messages = page.locator("#messages")
    expect(messages).to_contain_text("The backup is restored: 12 cameras, 1 group, 3 users (admins: anna, bob)")
    expect(messages).to_contain_text("Sign in with an administrator account from it: anna or bob.")
    expect(messages).to_contain_text("The file is kept as vibe_backup_imported_")
    no_sideways_scroll(page, "/login after the restore")
    screenshot(page, f"setup-restore-6-sign-in-{page.device}")
    assert sorted(u.username for u in User.select()) == ["anna", "bob", "carol"]

    login(page, fresh_server, "anna", PASSWORD)
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(fresh_server.url + "/cameras")
    expect(page.get_by_role("link", name="Camera 12", exact=True)).to_be_visible()
    assert page.goto(fresh_server.url + "/setup/restore").status == 404


@pytest.fixture
def lost_server(tmp_path):
    """A server whose database was lost beside its backup folder, holding a backup encrypted to a key this
    data folder no longer has (the emergency kit opens it)."""
    identity = x25519.Identity.generate()
    name, data = source_backup(tmp_path / "old-server")
    with connected_app(tmp_path / "data") as app, LiveServer(app) as server:
        backups = app.config["BACKUP_DIR"]
        (backups / f"{name}.age").write_bytes(envelope.encrypt(data, [identity.to_public()]))
        server.kit = keys.kit_text(identity, "Old NVR", dt.datetime(2026, 11, 29, 22, 40))
        server.name = f"{name}.age"
        yield server


def test_after_a_data_loss_the_code_then_the_kit_restore_the_backup_folder(lost_server, tab):
    page, server = tab, lost_server
    page.goto(server.url + "/setup/restore")
    expect(page.locator("#setup-code-notice")).to_contain_text(
        "This server has been set up before: 1 backup file is in"
    )
    no_sideways_scroll(page, "the setup code of the restore")
    screenshot(page, f"setup-restore-code-{page.device}")
    page.get_by_label("Setup code").fill("AAAA-BBBB-CCCC-DDDD")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#e-setup_code")).to_contain_text("That is not the current setup code")
    code = server.app.test_cli_runner().invoke(args=["users", "setup-code"]).stdout.strip()
    page.get_by_label("Setup code").fill(code)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("link", name="On this server (1)")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("radio", name=re.compile(re.escape(server.name)))).to_be_checked()
    expect(page.locator("details[data-restore-keys]")).to_have_attribute("open", "")  # an encrypted file is chosen
    page.get_by_role("button", name="Check this backup").click()
    expect(page.locator("#restore-problems")).to_contain_text("encrypted to keys this server does not hold")
    no_sideways_scroll(page, "a backup that needs its key")
    screenshot(page, f"setup-restore-needs-kit-{page.device}")
    page.get_by_label("Emergency kit or key").fill(server.kit)
    page.get_by_role("button", name="Check this backup").click()
    expect(page.locator(".restore-summary")).to_contain_text("3 users (admins: anna, bob)")
    page.get_by_role("button", name="Restore this backup").click()
    page.wait_for_url("**/login")
    login(page, server, "bob", PASSWORD)
    page.wait_for_url(lambda url: "/login" not in url)
    assert sorted(u.username for u in User.select()) == ["anna", "bob", "carol"]

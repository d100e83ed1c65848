"""The admins' own backup recipients (SPEC §13): named public keys (age, ssh-ed25519, ssh-rsa) every
encrypted backup is also encrypted to, so a copy opens with Debian's ``age`` and that key alone; validated
(a malformed key is a 422 naming the field), admin only on every face, part of the configuration and of
every backup (section ``backup_recipients``), restored and merged by their key."""

import html
import shutil
import subprocess

import pytest
from pyrage import x25519

from vibenvr.backups import service
from vibenvr.backups.document import envelope
from vibenvr.backups.document.canonical import encode
from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.models import BackupRecipient

from .helpers import RECIPIENTS
from builders import make_recipient

AGE = shutil.which("age")
needs_age = pytest.mark.skipif(AGE is None, reason="Debian's age CLI is missing: make age installs it")


@pytest.fixture
def ssh_key(tmp_path):
    """A fresh OpenSSH ed25519 key pair made by ssh-keygen: ``(private key path, public key line)``."""
    path = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "anna@laptop", "-f", path], check=True)
    return path, path.with_suffix(".pub").read_text().strip()


def _age_key(tmp_path):
    """A fresh age identity file made by age-keygen: ``(path, public recipient)``."""
    path = tmp_path / "laptop.key"
    subprocess.run(["age-keygen", "-o", path], check=True, capture_output=True)
    public = subprocess.run(["age-keygen", "-y", path], check=True, capture_output=True, text=True).stdout.strip()
    return path, public


def _error_text(response):
    body = response.get_json()
    return " | ".join([body["error"], *body.get("errors", [])])


def _names(api):
    return [r["name"] for r in api.get("/api/backup-recipients").get_json()["backup_recipients"]]


# --- the API ------------------------------------------------------------------------------------


def test_an_admin_adds_lists_renames_and_removes_recipients(api, ssh_key):
    _path, public = ssh_key
    added = api.post("/api/backup-recipients", json={"name": "Anna's laptop", "recipient": f"  {public}\n"})
    assert added.status_code == 201
    body = added.get_json()
    assert body["recipient"] == public and body["kind"] == "SSH Ed25519" and body["created_at"].endswith("Z")
    age_key = str(x25519.Identity.generate().to_public())
    assert api.post("/api/backup-recipients", json={"name": "Safe", "recipient": age_key}).get_json()["kind"] == "age"
    assert _names(api) == ["Anna's laptop", "Safe"]
    renamed = api.patch(f"/api/backup-recipients/{body['id']}", json={"name": "Anna (old laptop)"})
    assert renamed.status_code == 200 and renamed.get_json()["recipient"] == public
    assert api.delete(f"/api/backup-recipients/{body['id']}").status_code == 204
    assert _names(api) == ["Safe"]
    assert api.get(f"/api/backup-recipients/{body['id']}").status_code == 404


@pytest.mark.parametrize(
    ("recipient", "expected"),
    [
        ("age1qqqq", "recipient is not a public key this app can encrypt to"),
        ("age1" + "q" * 58, "recipient is not a valid age public key"),
        ("ssh-ed25519 AAAAnot-base64!", "recipient is not a public key this app can encrypt to"),
        ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "recipient is not a public key this app can encrypt to"),
        ("AGE-SECRET-KEY-1QQQQ", "recipient is not a public key this app can encrypt to"),
        ("", "recipient is not a public key this app can encrypt to"),
        (42, "recipient must be text"),
        (None, "recipient must be text"),
    ],
)
def test_a_malformed_key_is_a_422_naming_the_field_and_nothing_is_stored(api, recipient, expected):
    response = api.post("/api/backup-recipients", json={"name": "Bad", "recipient": recipient})
    assert response.status_code == 422
    assert any(expected in e for e in response.get_json()["errors"]), response.get_json()
    assert BackupRecipient.select().count() == 0


def test_names_and_keys_are_unique_and_required(api):
    key = str(x25519.Identity.generate().to_public())
    assert api.post("/api/backup-recipients", json={"name": "Safe", "recipient": key}).status_code == 201
    again = api.post("/api/backup-recipients", json={"name": "Other", "recipient": key})
    assert again.status_code == 409 and 'already added as "Safe"' in again.get_json()["error"]
    other = str(x25519.Identity.generate().to_public())
    named = api.post("/api/backup-recipients", json={"name": "Safe", "recipient": other})
    assert named.status_code == 409 and 'a recipient named "Safe" already exists' in named.get_json()["error"]
    unnamed = api.post("/api/backup-recipients", json={"recipient": other})
    assert unnamed.status_code == 422 and any(e.startswith("name ") for e in unnamed.get_json()["errors"])
    unknown = api.post("/api/backup-recipients", json={"name": "X", "recipient": other, "secret": "x"})
    assert unknown.status_code == 422
    assert BackupRecipient.select().count() == 1


def test_only_admins_see_or_change_recipients(app, viewer_api, viewer_client, client):
    make_recipient(name="Safe")
    row = BackupRecipient.get()
    for caller, status in ((viewer_api, 403), (client, 401)):
        assert caller.get("/api/backup-recipients").status_code == status
        assert (
            caller.post("/api/backup-recipients", json={"name": "Mine", "recipient": RECIPIENTS[0]}).status_code
            == status
        )
        assert caller.patch(f"/api/backup-recipients/{row.id}", json={"name": "Mine"}).status_code == status
        assert caller.delete(f"/api/backup-recipients/{row.id}").status_code == status
    assert viewer_client.post("/settings/backups/recipients", data={"name": "Mine"}).status_code == 403
    assert viewer_client.post(f"/settings/backups/recipients/{row.id}/remove").status_code == 403
    assert [(r.name, r.id) for r in BackupRecipient.select()] == [("Safe", row.id)]


# --- encryption ---------------------------------------------------------------------------------


@needs_age
def test_an_encrypted_backup_opens_with_an_admins_ssh_or_age_key_and_the_age_cli(app, api, ssh_key, tmp_path):
    ssh_private, ssh_public = ssh_key
    age_private, age_public = _age_key(tmp_path)
    assert api.post("/api/backup-recipients", json={"name": "Anna", "recipient": ssh_public}).status_code == 201
    assert api.post("/api/backup-recipients", json={"name": "Safe", "recipient": age_public}).status_code == 201
    assert api.patch("/api/settings", json={"backup_encrypt": "all"}).status_code == 200
    name = api.post("/api/backups").get_json()["name"]
    path = app.config["BACKUP_DIR"] / name
    for identity in (ssh_private, age_private):  # the server and its key are gone: the admin's key alone opens it
        opened = subprocess.run([AGE, "-d", "-i", identity, path], check=True, capture_output=True).stdout
        valid = validate_document(opened)
        assert [r["name"] for r in valid.doc["backup_recipients"]] == ["Anna", "Safe"]


def test_removing_a_recipient_affects_only_later_backups(app, api):
    laptop = x25519.Identity.generate()
    made = api.post("/api/backup-recipients", json={"name": "Laptop", "recipient": str(laptop.to_public())})
    api.patch("/api/settings", json={"backup_encrypt": "all"})
    before = api.post("/api/backups").get_json()["name"]
    assert api.delete(f"/api/backup-recipients/{made.get_json()['id']}").status_code == 204
    with app.app_context():
        after = service.create_backup("manual").name
    folder = app.config["BACKUP_DIR"]
    assert validate_document(envelope.decrypt((folder / before).read_bytes(), [laptop])).kind == "manual"
    with pytest.raises(Exception, match="keys this server does not hold"):
        envelope.decrypt((folder / after).read_bytes(), [laptop])


def test_a_download_encrypted_to_the_recipients_includes_the_admins_keys(api):
    laptop = x25519.Identity.generate()
    api.post("/api/backup-recipients", json={"name": "Laptop", "recipient": str(laptop.to_public())})
    name = api.post("/api/backups").get_json()["name"]  # a plain file here (backup_encrypt = offsite)
    response = api.get(f"/api/backups/{name}?encrypt=recipients")
    assert response.status_code == 200
    assert validate_document(envelope.decrypt(response.data, [laptop])).counts["backup_recipients"] == 1


# --- the backup section -------------------------------------------------------------------------


def test_recipients_are_in_every_backup_and_a_replace_restores_them_exactly(app, api):
    make_recipient(name="Anna", recipient=RECIPIENTS[1])
    with app.app_context():
        doc = export_document()
    assert [(r["name"], r["recipient"]) for r in doc["backup_recipients"]] == [("Anna", RECIPIENTS[1])]
    assert doc["counts"]["backup_recipients"] == 1
    BackupRecipient.delete().execute()
    make_recipient(name="Other")
    response = api.post("/api/config/restore", data=encode(doc), headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.get_json()["counts"]["backup_recipients"] == 1
    with app.app_context():
        assert export_document()["backup_recipients"] == doc["backup_recipients"]


def test_a_merge_adds_new_keys_and_keeps_or_renames_known_ones(app, api):
    make_recipient(name="Anna", recipient=RECIPIENTS[1])
    with app.app_context():
        doc = export_document()
    fresh = str(x25519.Identity.generate().to_public())
    doc["backup_recipients"] = [
        {**doc["backup_recipients"][0], "name": "Anna's laptop"},  # a known key under a new name
        {"id": 7, "name": "Safe", "recipient": fresh, "created_at": "2026-11-29T22:00:00Z"},
    ]
    doc["counts"]["backup_recipients"] = 2
    BackupRecipient.update(name="Anna").execute()
    make_recipient(name="Kept")
    response = api.post(
        "/api/config/restore?mode=merge&sections=backup_recipients",
        data=encode(doc),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.get_json()
    rows = {r.name: r.recipient for r in BackupRecipient.select()}
    assert rows.pop("Anna's laptop") == RECIPIENTS[1] and rows.pop("Safe") == fresh and list(rows) == ["Kept"]


def test_a_backup_with_a_bad_or_duplicate_key_is_refused_naming_the_item(app, api):
    make_recipient(name="Anna", recipient=RECIPIENTS[1])
    with app.app_context():
        doc = export_document()
    doc["backup_recipients"][0]["recipient"] = "ssh-ed25519 AAAAbroken"
    response = api.post("/api/config/restore", data=encode(doc), headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert 'backup_recipients[0] "Anna": recipient is not' in _error_text(response)
    doc["backup_recipients"] = [
        {"id": 1, "name": "A", "recipient": RECIPIENTS[0], "created_at": "2026-11-29T22:00:00Z"},
        {"id": 2, "name": "B", "recipient": RECIPIENTS[0], "created_at": "2026-11-29T22:00:00Z"},
    ]
    doc["counts"]["backup_recipients"] = 2
    response = api.post("/api/config/restore", data=encode(doc), headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert 'backup_recipients[1] "B": recipient "age1' in _error_text(response)
    assert 'is already used by backup_recipients[0] "A"' in _error_text(response)
    assert [r.name for r in BackupRecipient.select()] == ["Anna"]


# --- the page and the terminal ------------------------------------------------------------------


def test_the_page_adds_and_removes_a_key_without_javascript(app, admin_client):
    page = admin_client.get("/settings/backups").text
    assert "Your own keys" in page and "No keys of your own yet" in page
    answer = admin_client.post("/settings/backups/recipients", data={"name": "Anna", "recipient": RECIPIENTS[1]})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/settings/backups#backup-encryption")
    page = html.unescape(admin_client.get("/settings/backups").text)
    assert 'Recipient "Anna" added' in page and "SSH Ed25519" in page and "anna@laptop" in page
    row = BackupRecipient.get()
    removed = admin_client.post(f"/settings/backups/recipients/{row.id}/remove", follow_redirects=True)
    assert removed.status_code == 200 and 'Recipient "Anna" removed' in html.unescape(removed.text)
    assert "Backups written before still open with its key" in removed.text
    assert BackupRecipient.select().count() == 0
    assert admin_client.post(f"/settings/backups/recipients/{row.id}/remove").status_code == 404


def test_the_page_shows_what_is_wrong_with_a_key_and_keeps_what_was_typed(admin_client):
    answer = admin_client.post("/settings/backups/recipients", data={"name": "Anna", "recipient": "ssh-rsa nope"})
    assert answer.status_code == 422
    assert (
        'aria-invalid="true"' in answer.text
        and "is not a valid ssh-rsa public key (damaged or cut short)" in answer.text
    )
    assert "ssh-rsa nope" in answer.text and 'value="Anna"' in answer.text
    make_recipient(name="Anna")
    clash = admin_client.post("/settings/backups/recipients", data={"name": "Anna", "recipient": RECIPIENTS[0]})
    assert clash.status_code == 409 and "already exists" in clash.text
    assert BackupRecipient.select().count() == 1


def test_a_recipient_of_the_admins_stands_in_for_the_kit_in_the_warning(api, admin_client):
    api.patch("/api/settings", json={"backup_encrypt": "all"})
    assert "Download the emergency kit and keep it off this server" in admin_client.get("/settings/backups").text
    make_recipient(name="Anna", recipient=RECIPIENTS[1])
    page = admin_client.get("/settings/backups").text
    assert "Download the emergency kit and keep it off this server" not in page
    assert api.get("/api/backups/key").get_json()["recipients"] == 1


def test_the_terminal_lists_adds_and_removes_recipients(app, runner):
    assert "No recipients" in runner.invoke(args=["backup", "recipients", "list"]).output
    added = runner.invoke(args=["backup", "recipients", "add", "Anna", RECIPIENTS[1]])
    assert added.exit_code == 0 and 'Added "Anna" (SSH Ed25519)' in added.output
    listed = runner.invoke(args=["backup", "recipients", "list"]).output
    assert listed == f"Anna\tSSH Ed25519\t{RECIPIENTS[1]}\n"
    bad = runner.invoke(args=["backup", "recipients", "add", "Bad", "age1nope"])
    assert bad.exit_code == 1 and "recipient is not a public key" in bad.output
    missing = runner.invoke(args=["backup", "recipients", "remove", "Nobody"])
    assert missing.exit_code == 1 and 'there is no recipient named "Nobody" (recipients: Anna)' in missing.output
    removed = runner.invoke(args=["backup", "recipients", "remove", "Anna"])
    assert removed.exit_code == 0 and BackupRecipient.select().count() == 0

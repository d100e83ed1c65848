"""The age envelope and the server key (SPEC §13), against Debian's ``age`` CLI: files made here open with
``age -d -i kit.txt``, files the CLI encrypts (to the server recipient, to an SSH key, with a passphrase)
open here, and every broken or mismatched file is a clear BackupError."""

import datetime as dt
import os
import pty
import shutil
import stat
import subprocess
import time

import pytest
from pyrage import x25519

from vibenvr.backups import keys
from vibenvr.backups.document import envelope
from vibenvr.backups.document.canonical import encode
from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.backups.errors import BackupError

from .helpers import HOSTILE, PHRASE
from builders import make_camera

AGE = shutil.which("age")
needs_age = pytest.mark.skipif(AGE is None, reason="Debian's age CLI is missing: make test installs it as root")
NOW = dt.datetime(2026, 12, 2, 12, 0, 0)


@pytest.fixture
def backup(app):
    make_camera(name="Porch")
    return encode(export_document(now=NOW))


@pytest.fixture
def identity(tmp_path):
    return keys.server_identity(tmp_path, NOW)


def age(*args, data=None):
    done = subprocess.run([AGE, *args], input=data, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def age_with_passphrase(args, phrase, data):
    """Run ``age -p`` (or ``age -d`` of a passphrase file) with the passphrase typed at a real terminal:
    age reads it from /dev/tty, never from stdin or argv."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: age with the pty as its terminal
        os.execv(AGE, [AGE, *args])  # noqa: S606 - age, from PATH, with fixed arguments
    typed = 0
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        prompts = output.lower().count(b"passphrase")
        while typed < prompts:
            os.write(fd, phrase.encode() + b"\n")
            typed += 1
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, output.decode(errors="replace")


# --- the server key -----------------------------------------------------------------------------------


def test_the_key_is_made_once_private_and_in_age_keygen_format(tmp_path):
    first = keys.server_identity(tmp_path, NOW)
    second = keys.server_identity(tmp_path, NOW)
    assert str(first) == str(second) and str(first.to_public()).startswith("age1")
    path = tmp_path / keys.KEY_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert f"# public key: {first.to_public()}" in text and text.strip().endswith(str(first))


def test_a_damaged_key_file_is_a_clear_problem_not_a_new_key(tmp_path):
    (tmp_path / keys.KEY_NAME).write_text("not a key\n")
    with pytest.raises(keys.KeyProblem, match="holds no valid age identity"):
        keys.server_identity(tmp_path, NOW)
    assert (tmp_path / keys.KEY_NAME).read_text() == "not a key\n"


def test_the_kit_says_how_to_use_it_and_the_mark_holds_no_key(tmp_path, identity):
    kit = keys.kit_text(identity, "Home NVR", NOW)
    assert str(identity) in kit and str(identity.to_public()) in kit and "Home NVR" in kit
    assert keys.OPEN_COMMAND in kit and "OFF the server" in kit
    assert keys.kit_downloaded(tmp_path) is None
    keys.mark_kit_downloaded(tmp_path, NOW, "admin")
    assert keys.kit_downloaded(tmp_path) == {"downloaded_at": "2026-12-02T12:00:00Z", "by": "admin"}
    assert "AGE-SECRET" not in (tmp_path / keys.KIT_MARK_NAME).read_text()


# --- interoperability with the age CLI -------------------------------------------------------------------


@needs_age
def test_a_backup_encrypted_here_opens_with_age_and_the_kit(tmp_path, backup, identity):
    other = x25519.Identity.generate()
    sealed = envelope.encrypt(backup, [identity.to_public(), other.to_public()])
    (tmp_path / "b.json.age").write_bytes(sealed)
    (tmp_path / "kit.txt").write_text(keys.kit_text(identity, "Home NVR", NOW))
    opened = age("-d", "-i", str(tmp_path / "kit.txt"), str(tmp_path / "b.json.age"))
    assert opened == backup
    assert validate_document(opened).counts["cameras"] == 1  # the checksum verifies
    (tmp_path / "laptop.txt").write_text(f"{other}\n")
    assert age("-d", "-i", str(tmp_path / "laptop.txt"), str(tmp_path / "b.json.age")) == backup


@needs_age
def test_a_file_the_cli_encrypts_to_the_server_recipient_opens_here(backup, identity):
    sealed = age("-r", str(identity.to_public()), data=backup)
    assert envelope.decrypt(sealed, [identity]) == backup


@needs_age
def test_a_file_the_cli_encrypts_to_an_ssh_key_opens_with_that_key(tmp_path, backup):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "id")], check=True, timeout=60)
    public = (tmp_path / "id.pub").read_text()
    text, _recipient = envelope.parse_recipient(public)
    assert text.startswith("ssh-ed25519 ")
    sealed = age("-R", str(tmp_path / "id.pub"), data=backup)
    assert envelope.decrypt(sealed, envelope.parse_identity((tmp_path / "id").read_text())) == backup
    mine = envelope.encrypt(backup, [envelope.parse_recipient(public)[1]])
    (tmp_path / "mine.age").write_bytes(mine)
    assert age("-d", "-i", str(tmp_path / "id"), str(tmp_path / "mine.age")) == backup


@needs_age
def test_passphrase_files_open_both_ways(tmp_path, backup):
    (tmp_path / "plain.json").write_bytes(backup)
    age_with_passphrase(["-p", "-o", str(tmp_path / "cli.json.age"), str(tmp_path / "plain.json")], PHRASE, backup)
    assert envelope.decrypt((tmp_path / "cli.json.age").read_bytes(), phrase=PHRASE) == backup
    (tmp_path / "here.json.age").write_bytes(envelope.encrypt_with_passphrase(backup, PHRASE))
    age_with_passphrase(["-d", "-o", str(tmp_path / "out.json"), str(tmp_path / "here.json.age")], PHRASE, backup)
    assert (tmp_path / "out.json").read_bytes() == backup


# --- every broken or mismatched file: its own clear message ----------------------------------------------


@pytest.mark.parametrize(("make", "given", "expected"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_each_broken_file_gets_its_own_clear_error(backup, identity, make, given, expected):
    data = make(backup, identity)
    identities = [identity] if given.get("identities") else []
    with pytest.raises(BackupError) as caught:
        envelope.decrypt(data, identities, phrase=given.get("phrase"), source="garage.json.age")
    message = caught.value.errors[0]
    assert caught.value.status == 422 and expected in message and message.startswith("garage.json.age")
    assert str(identity) not in message and PHRASE not in message


def test_a_valid_age_file_whose_plaintext_is_no_backup_is_refused_by_validation(identity):
    opened = envelope.decrypt(envelope.encrypt(b"hello, not a backup", [identity.to_public()]), [identity])
    with pytest.raises(BackupError):
        validate_document(opened)


@pytest.mark.parametrize("text", ["age1qqqq", "ssh-ed25519 AAAAnot", "ssh-dss AAAAB3Nza", "", "hello", 42])
def test_malformed_recipients_are_refused_naming_the_field(text):
    with pytest.raises(ValueError, match="^recipient "):
        envelope.parse_recipient(text)


def test_identities_come_from_a_kit_or_a_key_file_and_nothing_else(identity):
    kit = keys.kit_text(identity, "x", NOW)
    assert [str(i) for i in envelope.parse_identity(kit)] == [str(identity)]
    with pytest.raises(BackupError, match="holds no age identity"):
        envelope.parse_identity("just some text")


def test_passphrases_have_a_minimum_length(backup):
    with pytest.raises(ValueError, match="at least 12"):
        envelope.encrypt_with_passphrase(backup, "short")

"""Files in the backup folder that are not usable backups (SPEC §12): FIFOs, sockets, devices, folders and
links are listed as unusable and never opened; names the API cannot address are listed with a name to
rename to; temporaries and files that are not .json stay out of the list."""

import contextlib
import json
import os
import socket
import stat
import threading

import pytest

from vibenvr.backups import service
from vibenvr.backups.document.canonical import encode
from vibenvr.backups.document.export import export_document
from vibenvr.backups.errors import BackupNotFound, InvalidBackupName, UnusableBackup
from vibenvr.backups.names import suggest_name
from vibenvr.backups.store import BackupStore

from .helpers import build_rich_config, snapshot

NAME = "vibe_backup_manual_20261129_224000.json"


def folder_of(app):
    folder = app.config["BACKUP_DIR"]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class WaitingWriter:
    """A writer blocked opening the FIFO: it gets through only if somebody opens the FIFO to read it.

    So ``opened`` proves whether anything in the app opened the FIFO at all (even non-blocking).
    """

    def __init__(self, path):
        self.path = path
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._open, daemon=True)
        self.thread.start()

    def _open(self):
        fd = os.open(self.path, os.O_WRONLY)  # blocks until a reader opens the other end
        self.opened.set()
        os.close(fd)

    def release(self):
        if not self.opened.is_set():
            reader = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            self.thread.join(5)
            os.close(reader)
        assert not self.thread.is_alive()


@pytest.fixture
def fifo(app):
    """``<backups>/vibe_backup_manual_….json`` as a FIFO, with a writer waiting for a reader."""
    path = folder_of(app) / NAME
    os.mkfifo(path, 0o600)
    writer = WaitingWriter(path)
    yield writer
    writer.release()


def _socket(path):
    with contextlib.chdir(path.parent):  # a socket path is limited to 108 bytes: bind the short name
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(path.name)
    return sock


def _device(path):
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # what /dev/null is
    except PermissionError:
        pytest.skip("making a device node needs root")


NOT_REGULAR = {
    "a FIFO": (lambda path: os.mkfifo(path), "a named pipe (FIFO), not a regular file — never read"),
    "a socket": (_socket, "a socket, not a regular file — never read"),
    "a device": (_device, "a character device, not a regular file — never read"),
    "a folder": (lambda path: path.mkdir(), "a folder, not a regular file — never read"),
    "a symbolic link": (lambda path: os.symlink("/etc/passwd", path), "a symbolic link, never followed"),
}


@pytest.mark.parametrize("case", NOT_REGULAR)
def test_non_regular_files_are_listed_unusable_with_why_and_never_as_backups(app, api, store, case):
    make, why = NOT_REGULAR[case]
    path = folder_of(app) / "vibe_backup_auto_20261129_224000.json"
    made = make(path)
    store.write_bytes(b"{}", "manual")
    rows = {row["name"]: row for row in api.get("/api/backups").get_json()["backups"]}
    row, good = rows[path.name], rows[NAME]
    assert row["name"] == path.name and row["kind"] == "other" and row["size_bytes"] == 0
    assert row["unusable"].startswith(why) and "rename_to" not in row
    assert good == {"name": NAME, "kind": "manual", "created_at": "2026-11-29T22:40:00Z", "size_bytes": 2}
    assert [e.name for e in store.list()] == [NAME]  # what retention, startup
    if made is not None:  # protection and the sanity fallback see: no unusable file
        made.close()


def test_download_restore_preview_and_delete_of_a_fifo_answer_422_and_never_open_it(app, api, admin_client, fifo):
    answers = [
        api.get(f"/api/backups/{NAME}"),
        api.post(f"/api/backups/{NAME}/restore"),
        api.delete(f"/api/backups/{NAME}"),
        admin_client.get(f"/settings/backups/{NAME}/download"),
        admin_client.get(f"/settings/backups/{NAME}/restore"),
        admin_client.post(f"/settings/backups/{NAME}/restore"),
        admin_client.get(f"/settings/backups/{NAME}/delete"),
    ]
    assert [a.status_code for a in answers] == [422] * len(answers)
    message = answers[0].get_json()["error"]
    assert message == (
        f"{NAME} is a named pipe (FIFO), not a backup file: only regular files are read. "
        f"Remove it from {app.config['BACKUP_DIR']}."
    )
    assert all("named pipe (FIFO)" in a.text for a in answers)
    assert not fifo.opened.is_set(), "something opened the FIFO"
    assert stat.S_ISFIFO(os.lstat(fifo.path).st_mode)  # and nothing deleted it


def test_the_store_never_opens_a_fifo(app, fifo):
    store = BackupStore(app.config["BACKUP_DIR"])
    for action in (store.read_bytes, store.entry, store.delete):
        with pytest.raises(UnusableBackup, match="named pipe"):
            action(NAME)
    [entry] = store.list(unusable=True)
    assert entry.unusable.startswith("a named pipe (FIFO)") and not entry.is_automatic
    assert not fifo.opened.is_set()


def test_the_terminal_refuses_a_fifo_by_name_or_by_path_and_never_opens_it(app, runner, clock, fifo, tmp_path):
    outside = tmp_path / "pipe.json"
    os.mkfifo(outside)
    outside_writer = WaitingWriter(outside)
    try:
        for args in (
            ["verify", NAME],
            ["restore", NAME, "--yes"],
            ["delete", NAME],
            ["verify", str(outside)],
            ["restore", str(outside), "--yes"],
        ):
            result = runner.invoke(args=["backup", *args])
            assert result.exit_code == 1, (args, result.output)
            assert "named pipe (FIFO), not a backup file" in result.output and "Traceback" not in result.output
        assert not fifo.opened.is_set() and not outside_writer.opened.is_set()
    finally:
        outside_writer.release()


def test_a_fifo_named_as_an_automatic_backup_is_ignored_by_retention_and_startup_protection(app, ctx, clock):
    from vibenvr.backups.automation.rules import newest_valid_auto
    from vibenvr.settings.service import update_settings

    path = folder_of(app) / "vibe_backup_auto_20300101_000000.json"  # newest by its name
    os.mkfifo(path)
    writer = WaitingWriter(path)
    try:
        update_settings({"backup_auto_retention": 1})
        first = service.create_backup("auto")
        clock.advance(seconds=1)
        second = service.create_backup("auto")
        assert newest_valid_auto(service.get_store()) == (second.name, clock())
        assert [e.name for e in service.get_store().list()] == [second.name]  # retention kept one real backup
        assert not (app.config["BACKUP_DIR"] / first.name).exists() and stat.S_ISFIFO(os.lstat(path).st_mode)
        assert not writer.opened.is_set()
    finally:
        writer.release()


UNUSABLE_NAMES = {
    "backup (1).json": "backup_1.json",  # what a browser names a second download
    "my backup.json": "my_backup.json",
    "Sauvegarde d’été.json": "Sauvegarde_d_ete.json",
    "a..b.json": "a.b.json",  # the pattern allows it, but '..' is refused as traversal
    ".hidden.json": "hidden.json",
    "backup.JSON": "backup.json",
    "(((.json": "backup.json",
    "x" * 230 + ".json": "x" * 190 + ".json",
    "new\nline.json": "new_line.json",
}


@pytest.mark.parametrize("name", UNUSABLE_NAMES, ids=[n[:30].replace("\n", "\\n") for n in UNUSABLE_NAMES])
def test_a_file_with_a_name_the_api_cannot_address_is_listed_with_a_name_to_rename_to(app, api, name):
    (folder_of(app) / name).write_bytes(b"{}")
    [row] = api.get("/api/backups").get_json()["backups"]
    hint = UNUSABLE_NAMES[name]
    assert row["name"] == name.replace("\n", "\\n") and row["kind"] == "other" and row["size_bytes"] == 2
    assert row["rename_to"] == hint
    assert row["unusable"] == (
        f"unusable name — rename to restore, e.g. to {hint} (letters, digits, '.', '_' and '-', ending in .json)"
    )
    assert api.get(f"/api/backups/{hint}").status_code == 404  # the hint is a free, addressable name


def test_a_name_that_is_not_utf_8_is_shown_safely_in_valid_json(app, api, runner, clock):
    os.close(os.open(os.fsencode(folder_of(app)) + b"/backup \xff.json", os.O_CREAT | os.O_WRONLY, 0o600))
    response = api.get("/api/backups")
    [row] = json.loads(response.data.decode("utf-8"))["backups"]
    row["name"].encode("utf-8")  # no lone surrogate in the answer (it would not encode)
    assert row["name"] == "backup \ufffd.json" and row["rename_to"] == "backup.json"
    result = runner.invoke(args=["backup", "list"])
    assert result.exit_code == 0 and "backup \ufffd.json  unusable" in result.output


def test_the_suggested_name_never_is_one_that_exists():
    assert suggest_name("backup (1).json", {"backup_1.json", "backup_1_2.json"}) == "backup_1_3.json"


def test_an_encrypted_file_is_listed_as_an_encrypted_backup_without_opening_it(app, api):
    (folder_of(app) / "vibe_backup_auto_20261129_224000.json.age").write_bytes(b"age-encryption.org/v1\n")
    [row] = api.get("/api/backups").get_json()["backups"]
    assert row["encrypted"] is True and row["kind"] == "auto" and "unusable" not in row
    answer = api.post("/api/backups/vibe_backup_auto_20261129_224000.json.age/restore", json={})
    assert answer.status_code == 422 and "age header" in answer.get_json()["error"]  # opened only to restore


@pytest.mark.parametrize(
    "name", ["notes.txt", ".vibe-tmp-0123456789abcdef", ".vibe-tmp-x.json", "backup.json.bak", "backup.json~", "README"]
)
def test_temporaries_and_files_that_are_not_json_stay_out_of_the_list(app, api, name):
    (folder_of(app) / name).write_bytes(b"{}")
    assert api.get("/api/backups").get_json() == {"backups": []}


def test_renaming_as_suggested_makes_the_file_a_backup_that_restores(app, api, clock):
    build_rich_config()
    with app.app_context():
        data = encode(export_document("manual"))
        before = snapshot()
    folder = folder_of(app)
    (folder / "backup (1).json").write_bytes(data)
    [row] = api.get("/api/backups").get_json()["backups"]
    (folder / "backup (1).json").rename(folder / row["rename_to"])
    [row] = api.get("/api/backups").get_json()["backups"]
    assert row == {"name": "backup_1.json", "kind": "other", "created_at": row["created_at"], "size_bytes": len(data)}
    assert api.post("/api/backups/backup_1.json/restore").status_code == 200
    with app.app_context():
        assert snapshot() == before


def test_the_terminal_lists_unusable_files_with_why(app, runner, store):
    folder = folder_of(app)
    (folder / "backup (1).json").write_bytes(b"{}")
    os.mkfifo(folder / "pipe.json")
    store.write_bytes(b"{}", "manual")
    lines = runner.invoke(args=["backup", "list"]).output.splitlines()
    assert len(lines) == 3
    [named] = [line for line in lines if line.startswith("backup (1).json")]
    assert "  unusable  " in named and named.endswith(
        "unusable name — rename to restore, e.g. to backup_1.json (letters, digits, '.', '_' and '-', ending in .json)"
    )
    [pipe] = [line for line in lines if line.startswith("pipe.json")]
    assert "a named pipe (FIFO), not a regular file — never read" in pipe
    [good] = [line for line in lines if line.startswith(NAME)]
    assert "  manual  " in good and "unusable" not in good
    listed = json.loads(runner.invoke(args=["backup", "list", "--json"]).output)["backups"]
    assert {row["name"]: "unusable" in row for row in listed} == {
        "backup (1).json": True,
        "pipe.json": True,
        NAME: False,
    }


def test_odd_names_in_requests_are_still_400_and_symbolic_links_still_400(app, api):
    folder = folder_of(app)
    (folder / "backup (1).json").write_bytes(b"{}")
    os.symlink("/etc/passwd", folder / "link.json")
    assert api.get("/api/backups/backup%20(1).json").status_code == 400
    assert api.get("/api/backups/link.json").status_code == 400
    with pytest.raises(InvalidBackupName):
        BackupStore(folder).read_bytes("link.json")
    with pytest.raises(BackupNotFound):
        BackupStore(folder).read_bytes("missing.json")

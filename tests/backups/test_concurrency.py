"""Concurrent backups and restores are serialised by the data folder's lock; files and database stay whole."""

import contextlib
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from vibenvr.backups import service
from vibenvr.backups.document.canonical import SECTIONS, encode
from vibenvr.backups.document.export import export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.backups.locking import backup_lock
from vibenvr.db import db

from .helpers import build_rich_config, recount
from builders import make_token

ROOT = Path(__file__).resolve().parents[2]


def _config(doc):
    """The sections, less usage stamps that the concurrent requests themselves move."""
    state = {key: doc[key] for key in SECTIONS}
    for token in state["api_tokens"]:
        token["last_used_at"] = None
    return json.loads(json.dumps(state))


@pytest.fixture
def lock_log(monkeypatch):
    """Records who holds the real backup lock, to prove that holders never overlap."""
    events = []
    real = service.backup_lock

    @contextlib.contextmanager
    def recording(data_dir, blocking=True):
        with real(data_dir, blocking):
            events.append((threading.get_ident(), "enter"))
            try:
                yield
            finally:
                events.append((threading.get_ident(), "exit"))

    monkeypatch.setattr(service, "backup_lock", recording)
    return events


def _assert_serialised(events):
    holder, depth = None, 0
    for thread, kind in events:
        assert depth == 0 or thread == holder, "two threads held the backup lock at once"
        holder = thread
        depth += 1 if kind == "enter" else -1
    assert depth == 0


def test_ten_creates_and_a_restore_at_once_leave_consistent_files_and_database(app, admin, clock, lock_log):
    build_rich_config()
    tokens = [make_token(admin, name=f"worker {i}") for i in range(11)]
    before = export_document()
    target = json.loads(encode(before))
    target["settings"]["system_name"] = "Restored at once"
    target["cameras"] = target["cameras"][1:]
    target["associations"] = [a for a in target["associations"] if a["camera_id"] != before["cameras"][0]["id"]]
    for user in target["users"]:
        user["allowed_camera_ids"] = [i for i in user["allowed_camera_ids"] if i != before["cameras"][0]["id"]]
    target.pop("checksum")
    body = encode(recount(target))
    barrier = threading.Barrier(11)
    answers = [None] * 11

    def call(index):
        client = app.test_client()
        headers = {"Authorization": f"Bearer {tokens[index]}"}
        barrier.wait()
        try:
            if index == 5:
                answers[index] = client.post("/api/config/restore", data=body, headers=headers)
            else:
                answers[index] = client.post("/api/backups", headers=headers)
        finally:
            if not db.is_closed():
                db.close()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(11)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [a.status_code for a in answers] == [201] * 5 + [200] + [201] * 5, answers[5].get_json()
    files = sorted(app.config["BACKUP_DIR"].iterdir())
    assert len(files) == 11 and len({f.name for f in files}) == 11
    states = {"before": _config(before), "after": _config(validate_document(body).doc)}
    for path in files:
        valid = validate_document(path.read_bytes())
        state = _config(valid.doc)
        assert state in states.values(), f"{path.name} mixes the configuration before and after the restore"
        if valid.kind == "safety":
            assert state == states["before"]
    assert _config(export_document()) == states["after"]
    assert len({thread for thread, _ in lock_log}) == 11
    _assert_serialised(lock_log)


HOLDER = """
import sys
sys.path.insert(0, sys.argv[1])
from vibenvr.backups.locking import backup_lock
with backup_lock(sys.argv[2]):
    print("locked", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


def test_the_lock_works_across_processes(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(ROOT), str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(BlockingIOError), backup_lock(tmp_path, blocking=False):
            pass
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "released"
        with backup_lock(tmp_path, blocking=False):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_is_reentrant_in_a_thread_and_exclusive_between_threads(tmp_path):
    outcome = []
    with backup_lock(tmp_path), backup_lock(tmp_path):

        def other():
            try:
                with backup_lock(tmp_path, blocking=False):
                    outcome.append("acquired")
            except BlockingIOError:
                outcome.append("blocked")

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert outcome == ["blocked"]
    with backup_lock(tmp_path, blocking=False):
        pass

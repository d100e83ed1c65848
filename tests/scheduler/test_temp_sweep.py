"""Temporary files left by a crashed write (SPEC §12): swept at start-up by the scheduler-lock holder, and by
a later backup once they are five minutes old; a write in progress keeps its temporary."""

import contextlib
import datetime as dt
import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from vibenvr.backups import service
from vibenvr.backups.automation import scheduler as scheduler_module
from vibenvr.backups.automation.scheduler import sweep_temporaries
from vibenvr.backups.locking import LOCK_NAME, FolderLock
from vibenvr.backups.names import TEMP_PREFIX
from vibenvr.backups.store import BackupStore

from conftest import make_app

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""
WRITER = """
import sys
sys.path.insert(0, sys.argv[1])
from vibenvr.backups.store import BackupStore
store = BackupStore(sys.argv[2])
data = open(sys.argv[3], "rb").read()
print("ready", flush=True)
while True:
    print(store.write_bytes(data, "manual").name, flush=True)
"""


def temporaries(folder):
    return sorted(p.name for p in Path(folder).glob(f"{TEMP_PREFIX}*"))


def digests(folder):
    return {
        e.name: hashlib.sha256((Path(folder) / e.name).read_bytes()).hexdigest() for e in BackupStore(folder).list()
    }


def _temp(folder, name, age=None, clock=None):
    """A temporary file as a write leaves it; ``age`` before ``clock()`` as its mtime (else now)."""
    path = Path(folder) / f"{TEMP_PREFIX}{name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'{"partial": ')
    if age is not None:
        stamp = (clock() - age).replace(tzinfo=dt.UTC).timestamp()
        os.utime(path, (stamp, stamp))
    return path


def _kill_mid_write(folder, payload, rng):
    """Start a bare writer and SIGKILL it somewhere inside a write; True when it left a temporary."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(ROOT), str(folder), str(payload)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=rng.uniform(0, 0.05))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    return bool(temporaries(folder))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(what, log, server, timeout=60):
    deadline = time.monotonic() + timeout
    while not what(log.read_text()):
        assert server.poll() is None, f"gunicorn exited:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"timed out waiting:\n{log.read_text()}"
        time.sleep(0.1)  # bounded polling of a real server, not a sleep standing in for a clock
    return log.read_text()


@pytest.mark.slow
def test_a_temporary_left_by_a_writer_killed_mid_write_is_swept_when_the_server_starts(tmp_path):
    data_dir = tmp_path / "data"
    app = make_app(data_dir)
    folder = app.config["BACKUP_DIR"]
    BackupStore(folder).write_bytes(b'{"earlier": true}', "auto")
    payload = tmp_path / "payload.json"
    payload.write_bytes(b'{"big": "' + os.urandom(1024 * 1024).hex().encode() + b'"}')  # ~2 MB, as in the finding
    rng = random.Random(20261129)
    assert any(_kill_mid_write(folder, payload, rng) for _attempt in range(40)), "no kill landed inside a write"
    left, kept = temporaries(folder), digests(folder)

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "WERKZEUG_", "VIBENVR_"))}
    env.update(VIBENVR_DATA_DIR=str(data_dir), VIBENVR_SCHEDULER="on", PYTHONUNBUFFERED="1")
    if os.environ.get("TEST_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [GUNICORN, "--workers", "2", "--bind", f"127.0.0.1:{port}", "--no-control-socket", "app:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        text = _wait_for(lambda t: "left in" in t and "by an interrupted backup" in t, log, server)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
    assert f"removed {len(left)} temporary file(s) left in {folder} by an interrupted backup" in text
    assert temporaries(folder) == []
    after = digests(folder)
    assert {name: after.get(name) for name in kept} == kept  # every finished backup intact, the writer's included


def test_the_scheduler_lock_holder_sweeps_every_temporary_first_and_a_waiting_process_none(app, clock):
    folder = app.config["BACKUP_DIR"]
    finished = BackupStore(folder, clock=clock).write_bytes(b"{}", "manual").name
    _temp(folder, "0123456789abcdef")  # seconds old: the crash happened just before this restart
    other_process = FolderLock(Path(app.config["DATA_DIR"]) / scheduler_module.LOCK_NAME)
    assert other_process.acquire()
    app.config.update(SCHEDULER_ENABLED=True, SCHEDULER_IN_TESTS=True)
    scheduler = scheduler_module.init_app(app)
    try:
        assert scheduler.attempted.wait(10) and not scheduler.leading.is_set()
        assert temporaries(folder) == [f"{TEMP_PREFIX}0123456789abcdef"]  # only the holder sweeps
        other_process.release()
        scheduler.wake()
        assert scheduler.leading.wait(10)
        assert temporaries(folder) == []
        assert [e.name for e in BackupStore(folder).list()] == [finished]
    finally:
        scheduler.stop()
        other_process.release()


def test_the_start_up_sweep_leaves_the_temporary_of_a_write_in_progress_alone(app, tmp_path):
    folder = app.config["BACKUP_DIR"]
    writing = _temp(folder, "fedcba9876543210")
    writer = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(Path(app.config["DATA_DIR"]) / LOCK_NAME)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )  # holds the backup lock, as a write does
    try:
        assert writer.stdout.readline() == b"locked\n"
        swept = []
        sweeper = threading.Thread(target=lambda: swept.extend(sweep_temporaries(app)))
        sweeper.start()
        sweeper.join(0.5)
        assert sweeper.is_alive() and writing.exists()  # it waits for the write to finish
        writing.unlink()  # the write ends: its temporary is linked into place and removed, the lock released
    finally:
        writer.stdin.close()
        writer.wait(10)
    sweeper.join(10)
    assert not sweeper.is_alive() and swept == []


def test_a_backup_sweeps_temporaries_older_than_five_minutes_and_keeps_younger_ones(app, clock):
    folder = app.config["BACKUP_DIR"]
    _temp(folder, "old", dt.timedelta(minutes=5, seconds=1), clock)
    _temp(folder, "young", dt.timedelta(minutes=4, seconds=59), clock)  # may be another process's write
    with app.app_context():
        service.create_backup("manual")
    assert temporaries(folder) == [f"{TEMP_PREFIX}young"]


def test_the_sweep_never_touches_finished_backups_or_other_files(app, clock):
    folder = app.config["BACKUP_DIR"]
    store = BackupStore(folder, clock=clock)
    finished = store.write_bytes(b"{}", "manual").name
    (folder / "notes.txt").write_bytes(b"mine")
    (folder / f"{TEMP_PREFIX}dir").mkdir()
    _temp(folder, "stale")
    assert sweep_temporaries(app) == [f"{TEMP_PREFIX}stale"]
    assert sorted(p.name for p in folder.iterdir()) == [f"{TEMP_PREFIX}dir", "notes.txt", finished]

"""One scheduler per data folder: a non-blocking fcntl lock decides, and a dead holder hands over."""

import logging
import subprocess
import sys
import textwrap

from vibenvr.backups.automation import scheduler as scheduler_module
from vibenvr.backups.locking import FolderLock
from vibenvr.db import db
from vibenvr.settings.service import update_settings
from vibenvr.timeutil import iso

from .conftest import T0, names, status
from conftest import make_app

HOLD = textwrap.dedent("""
    import fcntl, os, sys
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"%d\\n" % os.getpid())
    print("locked", flush=True)
    sys.stdin.read()
""")


def test_the_lock_is_exclusive_and_released(tmp_path):
    first, second = FolderLock(tmp_path / "scheduler.lock"), FolderLock(tmp_path / "scheduler.lock")
    assert first.acquire() and first.acquire()  # taking it again is harmless
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_a_dead_holder_hands_the_lock_over(tmp_path):
    path = tmp_path / "scheduler.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"locked\n"
        lock = FolderLock(path)
        assert not lock.acquire()
        assert lock.holder_pid() == holder.pid
    finally:
        holder.kill()  # SIGKILL: no clean-up code runs, the kernel drops the lock
        holder.wait()
    assert lock.acquire()
    assert lock.holder_pid() is not None
    lock.release()


def test_two_app_instances_on_one_data_folder_make_one_scheduler(tmp_path, clock):
    data = tmp_path / "data"
    apps = [make_app(data, CLOCK=clock), make_app(data, CLOCK=clock)]
    with apps[0].app_context(), db.connection_context():
        update_settings({"backup_auto_enabled": True})
    schedulers = []
    try:
        for app in apps:  # as create_app does at boot, with a test asking for the thread
            app.config.update(SCHEDULER_ENABLED=True, SCHEDULER_IN_TESTS=True)
            schedulers.append(scheduler_module.init_app(app))
        for scheduler in schedulers:
            assert scheduler.attempted.wait(10)
        holders = [s for s in schedulers if s.leading.is_set()]
        assert len(holders) == 1
        holder, other = holders[0], next(s for s in schedulers if s is not holders[0])
        assert holder.wait_for_ticks(1)
        assert names(apps[0]) == ["vibe_backup_auto_20261129_120000.json"]

        clock.advance(hours=1)
        holder.stop()  # releases the lock, as a process exit does
        other.wake()  # instead of waiting for its next retry (within 30 s)
        assert other.leading.wait(10)
        assert other.wait_for_ticks(1)
        assert names(apps[0]) == ["vibe_backup_auto_20261129_120000.json"]  # startup protection at takeover
        assert status(apps[0])["next_run"] == iso(T0.replace(day=30))
    finally:
        for scheduler in schedulers:
            scheduler.stop()


def test_a_lock_that_cannot_be_opened_is_reported_once_and_retried(app, start_scheduler, caplog):
    path = app.config["DATA_DIR"] / "scheduler.lock"
    path.mkdir()  # not a file: opening it fails, even as root
    with caplog.at_level(logging.INFO, logger="vibenvr.backups.scheduler"):
        scheduler = start_scheduler()
        assert scheduler.attempted.wait(10)
        scheduler.attempted.clear()
        scheduler.wake()
        assert scheduler.attempted.wait(10)  # tried again
        assert not scheduler.leading.is_set() and scheduler.running
        path.rmdir()
        scheduler.wake()
        assert scheduler.leading.wait(10)
    assert caplog.text.count("automatic backups cannot start: the lock") == 1

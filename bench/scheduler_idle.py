"""Idle cost of the automatic-backup scheduler: CPU seconds its threads use over a minute of waiting.

Two app instances share one fresh data folder, as two gunicorn workers do: one holds the lock (it
reads the change mark every second and re-reads the settings every minute), the other retries the lock
every 30 seconds. Automatic backups are on and the startup backup is done before the measurement
starts, so the minute measured is idle.

    .venv/bin/python bench/scheduler_idle.py [--seconds 61]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vibenvr import create_app
from vibenvr.backups.automation import scheduler as scheduler_module
from vibenvr.db import db
from vibenvr.settings.service import update_settings


def thread_cpu(thread):
    """CPU seconds a thread of this process has used (its POSIX CPU-time clock, to the nanosecond)."""
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=61.0)  # a minute and its settings check
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="vibenvr-idle-")) / "data"
    config = {"DATA_DIR": data, "SECRET_KEY": "bench", "TESTING": True, "SCHEDULER_ENABLED": False}
    apps = [create_app(config), create_app(config)]
    with apps[0].app_context(), db.connection_context():
        update_settings({"backup_auto_enabled": True})
    schedulers = []
    for app in apps:
        app.config.update(SCHEDULER_ENABLED=True, SCHEDULER_IN_TESTS=True)
        schedulers.append(scheduler_module.init_app(app))
    for scheduler in schedulers:
        scheduler.attempted.wait(30)
    holder = next(s for s in schedulers if s.leading.is_set())
    waiter = next(s for s in schedulers if s is not holder)
    holder.wait_for_ticks(1)  # the startup backup is written

    ids = {"holder": holder.thread, "waiting": waiter.thread}
    before = {name: thread_cpu(thread) for name, thread in ids.items()}
    ticks_before, process_before, wall_before = holder.ticks, time.process_time(), time.monotonic()
    time.sleep(args.seconds)
    wall = time.monotonic() - wall_before
    used = {name: thread_cpu(thread) - before[name] for name, thread in ids.items()}
    process = time.process_time() - process_before
    for scheduler in schedulers:
        scheduler.stop()

    print(f"wall time                  {wall:8.2f} s")
    print(f"holder thread CPU          {used['holder']:8.4f} s  ({holder.ticks - ticks_before} settings checks)")
    print(f"waiting thread CPU         {used['waiting']:8.4f} s")
    print(f"whole process CPU          {process:8.4f} s  (main thread asleep)")
    print(f"holder share of one core   {100 * used['holder'] / wall:8.4f} %")


if __name__ == "__main__":
    main()

"""The real thing: gunicorn with two workers on one data folder makes exactly one startup backup, the
API reports it, and when the worker running the scheduler is killed another takes over without a
second backup. A setting saved through either worker reaches the scheduler within 2 seconds."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from vibenvr.db import db
from vibenvr.settings.service import update_settings

from builders import make_token, make_user
from conftest import make_app

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
STARTED = re.compile(r"backup scheduler started in process (\d+)")
HOLDER = re.compile(r"process (\d+) runs the automatic backups")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prepare(data_dir, enabled=True):
    """A fresh data folder: an admin with an API token, automatic backups on (unless not ``enabled``), no backup yet."""
    app = make_app(data_dir)
    with app.app_context(), db.connection_context():
        token = make_token(make_user("admin", role="admin"), name="real-server test")
        update_settings({"backup_auto_enabled": enabled})
    return app, token


def _wait_for(what, log, server, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text()
        if what(text):
            return text
        assert server.poll() is None, f"gunicorn exited:\n{text}"
        assert time.monotonic() < deadline, f"timed out waiting:\n{text}"
        time.sleep(0.1)  # bounded polling of a real server, not a sleep standing in for a clock


def _get(url, token):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.mark.slow
def test_gunicorn_with_two_workers_makes_exactly_one_startup_backup(tmp_path):
    data_dir = tmp_path / "data"
    app, token = _prepare(data_dir)
    backups = app.config["BACKUP_DIR"]
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "WERKZEUG_", "VIBENVR_"))}
    env.update(VIBENVR_DATA_DIR=str(data_dir), VIBENVR_SCHEDULER="on", PYTHONUNBUFFERED="1")
    if os.environ.get("TEST_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                GUNICORN,
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "20",
                "--no-control-socket",
                "app:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # Both workers have booted, one holds the lock and wrote its backup, the other is waiting.
        text = _wait_for(
            lambda t: (
                len(STARTED.findall(t)) == 2
                and "automatic backup vibe_backup_auto_" in t
                and "automatic backups run in process" in t
            ),
            log,
            server,
        )
        assert len(HOLDER.findall(text)) == 1, text
        holder = int(HOLDER.search(text).group(1))
        files = sorted(p.name for p in backups.iterdir())
        assert len(files) == 1 and files[0].startswith("vibe_backup_auto_"), files

        status = _get(f"http://127.0.0.1:{port}/api/backups/status", token)
        assert status["enabled"] is True and status["frequency_hours"] == 24
        assert status["last_success"]["name"] == files[0]
        assert status["last_failure"] is None
        assert status["next_run"] is not None

        # The holder dies without any clean-up; another worker takes over and finds the recent backup.
        os.kill(holder, signal.SIGKILL)
        text = _wait_for(lambda t: len(set(HOLDER.findall(t))) == 2 and "startup protection" in t, log, server)
        assert sorted(p.name for p in backups.iterdir()) == files, text
        assert _get(f"http://127.0.0.1:{port}/api/backups/status", token) == status
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
    text = log.read_text()
    new_holder = int([pid for pid in HOLDER.findall(text) if int(pid) != holder][0])
    assert f"backup scheduler stopped in process {new_holder}" in text, text  # a clean stop at exit


def _patch(url, token, values):
    body = json.dumps(values).encode()
    request = urllib.request.Request(
        url, data=body, method="PATCH", headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.mark.slow
def test_a_setting_saved_through_either_gunicorn_worker_reaches_the_scheduler_within_two_seconds(tmp_path):
    data_dir = tmp_path / "data"
    _app, token = _prepare(data_dir, enabled=False)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "WERKZEUG_", "VIBENVR_"))}
    env.update(VIBENVR_DATA_DIR=str(data_dir), VIBENVR_SCHEDULER="on", PYTHONUNBUFFERED="1")
    if os.environ.get("TEST_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    log, access = tmp_path / "gunicorn.log", tmp_path / "access.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                GUNICORN,
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--no-control-socket",
                "--access-logfile",
                str(access),
                "--access-logformat",
                "%(p)s %(m)s %(U)s %(s)s",
                "app:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        text = _wait_for(
            lambda t: len(STARTED.findall(t)) == 2 and HOLDER.search(t) and "automatic backups run in process" in t,
            log,
            server,
        )
        holder = int(HOLDER.search(text).group(1))
        served_by = {}  # enabled -> the pids of the workers that saved it
        enabled = False
        for _attempt in range(40):  # the kernel picks the worker; go on until the other one has saved an "on"
            enabled = not enabled
            patches = access.read_text().count("PATCH /api/settings") if access.exists() else 0
            _patch(f"{base}/api/settings", token, {"backup_auto_enabled": enabled})
            saved = time.monotonic()
            while True:  # the status the scheduler writes, read through whichever worker answers
                status = _get(f"{base}/api/backups/status", token)
                if (status["next_run"] is not None) == enabled and status["enabled"] == enabled:
                    break
                assert time.monotonic() - saved < 2.0, f"not seen within 2 s: {status}\n{log.read_text()}"
                time.sleep(0.05)  # polling a real server with a deadline
            assert time.monotonic() - saved < 2.0
            line = _wait_for(lambda t, n=patches: t.count("PATCH /api/settings") > n, access, server)
            pid = int(re.findall(r"<(\d+)> PATCH /api/settings", line)[-1])
            served_by.setdefault(enabled, set()).add(pid)
            if enabled and served_by[True] - {holder}:
                break
        assert served_by[True] - {holder}, f"every PATCH went to the scheduler's worker {holder}: {served_by}"
        assert status["last_success"]["name"].startswith("vibe_backup_auto_")
        autos = [p.name for p in (data_dir / "backups").iterdir() if p.name.startswith("vibe_backup_auto_")]
        assert autos == [status["last_success"]["name"]], autos  # enabling again: startup protection, no second
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)

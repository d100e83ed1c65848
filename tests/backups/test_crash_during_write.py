"""A writer killed with SIGKILL at random moments never leaves a partial backup, and older files survive."""

import contextlib
import hashlib
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from vibenvr.backups.store import BackupStore

ROOT = Path(__file__).resolve().parents[2]
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

pytestmark = pytest.mark.slow


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sigkill_during_writes_never_leaves_a_partial_backup(tmp_path):
    folder = tmp_path / "backups"
    files = BackupStore(folder)
    earlier = [files.write_bytes(b'{"earlier": %d}' % i, kind).name for i, kind in enumerate(("auto", "safety"))]
    earlier_digests = {name: _digest(folder / name) for name in earlier}
    payload = tmp_path / "payload.json"
    payload.write_bytes(b'{"big": "' + os.urandom(3 * 1024 * 1024).hex().encode() + b'"}')
    good = _digest(payload)
    rng = random.Random(20261129)
    completed = interrupted = 0
    for _attempt in range(20):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(ROOT), str(folder), str(payload)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline().strip() == "ready"
        for _ in range(rng.randint(0, 1)):
            proc.stdout.readline()  # let a whole write finish first, sometimes
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=rng.uniform(0, 0.08))  # the kill lands anywhere in the next write
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        for entry in files.list():
            digest = _digest(folder / entry.name)
            if entry.name in earlier_digests:
                assert digest == earlier_digests[entry.name], f"{entry.name} changed"
            else:
                assert digest == good, f"{entry.name} is a partial backup ({entry.size_bytes} bytes)"
                (folder / entry.name).unlink()  # keep the folder small for the next round
                completed += 1
        assert {e.name for e in files.list()} == set(earlier)
        for leftover in folder.glob(".vibe-tmp-*"):  # what a kill mid-write leaves: never listed
            leftover.unlink()
            interrupted += 1
    assert completed >= 1, "no write ever completed: the test did not exercise a finished file"
    assert interrupted >= 1, "no kill landed inside a write: the test did not exercise a crash"

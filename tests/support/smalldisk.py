"""A small tmpfs mounted for one test (root only): a disk that fills up for real."""

import contextlib
import os
import subprocess

import pytest


@contextlib.contextmanager
def small_disk(tmp_path, size="1m", mode=None):
    """Mount a ``size`` tmpfs at ``tmp_path/small-disk`` for the block; skip the test when it cannot be."""
    point = tmp_path / "small-disk"
    point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    options = f"size={size}" + (f",mode={mode}" if mode else "")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)

"""The one durable-write helper: whole files or nothing, private, never a temporary file left behind."""

import errno
import os
import stat

import pytest

from vibenvr import fsutil


def test_atomic_write_replaces_the_file_privately(tmp_path):
    path = tmp_path / "status.json"
    path.write_text("old")
    fsutil.atomic_write(path, '{"new": true}')
    assert path.read_text() == '{"new": true}'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]


def test_a_full_disk_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "status.json"
    path.write_text("old")

    def full(fd, data):
        os.write(fd, bytes(data[:2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fsutil, "write_all", full)
    with pytest.raises(OSError, match="No space"):
        fsutil.atomic_write(path, "new content")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]


def test_create_once_never_replaces(tmp_path):
    path = tmp_path / "secret_key"
    assert fsutil.create_once(path, "first") is True
    assert fsutil.create_once(path, "second") is False
    assert path.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]

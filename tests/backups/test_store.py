"""Backup files on disk: names, atomic private writes, listing without parsing, retention, a full disk."""

import datetime as dt
import errno
import os
import stat

import pytest

from vibenvr import fsutil
from vibenvr.backups.errors import BackupNotFound, BackupWriteError, InvalidBackupName
from vibenvr.backups.names import NAME_RE, parse_name
from vibenvr.backups.store import BackupStore

from support.clock import FakeClock

T0 = dt.datetime(2026, 11, 29, 22, 40, 0)


@pytest.fixture
def clock():
    return FakeClock(T0)


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "backups"


@pytest.fixture
def files(folder, clock):
    return BackupStore(folder, clock=clock)


def _place(folder, name, data=b"{}", mtime=None):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_names_follow_the_spec_in_utc(files):
    entry = files.write_bytes(b"{}", "manual")
    assert entry.name == "vibe_backup_manual_20261129_224000.json"
    assert entry.kind == "manual" and entry.created_at == T0 and entry.size_bytes == 2
    assert entry.to_dict() == {
        "name": entry.name,
        "kind": "manual",
        "created_at": "2026-11-29T22:40:00Z",
        "size_bytes": 2,
    }


def test_two_backups_in_the_same_second_get_distinct_names(files):
    names = [files.write_bytes(f'{{"n": {i}}}'.encode(), "auto").name for i in range(3)]
    assert names == [
        "vibe_backup_auto_20261129_224000.json",
        "vibe_backup_auto_20261129_224000_2.json",
        "vibe_backup_auto_20261129_224000_3.json",
    ]
    assert [e.name for e in files.list()] == list(reversed(names))
    assert (files.folder / names[0]).read_bytes() == b'{"n": 0}'


def test_files_are_0600_and_the_folder_0700(folder, files):
    folder.mkdir(mode=0o755)
    entry = files.write_bytes(b"{}", "manual")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / entry.name).stat().st_mode) == 0o600


def test_a_write_leaves_no_temporary_file(files):
    files.write_bytes(b"x" * 100_000, "manual")
    assert [p.name for p in files.folder.iterdir()] == ["vibe_backup_manual_20261129_224000.json"]


def test_listing_is_newest_first_by_the_time_in_the_name_not_the_mtime(folder, files):
    old_name_new_mtime = "vibe_backup_manual_20200101_000000.json"
    _place(folder, old_name_new_mtime, mtime=2_000_000_000)
    _place(folder, "vibe_backup_auto_20261129_224000.json", mtime=1_000_000_000)
    _place(folder, "vibenvr_auto_backup_20250601_120000.json", mtime=1_500_000_000)
    names = [e.name for e in files.list()]
    assert names == [
        "vibe_backup_auto_20261129_224000.json",
        "vibenvr_auto_backup_20250601_120000.json",
        old_name_new_mtime,
    ]


def test_backups_of_the_same_second_list_by_mtime_newest_first(folder, files):
    second = "20261129_224000"
    _place(folder, f"vibe_backup_manual_{second}.json", mtime=1_800_000_000)
    _place(folder, f"vibe_backup_imported_{second}.json", mtime=1_800_000_000.5)  # uploaded just after
    _place(folder, f"vibe_backup_auto_{second}.json", mtime=1_799_999_999)
    _place(folder, "vibe_backup_auto_20261129_223959.json", mtime=1_900_000_000)  # earlier name wins over mtime
    assert [e.name for e in files.list()] == [
        f"vibe_backup_imported_{second}.json",
        f"vibe_backup_manual_{second}.json",
        f"vibe_backup_auto_{second}.json",
        "vibe_backup_auto_20261129_223959.json",
    ]


def test_listing_reads_names_and_sizes_only(folder, files):
    _place(folder, "not-even-json.json", b"\x00garbage", mtime=1_700_000_000)
    _place(folder, "notes.txt", b"hello")
    _place(folder, ".vibe-tmp-abc", b"partial")
    (folder / "sub.json").mkdir()
    os.symlink("/etc/passwd", folder / "link.json")
    [entry] = files.list()
    assert (entry.name, entry.kind, entry.size_bytes) == ("not-even-json.json", "other", 8)
    assert entry.created_at == dt.datetime(2023, 11, 14, 22, 13, 20)


def test_legacy_automatic_names_are_automatic(folder, files):
    _place(folder, "vibenvr_auto_backup_20250601_120000.json")
    [entry] = files.list()
    assert entry.kind == "auto" and entry.is_automatic and entry.created_at == dt.datetime(2025, 6, 1, 12)


def test_an_impossible_date_in_a_name_makes_a_hand_placed_file():
    assert parse_name("vibe_backup_auto_20261399_250000.json") is None
    assert parse_name("vibe_backup_weekly_20261129_224000.json") is None
    assert parse_name("vibe_backup_safety_20261129_224000_12.json") == ("safety", T0, 12)


def test_an_empty_or_missing_folder_lists_nothing(folder, files):
    assert files.list() == []


@pytest.mark.parametrize(
    "name",
    [
        "../secret_key.json",
        "..json",
        "a/../../b.json",
        "/etc/passwd.json",
        "backup.JSON.txt",
        ".hidden.json",
        "spaces in name.json",
        "new\nline.json",
        "nul\x00.json",
        "x" * 210 + ".json",
        "",
        "noext",
        "é.json",
        "back\\slash.json",
    ],
)
def test_odd_names_are_refused(files, name):
    with pytest.raises(InvalidBackupName):
        files.path_for(name)


def test_the_name_pattern_is_the_spec_s():
    assert NAME_RE.pattern == r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.json(?:\.age)?$"  # SPEC §5, §13


def test_symbolic_links_are_never_followed(folder, files, tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text('{"secret": true}')
    folder.mkdir()
    os.symlink(secret, folder / "evil.json")
    with pytest.raises(InvalidBackupName, match="symbolic link"):
        files.read_bytes("evil.json")
    with pytest.raises(InvalidBackupName):
        files.delete("evil.json")
    assert secret.exists()


def test_a_symlinked_folder_path_does_not_break_reading(tmp_path, clock):
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "alias", target_is_directory=True)
    files = BackupStore(tmp_path / "alias", clock=clock)
    entry = files.write_bytes(b"{}", "manual")
    assert files.read_bytes(entry.name) == b"{}"


def test_reading_and_deleting(files):
    entry = files.write_bytes(b'{"a": 1}', "manual")
    assert files.read_bytes(entry.name) == b'{"a": 1}'
    files.delete(entry.name)
    assert files.list() == []
    with pytest.raises(BackupNotFound):
        files.read_bytes(entry.name)
    with pytest.raises(BackupNotFound):
        files.delete(entry.name)


def test_a_folder_with_a_backup_name_is_not_a_backup(folder, files):
    (folder / "dir.json").mkdir(parents=True)
    with pytest.raises(BackupNotFound):
        files.read_bytes("dir.json")
    with pytest.raises(BackupNotFound):
        files.delete("dir.json")


def _fill(folder):
    """Twelve automatic backups a day apart, with mtimes in reverse, and every other kind, all older."""
    for day in range(1, 13):
        _place(folder, f"vibe_backup_auto_202611{day:02d}_000000.json", mtime=2_000_000_000 - day * 1000)
    others = [
        "vibe_backup_manual_20200101_000000.json",
        "vibe_backup_imported_20200101_000000.json",
        "vibe_backup_safety_20200101_000000.json",
        "my-own-copy.json",
    ]
    for name in others:
        _place(folder, name, mtime=1_000_000)
    _place(folder, "vibenvr_auto_backup_20200101_000000.json")
    return others


def test_retention_keeps_the_newest_automatic_backups_by_the_time_in_the_name(folder, files):
    others = _fill(folder)
    deleted = files.apply_retention(10)
    assert deleted == [
        "vibe_backup_auto_20261102_000000.json",
        "vibe_backup_auto_20261101_000000.json",
        "vibenvr_auto_backup_20200101_000000.json",
    ]
    left = {e.name for e in files.list()}
    assert set(others) <= left
    assert {f"vibe_backup_auto_202611{day:02d}_000000.json" for day in range(3, 13)} <= left


def test_retention_never_deletes_manual_imported_safety_or_hand_placed_files(folder, files):
    others = _fill(folder)
    files.apply_retention(1)
    assert {e.name for e in files.list()} == {*others, "vibe_backup_auto_20261112_000000.json"}


def test_retention_never_deletes_the_protected_new_backup_even_below_future_dated_ones(folder, files):
    future = [f"vibe_backup_auto_2030010{day}_000000.json" for day in range(1, 4)]  # a clock that ran ahead
    for name in future:
        _place(folder, name)
    new = files.write_bytes(b"{}", "auto").name
    deleted = files.apply_retention(2, protect={new})
    assert deleted == ["vibe_backup_auto_20300102_000000.json", "vibe_backup_auto_20300101_000000.json"]
    assert {e.name for e in files.list()} == {new, "vibe_backup_auto_20300103_000000.json"}


def test_an_automatic_backup_survives_its_own_retention_after_the_clock_ran_ahead(app, ctx, clock):
    from vibenvr.backups import service
    from vibenvr.settings.service import update_settings

    app.config["CLOCK"] = clock
    update_settings({"backup_auto_retention": 1})
    folder = app.config["BACKUP_DIR"]
    _place(folder, "vibe_backup_auto_20300101_000000.json")
    entry = service.create_backup("auto")
    assert [e.name for e in service.get_store().list()] == [entry.name]


def test_safety_backups_keep_the_newest_five(files, clock):
    for _ in range(7):
        files.write_bytes(b"{}", "safety")
        clock.advance(seconds=1)
    files.write_bytes(b"{}", "manual")
    deleted = files.prune_safety()
    assert deleted == ["vibe_backup_safety_20261129_224001.json", "vibe_backup_safety_20261129_224000.json"]
    assert sum(e.kind == "safety" for e in files.list()) == 5
    assert any(e.kind == "manual" for e in files.list())


def test_a_full_disk_gives_a_clear_error_and_leaves_nothing_behind(files, monkeypatch):
    files.write_bytes(b'{"old": true}', "auto")

    def full(fd, data):
        os.write(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fsutil, "write_all", full)
    with pytest.raises(BackupWriteError) as caught:
        files.write_bytes(b"x" * 1000, "auto")
    assert "the disk is full" in str(caught.value) and str(files.folder) in str(caught.value)
    assert "none was deleted" in str(caught.value)
    assert [p.name for p in files.folder.iterdir()] == ["vibe_backup_auto_20261129_224000.json"]
    assert (files.folder / "vibe_backup_auto_20261129_224000.json").read_bytes() == b'{"old": true}'


def test_stale_temporary_files_are_cleaned_up_and_fresh_ones_kept(folder, files, clock):
    old = _place(folder, ".vibe-tmp-old", b"partial")
    stamp = (clock() - dt.timedelta(hours=2)).replace(tzinfo=dt.UTC).timestamp()
    os.utime(old, (stamp, stamp))
    fresh = _place(folder, ".vibe-tmp-fresh", b"partial")
    now = clock().replace(tzinfo=dt.UTC).timestamp()
    os.utime(fresh, (now, now))
    assert files.cleanup_temp() == [".vibe-tmp-old"]
    assert fresh.exists()


def test_a_full_disk_during_an_automatic_backup_deletes_no_old_backup(app, ctx, clock, monkeypatch):
    from vibenvr.backups import service
    from vibenvr.settings.service import update_settings

    app.config["CLOCK"] = clock
    update_settings({"backup_auto_retention": 2})
    folder = app.config["BACKUP_DIR"]
    for day in range(1, 6):
        _place(folder, f"vibe_backup_auto_202611{day:02d}_000000.json")
    before = sorted(p.name for p in folder.iterdir())

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fsutil, "write_all", full)
    with pytest.raises(BackupWriteError, match="the disk is full"):
        service.create_backup("auto")
    assert sorted(p.name for p in folder.iterdir()) == before
    monkeypatch.undo()
    entry = service.create_backup("auto")
    assert sorted(e.name for e in service.get_store().list() if e.kind == "auto") == sorted(
        [entry.name, "vibe_backup_auto_20261105_000000.json"]
    )

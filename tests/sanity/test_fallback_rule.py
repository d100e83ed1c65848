"""The 60-minute rule on its own: which file qualifies, judged by the time written in it."""

import datetime as dt

import pytest

from vibenvr.backups.document.canonical import encode
from vibenvr.backups.document.export import export_document
from vibenvr.backups.store import BackupStore
from vibenvr.sanity.fallback import choose_fallback
from vibenvr.timeutil import how_long

from .conftest import T0

MIN = dt.timedelta(minutes=1)


@pytest.fixture
def store(app, ctx):
    return BackupStore(app.config["BACKUP_DIR"])


def put(store, name, written_at, kind="auto"):
    """A valid backup named ``name`` whose content says it was made at ``written_at``."""
    (store.folder / name).write_bytes(encode(export_document(kind, now=written_at)))
    return name


def choose(store, now=T0):
    return choose_fallback(store.list(), store.read_bytes, now)


def test_the_time_in_the_file_counts_not_the_time_in_the_name(store):
    put(store, "vibe_backup_auto_20261129_115900.json", T0 - 3 * 60 * MIN)  # renamed: it is 3 h old
    assert "is 3 hours old" in choose(store).refusal


def test_legacy_automatic_names_count_as_automatic(store):
    put(store, "vibenvr_auto_backup_20261129_113000.json", T0 - 30 * MIN)
    choice = choose(store)
    assert choice.refusal is None and choice.entry.name == "vibenvr_auto_backup_20261129_113000.json"
    assert choice.age == 30 * MIN


def test_files_placed_by_hand_and_imported_ones_do_not_qualify(store):
    put(store, "my-copy.json", T0 - MIN, kind="manual")
    put(store, "vibe_backup_imported_20261129_115800.json", T0 - 2 * MIN, kind="imported")
    choice = choose(store)
    assert "no valid automatic backup" in choice.refusal and "imported backups" in choice.refusal
    assert choice.newest_valid[0].name in ("my-copy.json", "vibe_backup_imported_20261129_115800.json")


def test_a_future_dated_newest_backup_refuses_even_with_a_recent_one_behind_it(store):
    put(store, "vibe_backup_auto_20261129_115000.json", T0 - 10 * MIN)
    put(store, "vibe_backup_auto_20261129_140000.json", T0 + 2 * 60 * MIN)
    refusal = choose(store).refusal
    assert "vibe_backup_auto_20261129_140000.json" in refusal and "2 hours in the future" in refusal


def test_every_damaged_file_is_skipped_and_named(store):
    (store.folder / "vibe_backup_auto_20261129_115500.json").write_text("{truncated")
    (store.folder / "vibe_backup_auto_20261129_115000.json").write_text("[]")
    put(store, "vibe_backup_auto_20261129_114000.json", T0 - 20 * MIN)
    choice = choose(store)
    assert choice.entry.name == "vibe_backup_auto_20261129_114000.json"
    assert [line.split(":")[0] for line in choice.skipped] == [
        "Skipped vibe_backup_auto_20261129_115500.json",
        "Skipped vibe_backup_auto_20261129_115000.json",
    ]


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (dt.timedelta(seconds=42), "42 seconds old"),
        (dt.timedelta(minutes=1), "1 minute old"),
        (dt.timedelta(minutes=59), "59 minutes old"),
        (dt.timedelta(minutes=60, seconds=30), "60 minutes 30 s old"),
        (dt.timedelta(minutes=61), "61 minutes old"),
        (dt.timedelta(hours=5), "5 hours old"),
        (dt.timedelta(days=3, hours=2), "3 days old"),
        (dt.timedelta(minutes=-10), "10 minutes in the future"),
    ],
)
def test_ages_read_plainly(delta, text):
    assert how_long(delta, exact=True) == text

"""Files that cannot be used on the System Backups page (SPEC §12): a row with why and what to do, no actions."""

import datetime as dt
import os
import re

from .helpers import HTMX, listed

NAME = "vibe_backup_manual_20261129_224000.json"


def _rows(html):
    """``{name: the row's HTML}`` for every row of the list."""
    return dict(re.findall(r'<tr class="[^"]*" data-backup="([^"]+)">(.*?)</tr>', html, re.S))


def _folder_with_odd_files(app, store):
    folder = app.config["BACKUP_DIR"]
    store.write_bytes(b"{}", "manual")
    (folder / "backup (1).json").write_bytes(b'{"x": 1}')
    os.mkfifo(folder / "pipe.json")
    (folder / "notes.txt").write_bytes(b"not listed")
    (folder / ".vibe-tmp-0123456789abcdef").write_bytes(b"not listed")
    for hour, name in ((12, "backup (1).json"), (11, "pipe.json")):
        when = dt.datetime(2026, 11, 29, hour, 0, tzinfo=dt.UTC).timestamp()
        os.utime(folder / name, (when, when))
    return folder


def test_unusable_files_are_rows_with_the_reason_and_no_download_or_restore(admin_client, app, store):
    _folder_with_odd_files(app, store)
    html = admin_client.get("/settings/backups").text
    assert listed(html) == [NAME, "backup (1).json", "pipe.json"]
    rows = _rows(html)
    named, pipe = rows["backup (1).json"], rows["pipe.json"]
    assert (
        "Unusable name — rename to restore, e.g. to backup_1.json (letters, digits, &#39;.&#39;, &#39;_&#39; "
        "and &#39;-&#39;, ending in .json)."
    ) in named
    assert "A named pipe (FIFO), not a regular file — never read; remove it from the backup folder." in pipe
    for row in (named, pipe):
        assert '<span class="badge badge-red">Unusable</span>' in row
        assert "Download" not in row and "Restore" not in row and "Delete" not in row and "href" not in row
        assert "No actions: the file cannot be downloaded or restored" in row
    assert 'class="row-unusable" data-backup="backup (1).json"' in html
    assert f'href="/settings/backups/{NAME}/download"' in rows[NAME] and "Unusable" not in rows[NAME]
    assert "notes.txt" not in html and ".vibe-tmp-" not in html
    assert "3 files" in html


def test_a_note_above_the_list_counts_the_unusable_files_and_the_filter_shows_them_alone(admin_client, app, store):
    _folder_with_odd_files(app, store)
    html = admin_client.get("/settings/backups").text
    note = re.search(r'<p class="message message-warning unusable-note".*?</p>', html, re.S).group(0)
    assert (
        "2 files in the\n    backup folder cannot be used" in note and 'href="/settings/backups?kind=unusable"' in note
    )
    assert '<option value="unusable" >Unusable (2)</option>' in html
    assert '<option value="other" >Other (2)</option>' not in html  # unusable files are not counted as Other
    only = admin_client.get("/settings/backups?kind=unusable", headers=HTMX).text
    assert listed(only) == ["backup (1).json", "pipe.json"] and "unusable-note" not in only


def test_without_unusable_files_there_is_no_note(admin_client, app, store):
    store.write_bytes(b"{}", "manual")
    html = admin_client.get("/settings/backups").text
    assert "unusable-note" not in html and "Unusable" not in html

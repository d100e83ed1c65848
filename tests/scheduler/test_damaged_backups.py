"""An automatic backup that fails validation right after it is written is a recorded failure (SPEC §12):
kept aside as damaged, named in the list and the status, never counted as the newest valid one, and
retention deletes nothing in that run. The cause is real: a user's allow-list written straight in SQL
points at a camera that does not exist, so the backup is written but the validation of a restore
refuses it."""

import datetime as dt
import json
import re

import pytest

from vibenvr.backups.store import DAMAGED, BackupStore
from vibenvr.db import db
from vibenvr.models import User
from vibenvr.timeutil import iso

from .conftest import T0, backup_at, names, settings, status, tick
from builders import make_camera, make_user

H = dt.timedelta(hours=1)
DAMAGED_NAME = "vibe_backup_damaged_20261129_120000.json"
CAUSE = "allowed_camera_ids refers to cameras that are not in the backup"


def listed(app):
    """Every file of the list people see (damaged ones included), newest first."""
    return [entry.name for entry in BackupStore(app.config["BACKUP_DIR"]).list(unusable=True)]


def poison(username, camera_ids):
    """Write a user's allow-list straight through SQL, past every check of the app."""
    table, mark = User._meta.table_name, db.param  # a constant table name; the values go as parameters
    sql = f'UPDATE "{table}" SET allowed_camera_ids = {mark} WHERE username = {mark}'  # noqa: S608
    db.execute_sql(sql, (json.dumps(camera_ids), username))


@pytest.fixture
def two_good_backups(app):
    """Automatic backups on, keeping only 1, and two valid automatic backups older than the interval."""
    garage = make_camera(name="Garage")
    make_user("viewer", role="viewer", allowed_camera_ids=[garage.id])
    settings(app, backup_auto_enabled=True, backup_auto_retention=1)
    return [backup_at(app, T0 - 26 * H), backup_at(app, T0 - 50 * H)]


def test_a_backup_that_fails_validation_is_a_recorded_failure_and_retention_deletes_nothing(
    app, rules, two_good_backups
):
    poison("viewer", [999])
    tick(rules)
    # Written, refused by the validation of a restore, kept aside; both older automatic backups are still
    # there although retention keeps 1: a success would have deleted them.
    assert listed(app) == [DAMAGED_NAME, *two_good_backups]
    recorded = status(app)
    assert recorded["last_success"] is None
    assert recorded["last_failure"]["at"] == iso(T0)
    reason = recorded["last_failure"]["reason"]
    assert reason.startswith(
        "the automatic backup vibe_backup_auto_20261129_120000.json was written but fails the "
        "validation a restore applies, so it could not be restored: "
    ), reason
    assert CAUSE in reason and f"It is kept as {DAMAGED_NAME} (listed as damaged); no backup was deleted" in reason
    assert recorded["next_run"] == iso(T0 + 24 * H)  # retried one interval later, as any failed run


def test_a_damaged_backup_never_counts_as_the_newest_valid_one_and_is_never_deleted(
    app, rules, clock, two_good_backups
):
    poison("viewer", [999])
    tick(rules)
    assert names(app, "auto") == two_good_backups
    # A restart an hour later: the damaged file is no automatic backup, the newest valid one is 27 h old,
    # so startup protection takes one now, and it is damaged again: nothing deleted.
    clock.advance(hours=1)
    restarted = tick(type(rules)(app))
    assert listed(app) == ["vibe_backup_damaged_20261129_130000.json", DAMAGED_NAME, *two_good_backups]
    assert restarted.next_run == T0 + 25 * H
    # The cause is fixed; the next run succeeds and retention (keep 1) removes the older automatic backups,
    # never the damaged ones.
    poison("viewer", [])
    clock.advance(hours=24)
    tick(restarted)
    assert listed(app) == [
        "vibe_backup_auto_20261130_130000.json",
        "vibe_backup_damaged_20261129_130000.json",
        DAMAGED_NAME,
    ]
    assert status(app)["last_success"]["name"] == "vibe_backup_auto_20261130_130000.json"


def test_the_api_lists_the_damaged_backup_as_unusable_and_the_status_names_it(app, rules, api, two_good_backups):
    poison("viewer", [999])
    tick(rules)
    listed = api.get("/api/backups").get_json()["backups"]
    damaged = next(entry for entry in listed if entry["name"] == DAMAGED_NAME)
    assert damaged == {
        "name": DAMAGED_NAME,
        "kind": "other",
        "created_at": iso(T0),
        "size_bytes": (app.config["BACKUP_DIR"] / DAMAGED_NAME).stat().st_size,
        "unusable": DAMAGED,
    }
    assert all("unusable" not in entry for entry in listed if entry["name"] != DAMAGED_NAME)
    answer = api.get("/api/backups/status").get_json()
    assert answer["damaged"] == [DAMAGED_NAME] and CAUSE in answer["last_failure"]["reason"]
    # Kept for inspection: it downloads and deletes by name; a restore refuses it with the same reason.
    assert api.get(f"/api/backups/{DAMAGED_NAME}").status_code == 200
    refused = api.post(f"/api/backups/{DAMAGED_NAME}/restore", json={})
    assert refused.status_code == 422 and CAUSE in str(refused.get_json())
    assert api.delete(f"/api/backups/{DAMAGED_NAME}").status_code == 204
    assert api.get("/api/backups/status").get_json()["damaged"] == []


def test_the_terminal_verify_refuses_the_damaged_backup_with_the_same_reason(app, rules, runner, two_good_backups):
    poison("viewer", [999])
    tick(rules)
    result = runner.invoke(args=["backup", "verify", DAMAGED_NAME])
    assert result.exit_code == 1 and CAUSE in result.output
    listing = runner.invoke(args=["backup", "list"]).output
    assert re.search(
        rf"{DAMAGED_NAME}\s+unusable\s+2026-11-29 12:00:00 UTC\s+\S+ \S+\s+{re.escape(DAMAGED)}", listing
    ), listing


def test_system_backups_shows_the_damaged_backup_in_the_list_and_the_status(app, rules, admin_client, two_good_backups):
    poison("viewer", [999])
    tick(rules)
    html = admin_client.get("/settings/backups").text
    row = html[html.index(f'data-backup="{DAMAGED_NAME}"') :]
    row = row[: row.index("</tr>")]
    assert "A damaged automatic backup — it failed validation right after it was written" in row
    assert f'href="/settings/backups/{DAMAGED_NAME}/download"' in row and "Delete" in row and "Restore" not in row
    panel = html[html.index('data-status="damaged">') + len('data-status="damaged">') :]
    panel = " ".join(re.sub(r"<[^>]+>", " ", panel[: panel.index("</dd>")]).split())
    assert panel == (
        f"1 automatic backup failed validation right after it was written and cannot be restored: "
        f"{DAMAGED_NAME} Kept for inspection and never deleted automatically; retention deleted nothing "
        "in those runs."
    ), panel
    assert CAUSE in html  # the last failure says why


def test_a_second_damaged_backup_in_the_same_second_never_replaces_the_first(app, rules, two_good_backups):
    poison("viewer", [999])
    tick(rules)
    rules.next_run = T0  # due again at once, in the same second
    tick(rules)
    assert listed(app) == ["vibe_backup_damaged_20261129_120000_2.json", DAMAGED_NAME, *two_good_backups]
    assert "It is kept as vibe_backup_damaged_20261129_120000_2.json" in status(app)["last_failure"]["reason"]

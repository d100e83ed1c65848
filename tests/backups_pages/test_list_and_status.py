"""The System Backups list and status panel: kinds, times in the configured zone, paging without parsing, status."""

import datetime as dt
import os

import pytest

from vibenvr.backups.automation.status import record
from vibenvr.backups.store import BackupStore
from vibenvr.settings.service import update_settings

from .helpers import HTMX, is_full_page, listed

T = dt.datetime(2026, 11, 29, 19, 40, 0)  # three hours before the fake clock's now


def test_empty_page_explains_and_offers_every_way_in(admin_client, app):
    response = admin_client.get("/settings/backups")
    html = response.text
    assert response.status_code == 200 and is_full_page(html) and "HX-Request" in response.headers["Vary"]
    assert "No backups yet" in html and "No automatic run has happened yet." in html
    assert str(app.config["BACKUP_DIR"]) in html
    assert 'enctype="multipart/form-data"' in html and 'name="csrf_token"' in html
    assert 'href="/settings/global#section-backups"' in html
    assert "Create backup now" in html


def test_the_settings_menu_links_to_the_page(admin_client):
    assert 'href="/settings/backups"' in admin_client.get("/settings/global").text


def test_htmx_gets_the_list_alone(admin_client, backup):
    backup()
    response = admin_client.get("/settings/backups", headers=HTMX)
    assert not is_full_page(response.text) and response.text.lstrip().startswith('<section id="backup-list"')
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_rebuilding_history_gets_the_whole_page(admin_client):
    response = admin_client.get("/settings/backups", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert is_full_page(response.text)


def test_newest_first_with_kind_badge_local_time_and_size(admin_client, app, store):
    update_settings({"timezone": "Europe/Berlin"})
    store.write_bytes(b"x" * 2048, "auto", T)
    store.write_bytes(b"{}", "manual", T - dt.timedelta(hours=1))
    store.write_bytes(b"{}", "imported", T - dt.timedelta(hours=2))
    store.write_bytes(b"{}", "safety", T - dt.timedelta(days=2))
    legacy = app.config["BACKUP_DIR"] / "vibenvr_auto_backup_20261101_080000.json"
    legacy.write_bytes(b"{}")
    by_hand = app.config["BACKUP_DIR"] / "before-upgrade.json"
    by_hand.write_bytes(b"{}")
    os.utime(by_hand, (dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC).timestamp(),) * 2)

    html = admin_client.get("/settings/backups").text
    assert listed(html) == [
        "vibe_backup_auto_20261129_194000.json",
        "vibe_backup_manual_20261129_184000.json",
        "vibe_backup_imported_20261129_174000.json",
        "vibe_backup_safety_20261127_194000.json",
        "vibenvr_auto_backup_20261101_080000.json",
        "before-upgrade.json",
    ]
    for badge, label in (
        ("blue", "Automatic"),
        ("green", "Manual"),
        ("purple", "Imported"),
        ("amber", "Safety"),
        ("grey", "Other"),
    ):
        assert f'<span class="badge badge-{badge}">{label}</span>' in html
    assert html.count(">Automatic</span>") == 2  # the legacy automatic name counts as automatic
    assert "Times are in Europe/Berlin." in html
    assert '<time datetime="2026-11-29T19:40:00Z">2026-11-29 20:40</time>' in html  # CET is UTC+1
    assert "3 hours ago" in html and "2 days ago" in html
    assert "2.0 KB" in html and "6 files" in html


def test_hundreds_of_backups_come_a_page_at_a_time_and_no_file_is_read(admin_client, store, monkeypatch):
    for hour in range(260):
        store.write_bytes(b"not json at all", "auto", T - dt.timedelta(hours=hour))

    def refuse(*args):
        raise AssertionError("listing read a backup file")

    monkeypatch.setattr(BackupStore, "read_bytes", refuse)
    html = admin_client.get("/settings/backups").text
    names = listed(html)
    assert len(names) == 50 and names[0] == "vibe_backup_auto_20261129_194000.json"
    assert "1–50 of 260" in html and "Page 1 of 6" in html and 'rel="next"' in html and 'rel="prev"' not in html
    last = admin_client.get("/settings/backups?page=6").text
    assert len(listed(last)) == 10 and "251–260 of 260" in last and 'rel="next"' not in last
    assert listed(admin_client.get("/settings/backups?page=999").text) == listed(last)
    assert listed(admin_client.get("/settings/backups?page=nonsense").text) == names


def test_the_kind_filter(admin_client, store):
    for hour in range(3):
        store.write_bytes(b"{}", "auto", T - dt.timedelta(hours=hour))
    store.write_bytes(b"{}", "manual", T - dt.timedelta(days=1))
    html = admin_client.get("/settings/backups?kind=manual", headers=HTMX).text
    assert listed(html) == ["vibe_backup_manual_20261128_194000.json"]
    assert '<option value="manual" selected>Manual (1)</option>' in html and "All kinds (4)" in html
    assert len(listed(admin_client.get("/settings/backups?kind=bogus").text)) == 4
    assert "No safety backups" in admin_client.get("/settings/backups?kind=safety").text


def status_html(client):
    response = client.get("/settings/backups/status", headers=HTMX)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert response.text.lstrip().startswith('<section id="backup-status"')
    return response.text


def test_status_shows_the_settings_while_nothing_has_run(admin_client):
    html = status_html(admin_client)
    assert '<span class="badge badge-grey">Off</span>' in html
    assert "Every 24 hours" in html and "Keep the newest 10 automatic backups" in html
    assert "Not scheduled: automatic backups are off" in html
    assert "No automatic run has happened yet." in html
    assert "manual and imported backups are never deleted automatically" in html
    assert "take effect at once" in html
    assert 'hx-trigger="every 60s"' in html


def test_status_shows_last_success_last_failure_and_next_run(admin_client, app, clock):
    app.config["SCHEDULER_ENABLED"] = True
    update_settings({"backup_auto_enabled": True, "backup_auto_frequency_hours": 1})
    record(
        app.config["DATA_DIR"],
        last_success={"name": "vibe_backup_auto_20261129_194000.json", "at": "2026-11-29T19:40:00Z"},
        last_failure={"at": "2026-11-29T21:40:00Z", "reason": "Could not write a backup: the disk is full"},
        next_run="2026-11-30T20:40:00Z",
    )
    html = status_html(admin_client)
    assert '<span class="badge badge-green">On</span>' in html and "Every hour" in html
    assert "2026-11-29 19:40" in html and "3 hours ago" in html and "vibe_backup_auto_20261129_194000.json" in html
    assert "an hour ago" in html or "1 hour ago" in html
    assert "the disk is full" in html
    assert "2026-11-30 20:40" in html and "in 22 hours" in html
    assert "No automatic run has happened yet." not in html


@pytest.mark.parametrize(
    "scheduler, expected",
    [
        (False, "the scheduler is switched off in this server (VIBENVR_SCHEDULER=off)"),
        (True, "Being planned; shown here in a moment"),
    ],
)
def test_next_run_when_none_is_recorded(admin_client, app, scheduler, expected):
    app.config["SCHEDULER_ENABLED"] = scheduler
    update_settings({"backup_auto_enabled": True})
    record(app.config["DATA_DIR"], next_run="2026-11-30T20:40:00Z" if not scheduler else None)
    html = status_html(admin_client)
    assert expected in html
    # While the scheduler plans (it sees a change within 2 s), the panel asks again every 2 s, not every minute.
    assert f'hx-trigger="every {2 if scheduler else 60}s"' in html


def test_a_stale_next_run_is_not_shown_once_backups_are_off(admin_client, app):
    record(app.config["DATA_DIR"], next_run="2026-11-30T20:40:00Z")
    html = status_html(admin_client)
    assert "2026-11-30" not in html and "automatic backups are off" in html


def test_a_damaged_status_file_reads_as_nothing_recorded(admin_client, app):
    (app.config["DATA_DIR"] / "backup_status.json").write_text('{"last_success": "x", "next_run": "soon"}')
    update_settings({"backup_auto_enabled": True})
    app.config["SCHEDULER_ENABLED"] = True
    html = status_html(admin_client)
    assert "None yet" in html and "Being planned" in html


def test_saving_global_settings_shows_in_the_status_at_once(admin_client):
    form = {"backup_auto_enabled": ["off", "on"], "backup_auto_frequency_hours": "6", "backup_auto_retention": "25"}
    assert admin_client.post("/settings/global", data=form, headers=HTMX).status_code == 200
    html = status_html(admin_client)
    assert "On</span>" in html and "Every 6 hours" in html and "Keep the newest 25 automatic backups" in html


def test_global_settings_help_says_what_is_kept_and_where(admin_client, app):
    html = admin_client.get("/settings/global").text
    assert "Manual and imported backups are never deleted automatically" in html
    assert "keep the newest 5" in html and str(app.config["BACKUP_DIR"]) in html
    assert "Saving takes effect at once" in html


@pytest.mark.parametrize(
    "delta, expected",
    [
        (dt.timedelta(seconds=10), "just now"),
        (dt.timedelta(hours=3), "3 hours ago"),
        (dt.timedelta(days=44), "44 days ago"),
        (dt.timedelta(days=61), "2 months ago"),
        (dt.timedelta(days=400), "1 year ago"),
        (dt.timedelta(days=2516), "6 years ago"),
        (-dt.timedelta(days=800), "in 2 years"),
    ],
)
def test_relative_times_stay_readable_for_old_backups(delta, expected):
    from vibenvr.templating import relative_time

    assert relative_time(T - delta, T) == expected

"""Global Settings page: every registry group, secrets kept when blank, presets, inline errors, admins only."""

import pytest

from vibenvr.settings.registry import GROUPS, PRESETS, SETTINGS
from vibenvr.settings.service import clear_cache, get_settings

from .helpers import HTMX, inline_errors, is_full_page


def form_from(settings, **overrides):
    """What the page posts: every non-secret setting as text, checkboxes after their hidden "off"."""
    form = {}
    for key, definition in SETTINGS.items():
        if definition.is_secret:
            form[key] = ""
        elif definition.type == "bool":
            form[key] = ["off", "on"] if settings[key] else "off"
        else:
            form[key] = str(settings[key])
    form.update(overrides)
    return form


def stored():
    clear_cache()
    return get_settings()


def test_page_shows_every_group_and_setting(admin_client, app):
    response = admin_client.get("/settings/global")
    html = response.text
    assert is_full_page(html) and "HX-Request" in response.headers["Vary"]
    for label in GROUPS.values():
        assert f"<legend>{label}</legend>" in html
    for key in SETTINGS:
        assert f'name="{key}"' in html
    assert 'name="smtp_password" type="password"' in html
    assert str(app.config["BACKUP_DIR"]) in html
    assert "never deleted automatically" in html
    assert 'data-presets="' in html


def test_htmx_save_swaps_the_form_and_shows_a_message(admin_client):
    form = form_from(
        stored(),
        backup_auto_enabled=["off", "on"],
        backup_auto_frequency_hours="6",
        backup_auto_retention="30",
        system_name="Home",
    )
    response = admin_client.post("/settings/global", data=form, headers=HTMX)
    assert response.status_code == 200 and not is_full_page(response.text)
    assert 'id="settings-form"' in response.text
    assert 'hx-swap-oob="innerHTML"' in response.text and "Settings saved (4 changed)." in response.text
    settings = stored()
    assert (
        settings["backup_auto_enabled"],
        settings["backup_auto_frequency_hours"],
        settings["backup_auto_retention"],
        settings["system_name"],
    ) == (True, 6, 30, "Home")


def test_save_without_javascript_redirects_back(admin_client):
    response = admin_client.post("/settings/global", data=form_from(stored(), smtp_port="465"))
    assert response.status_code == 303 and response.headers["Location"].endswith("/settings/global")
    assert stored()["smtp_port"] == 465
    assert "Settings saved" in admin_client.get("/settings/global").text


def test_unticking_a_checkbox_turns_the_setting_off(admin_client):
    admin_client.post("/settings/global", data=form_from(stored(), backup_auto_enabled=["off", "on"]))
    assert stored()["backup_auto_enabled"] is True
    admin_client.post("/settings/global", data=form_from(stored(), backup_auto_enabled="off"))
    assert stored()["backup_auto_enabled"] is False


def test_a_blank_secret_keeps_the_stored_one_and_the_box_clears_it(admin_client):
    admin_client.post("/settings/global", data=form_from(stored(), smtp_password="pa55"))
    assert stored()["smtp_password"] == "pa55"
    html = admin_client.get("/settings/global").text
    assert "pa55" not in html and "(stored)" in html
    admin_client.post("/settings/global", data=form_from(stored(), smtp_port="25"))
    assert stored()["smtp_password"] == "pa55"
    admin_client.post("/settings/global", data=form_from(stored(), smtp_password_clear="on"))
    assert stored()["smtp_password"] == ""


def test_changing_the_preset_without_javascript_applies_its_values(admin_client):
    admin_client.post("/settings/global", data=form_from(stored(), opt_preset="low_power"))
    settings = stored()
    assert {key: settings[key] for key in PRESETS["low_power"]} == PRESETS["low_power"]


def test_a_value_edited_together_with_the_preset_wins(admin_client):
    admin_client.post("/settings/global", data=form_from(stored(), opt_preset="quality", opt_snapshot_quality="60"))
    settings = stored()
    assert settings["opt_snapshot_quality"] == 60
    assert settings["opt_live_view_quality"] == PRESETS["quality"]["opt_live_view_quality"]


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("backup_auto_frequency_hours", "0", "at least 1"),
        ("backup_auto_frequency_hours", "8761", "at most 8760"),
        ("backup_auto_retention", "1001", "at most 1000"),
        ("backup_auto_retention", "ten", "whole number"),
        ("smtp_port", "", "whole number"),
        ("max_storage_gb", "-5", "at least 0"),
        ("timezone", "Mars/Base", "not a known time zone"),
        ("webhook_url", "javascript:alert(1)", "http:// or https://"),
        ("smtp_from", "nobody", "e-mail address"),
        ("opt_preset", "turbo", "must be one of"),
        ("system_name", "x" * 101, "at most 100"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_errors_are_inline_and_nothing_is_saved(admin_client, key, value, text, htmx):
    before = stored()
    form = form_from(before, **{"system_name": "Changed", key: value})
    response = admin_client.post("/settings/global", data=form, headers=HTMX if htmx else {})
    assert response.status_code == 422
    assert is_full_page(response.text) is not htmx
    assert text in inline_errors(response.text)[key]
    assert 'aria-invalid="true"' in response.text
    assert stored() == before


def test_all_errors_are_listed_at_once(admin_client):
    form = form_from(stored(), smtp_port="0", backup_auto_retention="0")
    errors = inline_errors(admin_client.post("/settings/global", data=form, headers=HTMX).text)
    assert {"smtp_port", "backup_auto_retention"} <= set(errors)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_viewer_gets_403(viewer_client, method, htmx):
    before = stored()
    response = viewer_client.open(
        "/settings/global", method=method, data={"system_name": "Mine"}, headers=HTMX if htmx else {}
    )
    assert response.status_code == 403
    assert stored() == before


def test_anonymous_is_sent_to_sign_in(client, admin):
    response = client.get("/settings/global")
    assert response.status_code == 302 and "/login?next=/settings/global" in response.headers["Location"]
    assert client.get("/settings/global", headers=HTMX).headers["HX-Redirect"].startswith("/login")


def test_post_needs_the_csrf_token(admin_client):
    del admin_client.environ_base["HTTP_X_CSRFTOKEN"]
    before = stored()
    assert admin_client.post("/settings/global", data=form_from(before, system_name="X")).status_code == 400
    assert stored() == before

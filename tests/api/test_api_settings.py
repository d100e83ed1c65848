"""/api/settings: typed values from the registry; PATCH validates every key and saves all or nothing."""

import pytest

from vibenvr.settings.registry import PRESETS, SETTINGS

from .conftest import error_text


def test_get_returns_every_setting_typed(api):
    settings = api.get("/api/settings").get_json()
    secret_markers = {f"{key}_set" for key, d in SETTINGS.items() if d.is_secret}  # tests/auth/test_secrets_masked.py
    assert set(settings) == set(SETTINGS) | secret_markers
    assert settings["backup_auto_enabled"] is False
    assert settings["backup_auto_frequency_hours"] == 24
    assert settings["backup_auto_retention"] == 10
    assert isinstance(settings["max_storage_gb"], float)


def test_patch_saves_typed_values(api):
    body = {
        "system_name": "Home NVR",
        "backup_auto_enabled": True,
        "backup_auto_frequency_hours": 6,
        "backup_auto_retention": 30,
        "smtp_port": 465,
        "min_free_space_gb": 2.5,
        "timezone": "Europe/Berlin",
    }
    response = api.patch("/api/settings", json=body)
    assert response.status_code == 200
    settings = response.get_json()
    assert {key: settings[key] for key in body} == body
    assert api.get("/api/settings").get_json() == settings


def test_choosing_a_preset_fills_its_values(api):
    settings = api.patch("/api/settings", json={"opt_preset": "low_power"}).get_json()
    assert {key: settings[key] for key in PRESETS["low_power"]} == PRESETS["low_power"]


def test_values_sent_with_a_preset_win(api):
    settings = api.patch("/api/settings", json={"opt_preset": "quality", "opt_snapshot_quality": 60}).get_json()
    assert settings["opt_snapshot_quality"] == 60
    assert settings["opt_live_view_quality"] == PRESETS["quality"]["opt_live_view_quality"]


@pytest.mark.parametrize(
    "bounds",
    [
        {"backup_auto_frequency_hours": 1},
        {"backup_auto_frequency_hours": 8760},
        {"backup_auto_retention": 1},
        {"backup_auto_retention": 1000},
        {"smtp_port": 1},
        {"smtp_port": 65535},
        {"max_storage_gb": 0},
        {"webhook_url": ""},
        {"webhook_url": "https://hooks.example.com/nvr"},
    ],
)
def test_boundary_values_are_accepted(api, bounds):
    assert api.patch("/api/settings", json=bounds).status_code == 200


HOSTILE = [
    ("smtp_port", 0),
    ("smtp_port", 70000),
    ("smtp_port", "25"),
    ("smtp_port", 25.5),
    ("smtp_port", True),
    ("backup_auto_frequency_hours", 0),
    ("backup_auto_frequency_hours", 8761),
    ("backup_auto_retention", 0),
    ("backup_auto_retention", 1001),
    ("backup_auto_enabled", "yes"),
    ("backup_auto_enabled", 1),
    ("opt_preset", "turbo"),
    ("opt_ffmpeg_preset", "placebo"),
    ("opt_live_view_height_limit", 100),
    ("timezone", "Mars/Base"),
    ("timezone", 1),
    ("webhook_url", "ftp://example.com/hook"),
    ("webhook_url", "javascript:alert(1)"),
    ("smtp_from", "nobody"),
    ("max_storage_gb", -1),
    ("default_retention_days", 1.5),
    ("system_name", "x" * 101),
    ("system_name", None),
    ("smtp_password", 1234),
    ("not_a_setting", 1),
]


@pytest.mark.parametrize(("key", "value"), HOSTILE, ids=[f"{k}={v!r}"[:50] for k, v in HOSTILE])
def test_hostile_setting_is_refused_and_nothing_is_saved(api, unchanged, key, value):
    with unchanged():
        response = api.patch("/api/settings", json={"system_name": "Changed", key: value})
        assert response.status_code == 422, response.get_json()
        assert key in error_text(response)


@pytest.mark.parametrize("literal", ["NaN", "Infinity"])
def test_non_finite_numbers_are_refused(api, unchanged, literal):
    with unchanged():
        response = api.patch(
            "/api/settings", data='{"min_free_space_gb": ' + literal + "}", headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 422


def test_every_bad_key_is_reported(api, unchanged):
    with unchanged():
        response = api.patch("/api/settings", json={"smtp_port": 0, "backup_auto_retention": 0, "timezone": "x"})
    assert len(response.get_json()["errors"]) == 3

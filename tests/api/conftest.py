"""API test helpers: a snapshot of the whole configuration, to prove a refused write changed nothing."""

import pytest

from vibenvr.cameras.service import camera_to_dict, group_ids_by_camera
from vibenvr.groups.service import camera_ids_by_group, group_to_dict
from vibenvr.models import Camera, Group, StorageProfile
from vibenvr.settings.service import clear_cache, get_settings
from vibenvr.storage.service import profile_to_dict


def snapshot():
    """Everything the resource APIs can change, read straight from the database."""
    clear_cache()
    groups_of = group_ids_by_camera()
    members = camera_ids_by_group()
    return {
        "cameras": [camera_to_dict(c, groups_of.get(c.id, [])) for c in Camera.select().order_by(Camera.id)],
        "groups": [group_to_dict(g, members.get(g.id, [])) for g in Group.select().order_by(Group.id)],
        "profiles": [profile_to_dict(p) for p in StorageProfile.select().order_by(StorageProfile.id)],
        "settings": get_settings(),
    }


@pytest.fixture
def unchanged(app):
    """``with unchanged(): …`` fails when the block changed any configuration."""

    class Guard:
        def __enter__(self):
            self.before = snapshot()

        def __exit__(self, *exc):
            if exc[0] is None:
                assert snapshot() == self.before, "a refused request changed the configuration"

    return Guard


def error_text(response):
    """The error message and the per-field list, as one string to search."""
    body = response.get_json()
    assert body is not None, f"expected a JSON error, got {response.status_code} {response.data[:200]!r}"
    assert "error" in body
    return " | ".join([body["error"], *body.get("errors", [])])

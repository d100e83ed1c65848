"""Whatever sequence of API writes a user makes, a backup taken after each one verifies and restores into
an empty database exactly (SPEC §12, "a backup the app writes restores").

Hypothesis draws sequences of creates, updates and deletes of every resource, group memberships and
allow-list changes, with references picked among ids that exist and ids that no longer do; after each
write the backup's bytes are validated as a restore validates them and restored into a scratch SQLite
database built from the same models, whose export must hold the same sections.
"""

import contextlib

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from peewee import SqliteDatabase
from pyrage import x25519

from vibenvr.backups.document.canonical import SECTIONS
from vibenvr.backups.document.export import export_bytes, export_document
from vibenvr.backups.document.validate import validate_document
from vibenvr.backups.restore import restore_document
from vibenvr.db import SQLITE_PRAGMAS, db
from vibenvr.migrations import migrate
from vibenvr.settings.service import clear_cache

from backups.helpers import RECIPIENTS, location_item

picks = st.lists(st.integers(0, 7), max_size=3)
KEYS = [*RECIPIENTS, *(str(x25519.Identity.generate().to_public()) for _ in range(3))]
OPERATIONS = st.one_of(
    st.tuples(st.just("create_camera"), st.integers(0, 7), picks),
    st.tuples(st.just("create_group"), picks),
    st.tuples(st.just("create_profile")),
    st.tuples(st.just("create_viewer"), st.booleans(), picks, picks),
    st.tuples(st.just("update_camera"), st.integers(0, 7), st.integers(0, 7), picks),
    st.tuples(st.just("update_group"), st.integers(0, 7), picks),
    st.tuples(st.just("update_viewer"), st.integers(0, 7), st.booleans(), picks, picks),
    st.tuples(st.just("update_settings"), st.integers(1, 1000)),
    st.tuples(st.just("create_token"), st.integers(0, 7)),
    st.tuples(st.just("create_recipient"), st.integers(0, len(KEYS) - 1)),
    st.tuples(st.just("create_location"), st.sampled_from(["folder", "sftp", "webdav", "s3"]), st.booleans()),
    st.tuples(st.just("update_location"), st.integers(0, 7), st.sampled_from(["folder", "sftp", "webdav", "s3"])),
    st.tuples(
        st.sampled_from(
            [
                "delete_camera",
                "delete_group",
                "delete_profile",
                "delete_viewer",
                "delete_token",
                "delete_recipient",
                "delete_location",
            ]
        ),
        st.integers(0, 7),
    ),
)


@contextlib.contextmanager
def scratch_database():
    """The models bound to a new, empty in-memory SQLite database for the duration of the block."""
    live = db.obj
    scratch = SqliteDatabase(":memory:", pragmas=SQLITE_PRAGMAS)
    db.initialize(scratch)
    try:
        with db.connection_context():
            migrate(scratch)
            yield
    finally:
        db.initialize(live)
        clear_cache()


def assert_backup_restores_into_an_empty_database():
    data = export_bytes("manual")
    valid = validate_document(data)  # what a restore checks first: refusing here would be the bug
    with scratch_database():
        restore_document(valid, force=True)
        again = export_document()
    assert {s: again[s] for s in SECTIONS} == {s: valid.doc[s] for s in SECTIONS}


class World:
    """The ids the API has handed out, including deleted ones (picked to test references that dangle)."""

    def __init__(self, api):
        self.api = api
        self.seen = {
            "cameras": [],
            "groups": [],
            "storage-profiles": [],
            "users": [],
            "tokens": [],
            "backup-recipients": [],
            "backup-locations": [],
        }
        self.n = 0

    def pick(self, kind, index):
        ids = self.seen[kind]
        return ids[index % len(ids)] if ids else index + 1

    def profile(self, index):
        """No storage profile for 0, else one picked (which may since have been deleted)."""
        return None if index == 0 else self.pick("storage-profiles", index)

    def picks(self, kind, indexes):
        return sorted({self.pick(kind, i) for i in indexes})

    def send(self, method, path, body=None):
        response = self.api.request(method, path, json=body)
        assert response.status_code < 500, (method, path, body, response.get_data(as_text=True)[:300])
        if method == "POST" and response.status_code == 201:
            kind = path.removeprefix("/api/")
            self.seen[kind].append(response.get_json()["id"])
        return response

    def apply(self, operation):
        name, *args = operation
        self.n += 1
        n = self.n
        if name == "create_camera":
            profile, groups = args
            self.send(
                "POST",
                "/api/cameras",
                {
                    "name": f"Cam {n}",
                    "rtsp_url": f"rtsp://u:p@h{n}/s",
                    "storage_profile_id": self.profile(profile),
                    "group_ids": self.picks("groups", groups),
                },
            )
        elif name == "create_group":
            self.send("POST", "/api/groups", {"name": f"Group {n}", "camera_ids": self.picks("cameras", args[0])})
        elif name == "create_profile":
            self.send("POST", "/api/storage-profiles", {"name": f"Disk {n}", "path": f"/rec/{n}"})
        elif name == "create_viewer":
            restrict, cameras, groups = args
            self.send(
                "POST",
                "/api/users",
                {
                    "username": f"viewer{n}",
                    "password": "a long enough password",
                    "role": "viewer",
                    "restrict_camera_access": restrict,
                    "allowed_camera_ids": self.picks("cameras", cameras),
                    "allowed_group_ids": self.picks("groups", groups),
                },
            )
        elif name == "update_camera":
            camera, profile, groups = args
            self.send(
                "PATCH",
                f"/api/cameras/{self.pick('cameras', camera)}",
                {
                    "storage_profile_id": self.profile(profile),
                    "group_ids": self.picks("groups", groups),
                    "overlay_text": f"v{n}",
                },
            )
        elif name == "update_group":
            group, cameras = args
            self.send(
                "PATCH", f"/api/groups/{self.pick('groups', group)}", {"camera_ids": self.picks("cameras", cameras)}
            )
        elif name == "update_viewer":
            user, restrict, cameras, groups = args
            self.send(
                "PATCH",
                f"/api/users/{self.pick('users', user)}",
                {
                    "restrict_camera_access": restrict,
                    "allowed_camera_ids": self.picks("cameras", cameras),
                    "allowed_group_ids": self.picks("groups", groups),
                },
            )
        elif name == "update_settings":
            self.send("PATCH", "/api/settings", {"backup_auto_retention": args[0], "system_name": f"NVR {n}"})
        elif name == "create_token":
            self.send("POST", "/api/tokens", {"name": f"token {n}"})
        elif name in ("create_recipient", "create_location", "update_location"):
            self.apply_backup_setting(name, args, n)
        else:
            kind = {
                "delete_camera": "cameras",
                "delete_group": "groups",
                "delete_profile": "storage-profiles",
                "delete_viewer": "users",
                "delete_token": "tokens",
                "delete_recipient": "backup-recipients",
                "delete_location": "backup-locations",
            }[name]
            self.send("DELETE", f"/api/{kind}/{self.pick(kind, args[0])}")

    def apply_backup_setting(self, name, args, n):
        """The admins' recipients and the backup locations (SPEC §13, §14): configuration in every backup too."""
        if name == "create_recipient":
            self.send("POST", "/api/backup-recipients", {"name": f"key {n}", "recipient": KEYS[args[0]]})
        elif name == "create_location":
            kind, enabled = args
            body = {**location_item(kind), "name": f"place {n}", "enabled": enabled, "retention": n % 5 or None}
            self.send("POST", "/api/backup-locations", body)
        elif name == "update_location":
            place, kind = args  # a kind changed keeps no stale credentials, and the new kind's fields are given
            body = {**location_item(kind), "prefix": f"/nvr/{n}/", "host_key": ""}
            self.send("PATCH", f"/api/backup-locations/{self.pick('backup-locations', place)}", body)


@example(operations=[("create_camera", 0, []), ("create_viewer", True, [0], []), ("delete_camera", 0)])
@example(operations=[("create_group", []), ("create_viewer", True, [], [0]), ("delete_group", 0)])
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(operations=st.lists(OPERATIONS, min_size=1, max_size=14))
def test_after_every_api_write_a_backup_restores_into_an_empty_database(app, api, operations):
    start = validate_document(export_bytes("manual"))
    world = World(api)
    try:
        for operation in operations:
            world.apply(operation)
            assert_backup_restores_into_an_empty_database()
    finally:
        restore_document(start, force=True)  # the next example starts from the same configuration
        clear_cache()

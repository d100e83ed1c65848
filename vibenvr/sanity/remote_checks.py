"""The HTTP sanity checks: the same kind as the in-process ones, through the JSON API of a running server.

Each check makes its own objects (named ``sanity-…``), changes and deletes them, and returns a one-line
summary. They run inside the zero-trace guard (``HttpTarget``), which puts back whatever they leave.
"""

import secrets
from dataclasses import dataclass, field

from ..settings.registry import SETTINGS
from .hostile import hostile_files
from .remote import error_message
from .runner import expect
from .values import alternative, invalid_value

MISSING_ID = 987654321
MISSING_NAME = "sanity-missing.json"
#: Admin-only API routes (SPEC §9); a viewer's token must get 403 on each.
ADMIN_API = [
    ("GET", "/api/backups"), ("POST", "/api/backups"), ("GET", "/api/backups/status"),
    ("GET", f"/api/backups/{MISSING_NAME}"), ("DELETE", f"/api/backups/{MISSING_NAME}"),
    ("POST", f"/api/backups/{MISSING_NAME}/restore"), ("POST", "/api/backups/import"),
    ("GET", "/api/config/export"), ("POST", "/api/config/restore"),
    ("GET", "/api/settings"), ("PATCH", "/api/settings"),
    ("GET", "/api/storage-profiles"), ("POST", "/api/storage-profiles"),
    ("GET", f"/api/storage-profiles/{MISSING_ID}"), ("PATCH", f"/api/storage-profiles/{MISSING_ID}"),
    ("DELETE", f"/api/storage-profiles/{MISSING_ID}"),
    ("GET", "/api/users"), ("POST", "/api/users"), ("GET", f"/api/users/{MISSING_ID}"),
    ("PATCH", f"/api/users/{MISSING_ID}"), ("DELETE", f"/api/users/{MISSING_ID}"),
    ("POST", "/api/cameras"), ("PATCH", f"/api/cameras/{MISSING_ID}"), ("DELETE", f"/api/cameras/{MISSING_ID}"),
    ("POST", "/api/groups"), ("PATCH", f"/api/groups/{MISSING_ID}"), ("DELETE", f"/api/groups/{MISSING_ID}"),
    ("GET", "/api/sanity/pause"), ("POST", "/api/sanity/pause"), ("DELETE", "/api/sanity/pause"),
]
#: Admin-only pages; checked when the server has them (an admin gets 200).
ADMIN_PAGES = ["/settings/global", "/settings/backups", "/users", "/storage"]


@dataclass
class RemoteContext:
    http: object
    tag: str = field(default_factory=lambda: secrets.token_hex(3))

    def name(self, what):
        return f"sanity-{self.tag}-{what}"

    def create(self, path, payload):
        return self.http.call("POST", path, payload, expect=(201,))

    def delete(self, path):
        self.http.call("DELETE", path, expect=(204,))

    def status(self, method, path, payload=None):
        return self.http.status_of(method, path, payload if payload is not None else ({} if method != "GET" else None))


def _camera(ctx, **fields):
    data = {"name": ctx.name("camera"), "rtsp_url": "rtsp://sanity:p%40ss@192.0.2.10:554/stream1",
            "privacy_masks": [[[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]]],
            "schedule": {"monday": [["20:00", "07:00"]], "sunday": []}}
    return ctx.create("/api/cameras", {**data, **fields})


def _user(ctx, what, role="viewer"):
    return ctx.create("/api/users", {"username": ctx.name(what), "password": secrets.token_urlsafe(12), "role": role})


def storage_profiles(ctx):
    profile = ctx.create("/api/storage-profiles", {"name": ctx.name("disk"), "path": "/recordings/sanity", "max_size_gb": 1})
    path = f"/api/storage-profiles/{profile['id']}"
    changed = ctx.http.call("PATCH", path, {"description": "changed by the sanity run", "max_size_gb": 2})
    expect(changed["max_size_gb"] == 2, "a changed max_size_gb was not saved")
    expect(ctx.status("POST", "/api/storage-profiles", {"name": ctx.name("bad"), "path": "/recordings/../etc"}) == 422,
           "a storage path with .. was not refused with 422")
    ctx.delete(path)
    expect(ctx.status("GET", path) == 404, "a deleted profile is still there")
    return "created, changed and deleted a profile; a path with .. was refused"


def cameras(ctx):
    profile = ctx.create("/api/storage-profiles", {"name": ctx.name("camera-disk"), "path": "/recordings/sanity-cameras"})
    camera = _camera(ctx, storage_profile_id=profile["id"])
    path = f"/api/cameras/{camera['id']}"
    changed = ctx.http.call("PATCH", path, {"location": "Sanity check", "schedule": {"friday": [["00:00", "24:00"]]}})
    expect(changed["location"] == "Sanity check", "a camera change was not saved")
    expect(ctx.status("PATCH", path, {"rtsp_url": "file:///etc/passwd"}) == 422, "a file: camera URL was not refused")
    ctx.delete(f"/api/storage-profiles/{profile['id']}")
    expect(ctx.http.call("GET", path)["storage_profile_id"] is None, "deleting a profile left its camera pointing at it")
    ctx.delete(path)
    expect(ctx.status("GET", path) == 404, "a deleted camera is still there")
    return "created, changed and deleted a camera with a storage profile; a file: URL was refused"


def groups(ctx):
    first, second = _camera(ctx), _camera(ctx, name=ctx.name("camera-b"))
    group = ctx.create("/api/groups", {"name": ctx.name("group"), "camera_ids": [first["id"]]})
    path = f"/api/groups/{group['id']}"
    ctx.http.call("PATCH", path, {"camera_ids": [first["id"], second["id"]]})
    expect(sorted(ctx.http.call("GET", path)["camera_ids"]) == sorted([first["id"], second["id"]]),
           "a group's cameras were not changed")
    expect(ctx.status("POST", "/api/groups", {"name": ctx.name("group-bad"), "camera_ids": [MISSING_ID]}) == 422,
           "a group with a missing camera was not refused")
    ctx.delete(path)
    expect(ctx.status("GET", f"/api/cameras/{first['id']}") == 200, "deleting a group deleted its cameras")
    for camera in (first, second):
        ctx.delete(f"/api/cameras/{camera['id']}")
    return "created, changed and deleted a group of two cameras"


def users(ctx):
    user = _user(ctx, "user")
    path = f"/api/users/{user['id']}"
    expect("hashed_password" not in user and "password" not in user, "the API returned a password or hash")
    changed = ctx.http.call("PATCH", path, {"email": "sanity@example.invalid", "language": "de",
                                            "password": secrets.token_urlsafe(12)})
    expect(changed["language"] == "de", "a user change was not saved")
    expect(ctx.status("POST", "/api/users", {"username": user["username"], "password": secrets.token_urlsafe(12)}) == 409,
           "a duplicate username was not refused with 409")
    ctx.delete(path)
    expect(ctx.status("GET", path) == 404, "a deleted user is still there")
    return "created, changed and deleted a viewer; a duplicate username was refused"


def tokens(ctx):
    owner = _user(ctx, "token-owner")
    token = ctx.create("/api/tokens", {"name": ctx.name("token"), "username": owner["username"], "expires_in_days": 1})
    path = f"/api/tokens/{token['id']}"
    expect(ctx.http.send("GET", "/api/cameras", token=token["token"])[0] == 200, "a new token does not sign in")
    ctx.http.call("PATCH", path, {"is_active": False})
    expect(ctx.http.send("GET", "/api/cameras", token=token["token"])[0] == 401, "a revoked token still signs in")
    ctx.delete(path)
    ctx.delete(f"/api/users/{owner['id']}")
    return "created, used, revoked and deleted a token"


def settings(ctx):
    plain = "/api/settings?include_secrets=true"  # secret settings are answered only when asked for
    original = ctx.http.call("GET", plain)
    changed = []
    for key in [k for k in SETTINGS if k in original]:
        value = alternative(key, ctx.http.call("GET", plain)[key])
        if value is None:
            continue
        expect(ctx.http.call("PATCH", plain, {key: value})[key] == value, f"{key} did not change")
        changed.append(key)
    bad = "backup_auto_frequency_hours"
    expect(ctx.status("PATCH", "/api/settings", {bad: invalid_value(bad)}) == 422, f"an out-of-range {bad} was accepted")
    expect(ctx.http.call("PATCH", plain, original) == original, "the settings could not be put back")
    return f"changed {len(changed)} settings (the backup settings among them) and put them back"


def backup_round_trip(ctx):
    made = [ctx.create("/api/backups", None)["name"]]
    try:
        system_name = ctx.http.call("GET", "/api/settings")["system_name"]
        ctx.http.call("PATCH", "/api/settings", {"system_name": ctx.name("system")})
        camera = _camera(ctx)
        answer = ctx.http.call("POST", f"/api/backups/{made[0]}/restore", {})
        made.append(answer["safety_backup"])
        expect(ctx.status("GET", f"/api/cameras/{camera['id']}") == 404, "a camera made after the backup survived")
        expect(ctx.http.call("GET", "/api/settings")["system_name"] == system_name, "the system name was not restored")
    finally:
        for name in made:
            ctx.delete(f"/api/backups/{name}")
    return f"made {made[0]}, changed the configuration, restored it, deleted it and its safety backup"


def viewer_denied(ctx):
    viewer = _user(ctx, "viewer")
    token = ctx.create("/api/tokens", {"name": ctx.name("viewer-token"), "username": viewer["username"]})["token"]
    wrong, asked = [], 0
    for method, path in ADMIN_API:
        status = ctx.http.status_of(method, path, {} if method != "GET" else None, token=token)
        asked += 1
        if status != 403:
            wrong.append(f"{method} {path} answered {status}")
    for path in ADMIN_PAGES:
        if ctx.http.send("GET", path)[0] != 200:
            continue  # not a page of this server
        asked += 1
        status = ctx.http.send("GET", path, token=token)[0]
        if status != 403:
            wrong.append(f"GET {path} answered {status}")
    ctx.delete(f"/api/users/{viewer['id']}")
    expect(not wrong, "a viewer was not refused: " + "; ".join(wrong[:8]))
    return f"a viewer's token got 403 on all {asked} admin-only requests"


def hostile_imports(ctx):
    profile = ctx.create("/api/storage-profiles", {"name": ctx.name("hostile-disk"), "path": "/recordings/sanity-hostile"})
    camera = _camera(ctx, storage_profile_id=profile["id"])
    owner = _user(ctx, "hostile-owner")
    ctx.create("/api/tokens", {"name": ctx.name("hostile-token"), "username": owner["username"]})
    doc = ctx.http.call("GET", "/api/config/export")
    before = ctx.http.call("GET", "/api/backups")
    table = hostile_files(doc)
    wrong = []
    for label, data, expected in table:
        status, body = ctx.http.upload("/api/backups/import", "sanity-hostile.json", data)
        if status != expected:
            wrong.append(f"{label}: {status} instead of {expected} ({error_message(body)})")
    expect(ctx.http.call("GET", "/api/backups") == before, "a refused import left a file in the backup folder")
    expect(not wrong, "; ".join(wrong))
    ctx.delete(f"/api/users/{owner['id']}")
    ctx.delete(f"/api/cameras/{camera['id']}")
    ctx.delete(f"/api/storage-profiles/{profile['id']}")
    return f"{len(table)} hostile files refused by import with the right status; none stored"


CHECKS = [
    ("storage_profiles", storage_profiles),
    ("cameras", cameras),
    ("groups", groups),
    ("users", users),
    ("tokens", tokens),
    ("settings", settings),
    ("backup_round_trip", backup_round_trip),
    ("viewer_denied", viewer_denied),
    ("hostile_imports", hostile_imports),
]

"""The nine sanity checks, written once against a ``client.Client``: in process (``inprocess.AppClient``,
for ``flask --app app sanity run``) or on a running server (``remote.Http``, for the HTTP script).

Each check makes its own objects (named ``sanity-…``) through the JSON API, changes and deletes them,
and returns a one-line summary; a wrong answer raises CheckFailure. They run inside the zero-trace
guard, which puts back anything a failing check leaves behind.
"""

import secrets
from dataclasses import dataclass, field

from ..settings.registry import SETTINGS
from .guard import differing_sections
from .hostile import hostile_files
from .runner import expect
from .values import alternative, invalid_value

MISSING_ID = 987654321
SETTINGS_PATH = "/api/settings?include_secrets=true"  # secret settings are answered only when asked for


@dataclass
class Context:
    """What the checks share: the client, and a tag that makes the names of what they make unique."""

    client: object
    tag: str = field(default_factory=lambda: secrets.token_hex(3))

    def name(self, what):
        return f"sanity-{self.tag}-{what}"

    def ask(self, method, path, body=None, status=200):
        """The answer to a request that must get ``status``; CheckFailure (with the server's error) otherwise."""
        got, answer = self.client.call(method, path, body)
        expect(got == status, f"{method} {path} answered {got} ({_error(answer)}), not {status}")
        return answer

    def status(self, method, path, body=None):
        """The status of a request (an empty JSON body for a write without one)."""
        return self.client.call(method, path, body if body is not None or method == "GET" else {})[0]

    def create(self, path, body):
        return self.ask("POST", path, body, status=201)

    def delete(self, path):
        self.ask("DELETE", path, status=204)


def _error(answer):
    return (answer.get("error") if isinstance(answer, dict) else None) or "no error message"


def _camera_fields(ctx, **fields):
    return {
        "name": ctx.name("camera"),
        "rtsp_url": "rtsp://sanity:p%40ss@192.0.2.10:554/stream1",
        "privacy_masks": [[[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]]],
        "schedule": {"monday": [["20:00", "07:00"]], "sunday": []},
        **fields,
    }


def _camera(ctx, **fields):
    return ctx.create("/api/cameras", _camera_fields(ctx, **fields))


def _user(ctx, what, **fields):
    return ctx.create(
        "/api/users", {"username": ctx.name(what), "password": secrets.token_urlsafe(12), "role": "viewer", **fields}
    )


def storage_profiles(ctx):
    profile = ctx.create(
        "/api/storage-profiles", {"name": ctx.name("disk"), "path": "/recordings/sanity", "max_size_gb": 1}
    )
    path = f"/api/storage-profiles/{profile['id']}"
    ctx.ask("PATCH", path, {"description": "changed by the sanity run", "max_size_gb": 2})
    expect(ctx.ask("GET", path)["max_size_gb"] == 2, "a changed max_size_gb was not saved")
    expect(
        ctx.status("POST", "/api/storage-profiles", {"name": ctx.name("bad"), "path": "/recordings/../etc"}) == 422,
        "a storage path with .. was not refused with 422",
    )
    ctx.delete(path)
    expect(ctx.status("GET", path) == 404, "a deleted profile is still there")
    return "created, changed and deleted a profile; a path with .. was refused"


def cameras(ctx):
    profile = ctx.create(
        "/api/storage-profiles", {"name": ctx.name("camera-disk"), "path": "/recordings/sanity-cameras"}
    )
    camera = _camera(ctx, storage_profile_id=profile["id"])
    path = f"/api/cameras/{camera['id']}"
    ctx.ask(
        "PATCH",
        path,
        {
            "location": "Sanity check",
            "schedule": {"friday": [["00:00", "24:00"]]},
            "motion_zones": [[[0, 0], [1, 0], [1, 1]]],
        },
    )
    saved = ctx.ask("GET", path)
    expect(
        saved["location"] == "Sanity check" and saved["schedule"] == {"friday": [["00:00", "24:00"]]},
        "a camera change was not saved",
    )
    expect(ctx.status("PATCH", path, {"rtsp_url": "file:///etc/passwd"}) == 422, "a file: camera URL was not refused")
    outside = _camera_fields(ctx, name=ctx.name("camera-2"), privacy_masks=[[[0, 0], [2, 0], [1, 1]]])
    expect(ctx.status("POST", "/api/cameras", outside) == 422, "a privacy mask outside the frame was not refused")
    ctx.delete(f"/api/storage-profiles/{profile['id']}")
    expect(ctx.ask("GET", path)["storage_profile_id"] is None, "deleting a profile left its camera pointing at it")
    ctx.delete(path)
    expect(ctx.status("GET", path) == 404, "a deleted camera is still there")
    return "created, changed and deleted a camera with a storage profile; bad URLs and masks were refused"


def groups(ctx):
    first, second = _camera(ctx), _camera(ctx, name=ctx.name("camera-b"))
    group = ctx.create("/api/groups", {"name": ctx.name("group"), "camera_ids": [first["id"]]})
    path = f"/api/groups/{group['id']}"
    ctx.ask("PATCH", path, {"description": "changed", "camera_ids": [first["id"], second["id"]]})
    members = sorted(ctx.ask("GET", path)["camera_ids"])
    expect(members == sorted([first["id"], second["id"]]), f"the group holds cameras {members} after the change")
    expect(
        ctx.status("POST", "/api/groups", {"name": ctx.name("group-bad"), "camera_ids": [MISSING_ID]}) == 422,
        "a group with a missing camera was not refused",
    )
    ctx.delete(path)
    expect(ctx.status("GET", path) == 404, "a deleted group is still there")
    kept = ctx.client.call("GET", f"/api/cameras/{first['id']}")
    expect(kept[0] == 200, "deleting a group deleted its cameras")
    expect(group["id"] not in kept[1]["group_ids"], "a deleted group kept its cameras")
    for camera in (first, second):
        ctx.delete(f"/api/cameras/{camera['id']}")
    return "created, changed and deleted a group of two cameras"


def users(ctx):
    user = _user(ctx, "user", language="fr")
    path = f"/api/users/{user['id']}"
    expect("hashed_password" not in user and "password" not in user, "the API returned a password or hash")
    changed = ctx.ask(
        "PATCH",
        path,
        {
            "email": "sanity@example.invalid",
            "restrict_camera_access": True,
            "language": "de",
            "password": secrets.token_urlsafe(12),
        },
    )
    expect(changed["language"] == "de" and changed["restrict_camera_access"], "a user change was not saved")
    expect("hashed_password" not in changed and "password" not in changed, "the API returned a password or hash")
    expect(
        ctx.status("POST", "/api/users", {"username": user["username"], "password": secrets.token_urlsafe(12)}) == 409,
        "a duplicate username was not refused with 409",
    )
    ctx.delete(path)
    expect(ctx.status("GET", path) == 404, "a deleted user is still there")
    return "created, changed (password too) and deleted a viewer; a duplicate username was refused"


def tokens(ctx):
    owner = _user(ctx, "token-owner")
    token = ctx.create("/api/tokens", {"name": ctx.name("token"), "username": owner["username"], "expires_in_days": 1})
    path = f"/api/tokens/{token['id']}"
    as_owner = ctx.client.as_token(token["token"])
    expect(as_owner.call("GET", "/api/cameras")[0] == 200, "a new token does not sign its owner in")
    expect(
        ctx.ask("PATCH", path, {"name": ctx.name("token-renamed")})["name"] == ctx.name("token-renamed"),
        "a token was not renamed",
    )
    ctx.ask("PATCH", path, {"is_active": False})
    expect(as_owner.call("GET", "/api/cameras")[0] == 401, "a revoked token still signs in")
    ctx.delete(path)
    ctx.delete(f"/api/users/{owner['id']}")
    return "created, used, renamed, revoked and deleted a token"


def settings(ctx):
    original = ctx.ask("GET", SETTINGS_PATH)
    changed = []
    for key in [k for k in SETTINGS if k in original]:
        value = alternative(key, ctx.ask("GET", SETTINGS_PATH)[key])
        if value is None:
            continue
        expect(ctx.ask("PATCH", SETTINGS_PATH, {key: value})[key] == value, f"{key} did not change to {value!r}")
        changed.append(key)
    bad = "backup_auto_frequency_hours"
    before = ctx.ask("GET", SETTINGS_PATH)[bad]
    expect(ctx.status("PATCH", SETTINGS_PATH, {bad: invalid_value(bad)}) == 422, f"an out-of-range {bad} was accepted")
    expect(ctx.ask("GET", SETTINGS_PATH)[bad] == before, f"a refused {bad} changed it anyway")
    expect(ctx.ask("PATCH", SETTINGS_PATH, original) == original, "the settings could not be put back")
    backup_keys = [k for k in changed if k.startswith("backup_auto_")]
    return f"changed {len(changed)} settings (including {', '.join(backup_keys)}) and put them back"


def backup_round_trip(ctx):
    made = [ctx.create("/api/backups", None)["name"]]
    try:
        status, data = ctx.client.call("GET", f"/api/backups/{made[0]}")
        expect(status == 200 and isinstance(data, dict), f"the new backup {made[0]} could not be read ({status})")
        ctx.ask("PATCH", "/api/settings", {"system_name": ctx.name("system")})
        camera = _camera(ctx)
        made.append(ctx.ask("POST", f"/api/backups/{made[0]}/restore", {})["safety_backup"])
        expect(
            ctx.status("GET", f"/api/cameras/{camera['id']}") == 404,
            "a camera made after the backup survived its restore",
        )
        differs = differing_sections(data, ctx.ask("GET", "/api/config/export"))
        expect(not differs, f"after the restore the configuration differs from the backup in {differs}")
    finally:
        for name in made:
            ctx.delete(f"/api/backups/{name}")
    return f"made {made[0]}, changed the configuration, restored it, deleted it and its safety backup"


def viewer_denied(ctx):
    viewer = _user(ctx, "viewer")
    token = ctx.create("/api/tokens", {"name": ctx.name("viewer-token"), "username": viewer["username"]})["token"]
    admin_only = ctx.client.admin_requests()
    as_viewer = ctx.client.as_token(token)
    wrong = []
    for method, path in admin_only.requests:
        status = as_viewer.call(method, path, None if method == "GET" else {})[0]
        if status != 403:
            wrong.append(f"{method} {path} answered {status}")
    ctx.delete(f"/api/users/{viewer['id']}")  # its token and session go with it
    expect(not admin_only.unmarked, "routes without an access decision: " + ", ".join(admin_only.unmarked))
    expect(admin_only.requests, "no admin-only route was found")
    expect(not wrong, f"a viewer was not refused: {'; '.join(wrong[:8])}" + (" …" if len(wrong) > 8 else ""))
    return f"a viewer got 403 on all {len(admin_only.requests)} admin-only requests ({admin_only.how})"


def hostile_imports(ctx):
    profile = ctx.create(
        "/api/storage-profiles", {"name": ctx.name("hostile-disk"), "path": "/recordings/sanity-hostile"}
    )
    camera = _camera(ctx, storage_profile_id=profile["id"])
    owner = _user(ctx, "hostile-owner")
    ctx.create("/api/tokens", {"name": ctx.name("hostile-token"), "username": owner["username"]})
    doc = ctx.ask("GET", "/api/config/export")
    before = ctx.ask("GET", "/api/backups")
    table = hostile_files(doc)
    wrong = []
    for label, data, expected in table:
        status, answer = ctx.client.upload("/api/backups/import", "sanity-hostile.json", data)
        if status != expected:
            wrong.append(f"{label}: {status} instead of {expected} ({_error(answer)})")
    expect(ctx.ask("GET", "/api/backups") == before, "a refused import left a file in the backup folder")
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

"""Writes do not race a restore (SPEC §12), with two real gunicorn workers on SQLite or PostgreSQL.

One client loops ``PATCH /api/cameras/<id>`` while another restores two backups of different
configurations in turn. After each restore the configuration is the backup's exactly, except for what a
PATCH that landed after it set: the camera's ``overlay_text`` (and, in the second variant, its group
memberships), as one PATCH sent them. No answer is a 500.
"""

import json
import threading
import time

import pytest

from vibenvr.auth.passwords import hash_password
from vibenvr.backups.service import create_backup
from vibenvr.cameras.service import create_camera, delete_camera, update_camera
from vibenvr.db import db, write_transaction
from vibenvr.groups.service import create_group, delete_group
from vibenvr.models import Camera, Group, User
from vibenvr.settings.service import update_settings
from vibenvr.storage.service import create_profile, update_profile
from vibenvr.users.service import update_user

from builders import make_token, make_user
from conftest import make_app
from support.gunicorn import Gunicorn, call

pytestmark = pytest.mark.slow

RESTORES = 20


def _two_configurations(data_dir):
    """An admin with a token, configuration A backed up, then changed into B and backed up.

    The target camera has the same id in both, with another name, recording mode, storage profile,
    overlay text and groups; two groups exist in both (the PATCHes move the camera between them).
    """
    app = make_app(data_dir)
    with app.app_context(), db.connection_context():
        token = make_token(make_user("admin", role="admin"), name="race test")
        viewer = make_user("guard", role="viewer")
        update_settings({"system_name": "Site A"})
        disk_a = create_profile({"name": "Disk A", "path": "/recordings/a", "max_size_gb": 100})
        disk_b = create_profile({"name": "Disk B", "path": "/recordings/b", "max_size_gb": 200})
        outside = create_group({"name": "Outside", "camera_ids": []})
        entrances = create_group({"name": "Entrances", "camera_ids": []})
        old = create_group({"name": "Old", "camera_ids": []})
        target = create_camera(
            {
                "name": "Front door",
                "rtsp_url": "rtsp://cam/front",
                "recording_mode": "motion",
                "overlay_text": "A overlay",
                "storage_profile_id": disk_a.id,
                "group_ids": [outside.id, old.id],
            }
        )
        garage = create_camera({"name": "Garage", "rtsp_url": "rtsp://cam/garage", "group_ids": [entrances.id]})
        yard = create_camera({"name": "Back yard", "rtsp_url": "rtsp://cam/yard", "group_ids": [outside.id]})
        update_user(viewer, {"restrict_camera_access": True, "allowed_camera_ids": [garage.id]})
        backup_a = create_backup("manual").name

        update_settings({"system_name": "Site B"})
        update_camera(
            Camera.get_by_id(target.id),
            {
                "name": "Front gate",
                "recording_mode": "continuous",
                "location": "Gate",
                "overlay_text": "B overlay",
                "storage_profile_id": disk_b.id,
                "group_ids": [entrances.id],
            },
        )
        delete_camera(Camera.get_by_id(yard.id))
        create_camera(
            {"name": "Shed", "rtsp_url": "rtsp://cam/shed", "recording_mode": "off", "group_ids": [outside.id]}
        )
        delete_group(Group.get_by_id(old.id))
        create_group({"name": "New", "description": "only in B", "camera_ids": [garage.id]})
        update_profile(disk_a, {"max_size_gb": 500})
        update_user(User.get_by_id(viewer.id), {"language": "de"})
        backup_b = create_backup("manual").name
        documents = {name: json.loads((app.config["BACKUP_DIR"] / name).read_bytes()) for name in (backup_a, backup_b)}
    return token, target.id, [outside.id, entrances.id], [backup_a, backup_b], documents


def _groups_of(doc, camera_id):
    return sorted(a["group_id"] for a in doc["associations"] if a["camera_id"] == camera_id)


def _problems(export, backup, camera_id, patches):
    """How ``export`` differs from ``backup`` beyond one landed PATCH; an empty list when it does not.

    Allowed: the camera's ``overlay_text`` and memberships are either the backup's or exactly those of
    one PATCH that was sent (``patches``: overlay text -> group ids, None when the PATCH left the groups
    alone); a token's ``last_used_at`` (a usage stamp).
    """
    problems = []
    for section in ("settings", "storage_profiles", "groups", "users", "recovery_codes", "trusted_devices"):
        if export[section] != backup[section]:
            problems.append(f"{section}: {export[section]!r} != backup {backup[section]!r}")
    tokens = [
        [{k: v for k, v in t.items() if k != "last_used_at"} for t in doc["api_tokens"]] for doc in (export, backup)
    ]
    if tokens[0] != tokens[1]:
        problems.append(f"api_tokens: {tokens[0]!r} != backup {tokens[1]!r}")

    def others(doc):
        return (
            [c for c in doc["cameras"] if c["id"] != camera_id],
            [a for a in doc["associations"] if a["camera_id"] != camera_id],
        )

    if others(export) != others(backup):
        problems.append(f"other cameras or memberships: {others(export)!r} != backup {others(backup)!r}")
    mine = [c for c in export["cameras"] if c["id"] == camera_id]
    theirs = next(c for c in backup["cameras"] if c["id"] == camera_id)
    if len(mine) != 1:
        return [*problems, f"camera {camera_id} is missing"]
    overlay, groups = mine[0]["overlay_text"], _groups_of(export, camera_id)
    changed = {k: (v, theirs.get(k)) for k, v in mine[0].items() if k != "overlay_text" and v != theirs.get(k)}
    if changed or mine[0].keys() != theirs.keys():
        problems.append(f"camera {camera_id} differs from the backup beyond overlay_text: (now, backup) {changed}")
    if overlay == theirs["overlay_text"]:
        if groups != _groups_of(backup, camera_id):
            problems.append(f"camera {camera_id} has the backup's overlay text but groups {groups}")
    elif overlay not in patches:
        problems.append(f"camera {camera_id} has overlay text {overlay!r}, which no PATCH sent")
    elif groups != (patches[overlay] if patches[overlay] is not None else _groups_of(backup, camera_id)):
        problems.append(f"camera {camera_id} has the overlay text of one PATCH but groups {groups}")
    return problems


class PatchLoop(threading.Thread):
    """PATCHes the camera as fast as one client can until stopped; records what it sent and the answers."""

    def __init__(self, url, token, camera_id, group_choices):
        super().__init__(daemon=True)
        self.url, self.token, self.group_choices = f"{url}/api/cameras/{camera_id}", token, group_choices
        self.sent, self.statuses, self.errors = {}, [], []
        self.stop = threading.Event()

    def patch(self, n):
        body = {"overlay_text": f"patch {n}"}
        if self.group_choices:
            body["group_ids"] = self.group_choices[n % len(self.group_choices)]
        self.sent[body["overlay_text"]] = sorted(body["group_ids"]) if self.group_choices else None
        status, answer = call("PATCH", self.url, self.token, body)
        self.statuses.append(status)
        if status != 200:
            self.errors.append((status, answer))
        return status, answer

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            self.patch(n)


def _race(tmp_path, with_groups):
    token, camera_id, common_groups, names, documents = _two_configurations(tmp_path / "data")
    choices = [[common_groups[0]], [common_groups[1]], common_groups, []] if with_groups else None
    with Gunicorn(tmp_path / "data", tmp_path / "gunicorn.log", workers=2) as server:
        loop = PatchLoop(server.url, token, camera_id, choices)
        loop.start()
        failures, started = [], time.monotonic()
        try:
            for i in range(RESTORES):
                name = names[i % 2]
                before = len(loop.statuses)
                status, answer = call("POST", f"{server.url}/api/backups/{name}/restore", token)
                assert status == 200, f"restore {i + 1} of {name}: {status} {answer}\n{server.log()[-3000:]}"
                status, export = call("GET", f"{server.url}/api/config/export", token)
                assert status == 200, f"export after restore {i + 1}: {status} {export}"
                problems = _problems(export, documents[name], camera_id, dict(loop.sent))
                if problems:
                    failures.append(
                        f"restore {i + 1} of {name} ({len(loop.statuses) - before} PATCHes "
                        f"answered meanwhile): " + "; ".join(problems)
                    )
        finally:
            loop.stop.set()
            loop.join(60)
        elapsed = time.monotonic() - started
        assert not failures, f"{len(failures)} of {RESTORES} restores were not the backup's:\n" + "\n".join(failures)
        assert not loop.errors, f"PATCH answers other than 200: {loop.errors[:5]}\n{server.log()[-3000:]}"
        assert len(loop.statuses) >= RESTORES, f"only {len(loop.statuses)} PATCHes in {elapsed:.1f} s: no race"

        # At the end: the last backup restored, then one PATCH after it, exactly.
        last = names[(RESTORES - 1) % 2]
        status, _ = loop.patch(0)
        assert status == 200
        status, export = call("GET", f"{server.url}/api/config/export", token)
        assert _problems(export, documents[last], camera_id, {"patch 0": loop.sent["patch 0"]}) == []
        camera = next(c for c in export["cameras"] if c["id"] == camera_id)
        assert camera["overlay_text"] == "patch 0"
        if with_groups:
            assert _groups_of(export, camera_id) == loop.sent["patch 0"]
        assert "Traceback" not in server.log(), server.log()[-3000:]


def test_patches_of_a_camera_during_restores_never_bring_back_the_old_configuration(tmp_path):
    _race(tmp_path, with_groups=False)


def test_patches_with_group_ids_during_restores_keep_the_backup_and_never_deadlock(tmp_path):
    _race(tmp_path, with_groups=True)


class LockProbe(threading.Thread):
    """Takes the write lock (``write_transaction``, as the app does) over and over from the test process and
    records how long each wait was: a long wait means some write held the lock that long."""

    def __init__(self):
        super().__init__(daemon=True)
        self.waits, self.stop = [], threading.Event()

    def run(self):
        self.started = time.monotonic()
        with db.connection_context():
            while not self.stop.wait(0.02):  # paces the probe; the measurement is the wait below
                started = time.monotonic()
                with write_transaction():
                    self.waits.append(time.monotonic() - started)
        self.finished = time.monotonic()


def test_four_clients_creating_users_with_real_argon2_never_get_a_500_nor_hold_the_lock_while_hashing(tmp_path):
    """Each creation hashes its password (argon2) before its write transaction, so the lock is held for
    milliseconds, not for a hash: with the Docker command's 2 workers x 4 threads all 40 are created, and a
    probe taking the write lock meanwhile never waits anywhere near as long as one hash takes."""
    app = make_app(tmp_path / "data")
    with app.app_context(), db.connection_context():
        token = make_token(make_user("admin", role="admin"), name="argon2 test")
    started = time.monotonic()
    hash_password("the time one hash takes here")
    one_hash = time.monotonic() - started  # for the message
    answers = []

    def create(client):
        for i in range(10):
            body = {"username": f"user-{client}-{i}", "password": f"a long password {client} {i}", "role": "viewer"}
            answers.append(call("POST", f"{server.url}/api/users", token, body))

    with Gunicorn(tmp_path / "data", tmp_path / "gunicorn.log", workers=2, threads=4) as server:
        probe = LockProbe()
        clients = [threading.Thread(target=create, args=(n,)) for n in range(4)]
        probe.start()
        for client in clients:
            client.start()
        for client in clients:
            client.join(300)
        probe.stop.set()
        probe.join(60)
        failed = [(status, answer) for status, answer in answers if status != 201]
        assert len(answers) == 40 and not failed, f"{len(failed)} of {len(answers)} failed: {failed[:5]}"
        status, listing = call("GET", f"{server.url}/api/users", token)
        assert status == 200
        assert sorted(u["username"] for u in listing["users"]) == sorted(
            ["admin", *(f"user-{c}-{i}" for c in range(4) for i in range(10))]
        )
        assert "Traceback" not in server.log(), server.log()[-3000:]
    # Hashing inside the transaction kept the lock held nearly all the time (the probe waited up to 6 s at
    # once); now the probe finds it free at once almost always.
    waited, elapsed = sum(probe.waits), probe.finished - probe.started
    assert waited < elapsed / 4, (
        f"the probe waited {waited:.1f} s of {elapsed:.1f} s for the write lock (at most "
        f"{max(probe.waits):.2f} s at once; one argon2 hash takes {one_hash:.2f} s)"
    )
    assert len(probe.waits) >= 10, f"the probe took the lock only {len(probe.waits)} times"

"""A backup written by another install (its own data folder and database), for the restore of a fresh one
(SPEC §16). Make it before the app under test: building an app binds the shared database proxy to its own."""

from vibenvr.backups import service

from builders import make_camera, make_group, make_user
from conftest import connected_app


def source_backup(data_dir, admins=("anna", "bob"), viewers=("carol",), cameras=12):
    """``(name, bytes)`` of a manual backup made on ``data_dir``: ``cameras`` cameras (the first in a group),
    the ``admins`` and ``viewers`` (password ``builders.PASSWORD``)."""
    with connected_app(data_dir) as source:
        for username in admins:
            make_user(username, role="admin")
        for username in viewers:
            make_user(username, role="viewer")
        made = [make_camera(name=f"Camera {n}") for n in range(1, cameras + 1)]
        make_group(name="Outside", camera_ids=[made[0].id] if made else [])
        with source.app_context():
            entry = service.create_backup("manual")
        return entry.name, (source.config["BACKUP_DIR"] / entry.name).read_bytes()

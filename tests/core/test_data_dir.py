import logging
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from vibenvr.db import db
from vibenvr.models import Setting
from vibenvr.settings.registry import SETTINGS

from conftest import make_app


def test_fresh_data_dir_gets_private_secret_key_tables_and_default_settings(tmp_path):
    data = tmp_path / "fresh"
    app = make_app(data, SECRET_KEY=None)
    key_file = data / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert stat.S_IMODE((data / "backups").stat().st_mode) == 0o700
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    if app.config["DATABASE_URL"].startswith("sqlite"):
        assert stat.S_IMODE((data / "vibenvr.db").stat().st_mode) == 0o600
        for companion in ("vibenvr.db-wal", "vibenvr.db-shm"):
            if (data / companion).exists():
                assert stat.S_IMODE((data / companion).stat().st_mode) == 0o600
    with app.app_context(), db.connection_context():
        stored = {s.key: s.value for s in Setting.select()}
    assert stored == {key: definition.default for key, definition in SETTINGS.items()}


def test_secret_key_survives_a_restart(tmp_path):
    data = tmp_path / "d"
    first = make_app(data, SECRET_KEY=None).config["SECRET_KEY"]
    second = make_app(data, SECRET_KEY=None).config["SECRET_KEY"]
    assert first == second


def test_sqlite_runs_in_wal_mode(app):
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        return
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"


# --- an existing data folder open to other users (SPEC §12 "Failures of the machine") ------------------

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))
SETPRIV = shutil.which("setpriv")


def test_an_existing_data_folder_open_to_others_is_tightened_at_start_and_logged(tmp_path, caplog):
    data = tmp_path / "old-install"
    data.mkdir()
    os.chmod(data, 0o755)  # noqa: S103  (what an older release or a hand-made folder left)
    with caplog.at_level(logging.WARNING, logger="vibenvr.config"):
        make_app(data)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert f"the data folder {data} had mode 0755, open to other users; tightened it to 0700" in caplog.text


def test_a_secret_key_and_sqlite_files_open_to_others_are_tightened(tmp_path, caplog):
    data = tmp_path / "d"
    app = make_app(data, SECRET_KEY=None)
    sqlite = app.config["DATABASE_URL"].startswith("sqlite")
    loose = [data / "secret_key"] + ([data / "vibenvr.db"] if sqlite else [])
    for path in loose:
        path.touch()
        os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, logger="vibenvr.config"):
        make_app(data, SECRET_KEY=None)
    for path in loose:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert f"{path} had mode 0644, open to other users; tightened it to 0600" in caplog.text


def test_a_private_data_folder_is_left_alone_and_nothing_is_logged(tmp_path, caplog):
    data = tmp_path / "d"
    make_app(data, SECRET_KEY=None)
    os.chmod(data / "secret_key", 0o400)  # stricter than needed: not loosened
    with caplog.at_level(logging.WARNING, logger="vibenvr.config"):
        make_app(data, SECRET_KEY=None)
    assert stat.S_IMODE((data / "secret_key").stat().st_mode) == 0o400
    assert "tightened" not in caplog.text


def _not_the_owner(tmp_path):
    """A data folder open to others that this test's subprocesses cannot chmod: owned by another user,
    and the subprocess runs without CAP_FOWNER (root can otherwise chmod anything)."""
    if os.geteuid() != 0 or SETPRIV is None:
        pytest.skip("needs root and setpriv to make a folder this process does not own")
    data = tmp_path / "foreign"
    data.mkdir()
    os.chown(data, 65534, 65534)
    os.chmod(data, 0o755)  # noqa: S103  (the loose folder under test)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "WERKZEUG_", "VIBENVR_"))}
    env.update(VIBENVR_DATA_DIR=str(data), VIBENVR_SCHEDULER="off", PYTHONUNBUFFERED="1")
    env.pop("DATABASE_URL", None)
    return data, env


def test_a_terminal_command_refuses_to_start_when_the_data_folder_cannot_be_made_private(tmp_path):
    data, env = _not_the_owner(tmp_path)
    done = subprocess.run(
        [SETPRIV, "--bounding-set=-fowner", FLASK, "--app", "app", "backup", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(
        f"Error: The data folder {data} has mode 0755, open to other users, and "
        "cannot be made private (0700): it belongs to nobody (uid 65534)"
    ), done.stderr
    assert f"run `chmod 700 {data}`" in done.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o755
    assert list(data.iterdir()) == []  # refused before anything was written


@pytest.mark.slow
def test_gunicorn_refuses_to_start_when_the_data_folder_cannot_be_made_private(tmp_path):
    data, env = _not_the_owner(tmp_path)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = subprocess.run(
        [
            SETPRIV,
            "--bounding-set=-fowner",
            gunicorn,
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "app:app",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0, done
    log = done.stdout + done.stderr
    assert f"ERROR vibenvr: The data folder {data} has mode 0755" in log, log
    assert "Worker failed to boot" in log, log
    assert list(data.iterdir()) == []

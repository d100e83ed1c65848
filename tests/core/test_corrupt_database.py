"""A damaged database (SPEC §12 "Failures of the machine"): four kinds of damage to the SQLite file, each
recognised at start; the web app boots anyway and answers 503 naming the command; the terminal restore
keeps the damaged file aside and rebuilds the backup's configuration exactly; a healthy database is never
moved. These tests use SQLite whatever TEST_DATABASE_URL says, except the PostgreSQL one."""

import json
import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import peewee
import pytest

from vibenvr import create_app, dbhealth
from vibenvr.backups import service
from vibenvr.backups.automation.rules import AutoBackups
from vibenvr.backups.automation.status import read_status
from vibenvr.backups.document.export import export_document
from vibenvr.db import db

from backups.helpers import build_rich_config, sections
from builders import make_token
from support.clock import FakeClock

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
KEPT = re.compile(r"The damaged database was kept at (\S+?vibenvr\.db\.corrupt-\d{8}T\d{6}Z)[ .]")


def _config(data_dir, **overrides):
    return {
        "TESTING": True,
        "DATA_DIR": data_dir,
        "SCHEDULER_ENABLED": False,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": f"sqlite:///{data_dir / 'vibenvr.db'}",
        "DATABASE_RECHECK_SECONDS": 0,
        **overrides,
    }


def _app(data_dir, **overrides):
    return create_app(_config(data_dir, **overrides))


@pytest.fixture
def installed(tmp_path):
    """A data folder with a rich configuration, an admin token and one manual backup; no connection left open."""
    data_dir = tmp_path / "data"
    app = _app(data_dir)
    with app.app_context(), db.connection_context():
        rich = build_rich_config()
        token = make_token(rich["admin"], name="corruption test")
        name = service.create_backup("manual").name
    database = data_dir / "vibenvr.db"
    assert not Path(f"{database}-wal").exists()  # everything is in the main file, which the damage hits
    backup = json.loads((data_dir / "backups" / name).read_bytes())
    return {"data_dir": data_dir, "database": database, "backup": name, "expected": sections(backup), "token": token}


# --- four kinds of damage ----------------------------------------------------------------------------


def zeroed_header(path):
    with path.open("r+b") as handle:
        handle.write(bytes(100))


def half_truncated(path):
    os.truncate(path, path.stat().st_size // 2)


def flipped_bytes(path):
    """Every bit of 64 bytes in the middle of the file, at the start of a page (its b-tree header)."""
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    middle = (len(data) // page_size // 2) * page_size
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))


def camera_table(path):
    """Only the camera table: every page of its b-tree (root page from sqlite_master) overwritten."""
    connection = sqlite3.connect(path)
    try:
        (root,) = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'camera'"
        ).fetchone()
        (page_size,) = connection.execute("PRAGMA page_size").fetchone()
        try:
            pages = [row[0] for row in connection.execute("SELECT pageno FROM dbstat WHERE name = 'camera'")]
        except sqlite3.OperationalError:  # an SQLite without the dbstat table: the root page is the b-tree here
            pages = [root]
    finally:
        connection.close()
    assert root in pages
    with path.open("r+b") as handle:
        for page in pages:
            handle.seek((page - 1) * page_size)
            handle.write(b"\xa5" * page_size)


DAMAGE = [zeroed_header, half_truncated, flipped_bytes, camera_table]


def damage(installed, how):
    path = installed["database"]
    how(path)
    problem = dbhealth.check(peewee.SqliteDatabase(str(path)))
    assert problem is not None and problem.damaged, f"{how.__name__} did not damage the database: {problem}"
    return path.read_bytes()


def _assert_exact(data_dir, expected):
    app = _app(data_dir)
    assert app.extensions["dbhealth"].problem is None
    with app.app_context(), db.connection_context():
        assert sections(export_document()) == expected


def _cli(data_dir, *args, env=None):
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "WERKZEUG_", "VIBENVR_")) and k not in ("DATABASE_URL", "TEST_DATABASE_URL")
    }
    environment.update(VIBENVR_DATA_DIR=str(data_dir), VIBENVR_SCHEDULER="off", **(env or {}))
    result = subprocess.run(
        [FLASK, "--app", "app", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


# --- recognised at start, and the web app answers 503 ------------------------------------------------


@pytest.mark.parametrize("how", DAMAGE, ids=lambda how: how.__name__)
def test_web_app_boots_on_a_damaged_database_and_every_request_answers_503_with_the_command(installed, how):
    damage(installed, how)
    app = _app(installed["data_dir"])
    problem = app.extensions["dbhealth"].problem
    assert problem.damaged and problem.path == installed["database"]
    client = app.test_client()
    command = f"flask --app app backup restore {installed['backup']} --yes"

    for path in ("/", "/login", "/cameras", "/settings/backups", "/setup"):
        page = client.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 503, path
        assert "The database is damaged" in html and command in html, path
        assert f"docker compose exec vibenvr-config {command}" in html
        assert "Traceback" not in html and str(installed["data_dir"]) not in html  # no paths for visitors
    assert client.post("/login", data={"username": "alice", "password": "x"}).status_code == 503

    answer = client.get("/api/cameras", headers={"Authorization": f"Bearer {installed['token']}"})
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["database"] == "damaged" and body["command"] == command and body["backup"] == installed["backup"]
    assert "damaged" in body["error"]
    assert client.post("/api/backups").status_code == 503

    health = client.get("/api/health")  # liveness: the process is up, and says what is wrong
    assert health.status_code == 200
    assert health.get_json()["status"] == "ok" and health.get_json()["database"] == "damaged"

    htmx = client.get("/settings/backups", headers={"HX-Request": "true"})
    assert htmx.status_code == 503 and htmx.headers["HX-Refresh"] == "true"
    assert client.get("/static/css/app.css").status_code == 200  # the 503 page keeps its style


def test_the_page_says_when_there_is_no_valid_backup_to_restore(installed):
    backup = installed["data_dir"] / "backups" / installed["backup"]
    backup.write_bytes(backup.read_bytes()[:-20])  # damaged too: not valid
    damage(installed, zeroed_header)
    client = _app(installed["data_dir"]).test_client()
    html = client.get("/").get_data(as_text=True)
    assert "There is no valid backup" in html and "flask --app app backup restore FILE --yes" in html
    assert client.get("/api/groups").get_json()["backup"] is None


def test_damage_found_while_serving_answers_503_not_500(installed):
    app = _app(installed["data_dir"])
    client = app.test_client()
    headers = {"Authorization": f"Bearer {installed['token']}"}
    assert client.get("/api/cameras", headers=headers).status_code == 200
    camera_table(installed["database"])  # the disk fails under the running app (no connection is open)
    answer = client.get("/api/cameras", headers=headers)
    assert answer.status_code == 503 and answer.get_json()["database"] == "damaged"
    assert client.get("/api/groups", headers=headers).status_code == 503  # from now on, until restored
    assert "The database is damaged" in client.get("/cameras").get_data(as_text=True)


def test_other_database_errors_still_reach_the_app_s_error_handler(installed):
    app = _app(installed["data_dir"])

    def broken():
        raise peewee.IntegrityError("UNIQUE constraint failed: camera.name")

    app.add_url_rule("/api/test-broken", "test_broken", broken)
    answer = app.test_client().get("/api/test-broken")
    assert answer.status_code == 500 and "database" not in answer.get_json()
    assert app.extensions["dbhealth"].problem is None


def test_a_running_app_serves_again_once_the_terminal_restore_has_rebuilt_the_database(installed):
    damage(installed, zeroed_header)
    client = _app(installed["data_dir"]).test_client()
    assert client.get("/login").status_code == 503
    result = _cli(installed["data_dir"], "backup", "restore", installed["backup"], "--yes")
    assert result.returncode == 0, result.stderr
    assert client.get("/login").status_code == 200  # looked again, no restart
    assert client.get("/api/health").get_json() == {"status": "ok"}
    headers = {"Authorization": f"Bearer {installed['token']}"}
    assert [c["name"] for c in client.get("/api/cameras", headers=headers).get_json()["cameras"]] == [
        c["name"] for c in installed["expected"]["cameras"]
    ]


def test_the_scheduler_leaves_a_damaged_database_and_its_wal_alone(installed):
    damage(installed, zeroed_header)
    wal = Path(f"{installed['database']}-wal")
    wal.write_bytes(b"left by a crash")  # a writable connection would delete it on closing
    app = _app(installed["data_dir"])
    status = read_status(installed["data_dir"])
    AutoBackups(app, clock=FakeClock()).tick()  # automatic backups are on in this configuration
    assert wal.read_bytes() == b"left by a crash"
    assert sorted(p.name for p in (installed["data_dir"] / "backups").iterdir()) == [installed["backup"]]
    assert read_status(installed["data_dir"]) == status


# --- the terminal ------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("how", DAMAGE, ids=lambda how: how.__name__)
def test_terminal_restore_keeps_the_damaged_file_and_rebuilds_the_backup_s_configuration_exactly(installed, how):
    damaged_bytes = damage(installed, how)
    data_dir, name = installed["data_dir"], installed["backup"]

    listing = _cli(data_dir, "backup", "list")  # needs only the files: works, and warns
    assert listing.returncode == 0 and listing.stdout.startswith(name)
    assert "is damaged" in listing.stderr and f"flask --app app backup restore {name} --yes" in listing.stderr
    assert _cli(data_dir, "backup", "verify", name).returncode == 0
    refused = _cli(data_dir, "backup", "create")
    assert refused.returncode == 1 and "is damaged" in refused.stderr and "nothing was changed" in refused.stderr

    result = _cli(data_dir, "backup", "restore", name, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Restored: 24 settings" in result.stdout
    assert "No safety backup was written: the current database is unreadable" in result.stdout
    kept = Path(KEPT.search(result.stdout).group(1))
    assert kept.parent == data_dir and kept.read_bytes() == damaged_bytes
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(installed["database"].stat().st_mode) == 0o600
    assert sorted(p.name for p in (data_dir / "backups").iterdir()) == [name]  # no safety backup
    assert not [p for p in data_dir.iterdir() if p.name.startswith(".vibenvr.db")]  # no temporary file left

    _assert_exact(data_dir, installed["expected"])
    listing = _cli(data_dir, "backup", "list")
    assert listing.returncode == 0 and "damaged" not in listing.stderr


def test_terminal_restore_from_a_file_elsewhere_keeps_the_wal_and_shm_beside_the_damaged_file(installed, tmp_path):
    outside = tmp_path / "rescue.json"
    outside.write_bytes((installed["data_dir"] / "backups" / installed["backup"]).read_bytes())
    damage(installed, zeroed_header)
    database = installed["database"]
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").write_bytes(b"left by a crash")
        os.chmod(f"{database}{suffix}", 0o644)
    result = _cli(installed["data_dir"], "backup", "restore", str(outside), "--yes")
    assert result.returncode == 0, result.stderr
    kept = Path(KEPT.search(result.stdout).group(1))
    assert "(with its -wal and -shm files)" in result.stdout
    for suffix in ("-wal", "-shm"):
        assert stat.S_IMODE(Path(f"{kept}{suffix}").stat().st_mode) == 0o600
    assert Path(f"{kept}-wal").read_bytes() == b"left by a crash"  # the -shm is only SQLite's index of it
    _assert_exact(installed["data_dir"], installed["expected"])


def test_a_healthy_database_is_never_moved_aside(installed):
    result = _cli(installed["data_dir"], "backup", "restore", installed["backup"], "--yes")
    assert result.returncode == 0, result.stderr
    assert "Safety backup of the previous configuration: vibe_backup_safety_" in result.stdout
    assert not [p for p in installed["data_dir"].iterdir() if ".corrupt-" in p.name or p.name.startswith(".vibenvr")]
    _assert_exact(installed["data_dir"], installed["expected"])


@pytest.mark.parametrize(
    "args",
    [
        ["backup", "create"],
        ["backup", "prune"],
        ["backup", "delete", "x.json"],
        ["users", "list"],
        ["tokens", "create", "alice", "--name", "x"],
        ["sanity", "run"],
    ],
    ids=" ".join,
)
def test_commands_that_need_the_database_say_it_is_damaged_and_what_to_run(installed, args):
    damage(installed, half_truncated)
    app = _app(installed["data_dir"])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output + result.stderr
    assert f"Error: the database {installed['database']} is damaged" in result.stderr
    assert f"flask --app app backup restore {installed['backup']} --yes" in result.stderr


def test_restore_over_a_damaged_database_is_a_whole_replace_and_asks_first(installed):
    damaged_bytes = damage(installed, camera_table)
    runner = _app(installed["data_dir"]).test_cli_runner()
    for extra in (["--mode", "merge"], ["--section", "cameras"]):
        result = runner.invoke(args=["backup", "restore", installed["backup"], "--yes", *extra])
        assert result.exit_code == 1 and "only a whole restore can rebuild it" in result.stderr
    result = runner.invoke(args=["backup", "restore", installed["backup"]], input="n\n")
    assert result.exit_code == 1 and "The current database is damaged and cannot be backed up" in result.output
    assert installed["database"].read_bytes() == damaged_bytes
    assert not [p for p in installed["data_dir"].iterdir() if ".corrupt-" in p.name]


def test_no_safety_restores_when_the_current_configuration_cannot_be_read(installed):
    connection = sqlite3.connect(installed["database"])
    with connection:
        connection.execute("UPDATE camera SET schedule = '{not json' WHERE id = 1")  # readable file, unreadable value
    connection.close()
    runner = _app(installed["data_dir"]).test_cli_runner()
    refused = runner.invoke(args=["backup", "restore", installed["backup"], "--yes"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output + refused.stderr
    assert "no safety backup could be written" in refused.stderr and "--no-safety" in refused.stderr
    result = runner.invoke(args=["backup", "restore", installed["backup"], "--yes", "--no-safety"])
    assert result.exit_code == 0, result.stderr
    assert "No safety backup of the previous configuration was written (--no-safety)." in result.output
    assert sorted(p.name for p in (installed["data_dir"] / "backups").iterdir()) == [installed["backup"]]
    assert not [p for p in installed["data_dir"].iterdir() if ".corrupt-" in p.name]
    _assert_exact(installed["data_dir"], installed["expected"])


def test_a_database_that_cannot_be_opened_is_reported_and_never_moved(installed):
    database = installed["database"]
    database.unlink()
    database.mkdir()  # not a file SQLite can open; nothing to rebuild from, nothing to move
    app = _app(installed["data_dir"])
    assert app.extensions["dbhealth"].problem.kind == "unreadable"
    answer = app.test_client().get("/api/cameras")
    assert answer.status_code == 503 and "cannot be opened" in answer.get_json()["error"]
    assert "cannot be read" in app.test_client().get("/").get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["backup", "restore", installed["backup"], "--yes"])
    assert result.exit_code == 1 and "cannot be opened" in result.stderr and "nothing was moved" in result.stderr
    assert database.is_dir() and not [p for p in installed["data_dir"].iterdir() if ".corrupt-" in p.name]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_postgresql_that_cannot_be_read_is_never_moved_and_the_command_says_what_to_do(installed):
    url = f"postgresql://vibenvr@127.0.0.1:{_free_port()}/vibenvr"  # nothing listens there
    app = _app(installed["data_dir"], DATABASE_URL=url)
    assert app.extensions["dbhealth"].problem.kind == "unreadable"
    answer = app.test_client().get("/api/cameras")
    assert answer.status_code == 503 and "PostgreSQL database cannot be reached" in answer.get_json()["error"]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup", "restore", installed["backup"], "--yes"])
    assert result.exit_code == 1 and "Traceback" not in result.output + result.stderr
    assert "PostgreSQL database cannot be read" in result.stderr and "never moved or recreated" in result.stderr
    listing = runner.invoke(args=["backup", "list"])
    assert listing.exit_code == 0 and installed["backup"] in listing.output
    assert sorted(p.name for p in installed["data_dir"].iterdir() if "vibenvr.db" in p.name) == ["vibenvr.db"]


# --- one real server ---------------------------------------------------------------------------------


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return None, ""


def _until(what, server, log, timeout=60):
    deadline = time.monotonic() + timeout
    while not what():
        assert server.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)  # bounded polling of a real server


@pytest.mark.slow
def test_gunicorn_boots_on_a_damaged_database_answers_503_and_serves_after_the_terminal_restore(installed, tmp_path):
    damage(installed, zeroed_header)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "WERKZEUG_", "VIBENVR_")) and k not in ("DATABASE_URL", "TEST_DATABASE_URL")
    }
    env.update(VIBENVR_DATA_DIR=str(installed["data_dir"]), VIBENVR_SCHEDULER="on", PYTHONUNBUFFERED="1")
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [GUNICORN, "--workers", "2", "--bind", f"127.0.0.1:{port}", "--no-control-socket", "app:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _until(lambda: _get(f"{url}/api/health")[0] == 200, server, log)
        status, body = _get(f"{url}/api/health")
        assert json.loads(body)["database"] == "damaged"
        status, html = _get(f"{url}/login")
        assert status == 503 and f"flask --app app backup restore {installed['backup']} --yes" in html

        result = _cli(installed["data_dir"], "backup", "restore", installed["backup"], "--yes")
        assert result.returncode == 0, result.stderr
        # Each worker looks again within seconds; several requests reach both.
        _until(lambda: all(_get(f"{url}/login")[0] == 200 for _ in range(6)), server, log)
        assert json.loads(_get(f"{url}/api/health")[1]) == {"status": "ok"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
    text = log.read_text()
    assert "Traceback" not in text and "Worker failed to boot" not in text, text
    assert "is damaged (SQLite reports: file is not a database)" in text

"""First run after data loss (SPEC §12): an empty database beside backups, or beside the marker of a first
setup, makes /setup ask for the one-time setup code that the server logs and ``flask users setup-code``
prints; a truly fresh data folder asks nothing; /setup stays closed once any user exists."""

import http.cookiejar
import json
import logging
import os
import re
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from vibenvr.auth import setupcode
from vibenvr.backups.store import BackupStore
from vibenvr.models import User

from .conftest import page_csrf
from builders import make_user
from conftest import connected_app
from support.gunicorn import ROOT, Gunicorn

PASSWORD = "a long passphrase"
BACKUP = "vibe_backup_manual_20261129_224000.json"
FLASK = str(Path(sys.executable).with_name("flask"))
CODE_SHAPE = re.compile(r"\b[A-HJKMNP-Z2-9]{4}(?:-[A-HJKMNP-Z2-9]{4}){3}\b")


def _put_backup(app, name=BACKUP):
    path = app.config["BACKUP_DIR"] / name
    path.write_text('{"format": "vibenvr-backup"}')
    path.chmod(0o600)
    return path


def _setup(client, code=None, username="owner"):
    token = page_csrf(client.get("/setup").get_data(as_text=True))
    data = {"csrf_token": token, "username": username, "password": PASSWORD, "confirm": PASSWORD}
    if code is not None:
        data["setup_code"] = code
    return client.post("/setup", data=data)


def _cli_code(runner):
    result = runner.invoke(args=["users", "setup-code"])
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout.strip()


def _stored_code(app):
    return json.loads((app.config["DATA_DIR"] / setupcode.CODE_NAME).read_text())["code"]


@pytest.fixture
def lost(app, clock):
    """The app on a data folder with a backup in it and no user: a lost database."""
    _put_backup(app)
    return app


# --- the page -------------------------------------------------------------------------------------------


def test_an_empty_database_beside_backups_makes_setup_ask_for_the_code(lost, client):
    html = client.get("/setup").get_data(as_text=True)
    assert "This server has been set up before:" in html
    assert f"1 backup file is in {lost.config['BACKUP_DIR']}" in html
    assert "flask --app app users setup-code" in html
    assert "docker compose exec vibenvr-config flask --app app users setup-code" in html
    assert "flask --app app backup restore NAME --yes" in html  # the way to the old accounts
    assert 'name="setup_code"' in html and 'autocomplete="off"' in html
    assert client.get("/cameras").headers["Location"].endswith("/setup")


def test_without_the_code_no_administrator_is_created(lost, client):
    response = _setup(client)
    assert response.status_code == 422
    assert "Enter the setup code from the server log" in response.get_data(as_text=True)
    assert User.select().count() == 0


def test_a_wrong_code_is_refused_and_counted_then_limited_like_sign_ins(lost, client, clock):
    for _ in range(10):
        response = _setup(client, code="AAAA-BBBB-CCCC-DDDD")
        assert response.status_code == 401
        assert "That is not the current setup code" in response.get_data(as_text=True)
    limited = _setup(client, code=_stored_code(lost))  # even the right code waits now
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "Too many failed attempts. Try again in" in limited.get_data(as_text=True)
    assert User.select().count() == 0


def test_the_right_code_creates_the_admin_and_is_spent(lost, client, runner):
    code = _cli_code(runner)
    assert CODE_SHAPE.fullmatch(code)
    response = _setup(client, code=code.lower().replace("-", " "))  # typed by hand: case and separators do not matter
    assert response.status_code == 302 and not response.headers["Location"].endswith("/setup")
    assert [(u.username, u.role) for u in User.select()] == [("owner", "admin")]
    assert not (lost.config["DATA_DIR"] / setupcode.CODE_NAME).exists()
    assert client.get("/setup").status_code == 404  # closed once a user exists
    User.delete().execute()  # lost again: a new code, and the spent one no longer works
    lost.extensions.pop("vibenvr_has_users", None)
    fresh = _cli_code(runner)
    assert fresh != code
    assert _setup(client.application.test_client(), code=code).status_code == 401
    assert User.select().count() == 0


def test_an_expired_code_is_refused_and_a_new_one_is_made(lost, client, runner, clock):
    old = _cli_code(runner)
    clock.advance(hours=24)
    assert _setup(client, code=old).status_code == 401
    new = _stored_code(lost)
    assert new != old and _cli_code(runner) == new
    assert _setup(client, code=new).status_code == 302


def test_the_marker_alone_is_enough(app, client, runner, clock):
    setupcode.mark_installed(app.config["DATA_DIR"], clock(), "test")
    assert BackupStore(app.config["BACKUP_DIR"]).list(unusable=True) == []
    html = client.get("/setup").get_data(as_text=True)
    assert f"the file {app.config['DATA_DIR'] / 'installed'} marks a first setup" in html
    assert _setup(client).status_code == 422
    assert _setup(client, code=_cli_code(runner)).status_code == 302


def test_a_truly_fresh_folder_asks_for_no_code(app, client, runner):
    html = client.get("/setup").get_data(as_text=True)
    assert "setup code" not in html.lower() and 'name="setup_code"' not in html
    result = runner.invoke(args=["users", "setup-code"])
    assert result.exit_code == 0 and result.stdout == ""
    assert "No setup code is needed: this data folder shows no earlier install" in result.stderr
    assert not (app.config["DATA_DIR"] / setupcode.CODE_NAME).exists()
    assert _setup(client).status_code == 302
    marker = app.config["DATA_DIR"] / setupcode.MARKER_NAME
    assert stat.S_IMODE(marker.stat().st_mode) == 0o600
    assert json.loads(marker.read_text())["how"] == "/setup"


def test_setup_stays_closed_once_a_user_exists_and_the_command_says_so(lost, client, runner):
    make_user("someone", role="viewer")
    assert client.get("/setup").status_code == 404
    result = runner.invoke(args=["users", "setup-code"])
    assert result.exit_code == 1 and "this server has users, so /setup is closed" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_the_code_file_is_private_and_the_page_log_says_it_at_most_once_a_minute(lost, client, clock, caplog):
    caplog.set_level(logging.WARNING, logger="vibenvr.setup")
    client.get("/setup")
    client.get("/setup")
    clock.advance(seconds=61)
    client.get("/setup")
    code = _stored_code(lost)
    logged = [r.getMessage() for r in caplog.records if r.name == "vibenvr.setup"]
    assert len(logged) == 2 and all(f"asks for the setup code {code}" in line for line in logged)
    assert stat.S_IMODE((lost.config["DATA_DIR"] / setupcode.CODE_NAME).stat().st_mode) == 0o600


def test_users_create_of_an_admin_writes_the_marker(app, runner):
    result = runner.invoke(
        args=["users", "create", "root", "--role", "admin", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    marker = app.config["DATA_DIR"] / setupcode.MARKER_NAME
    assert json.loads(marker.read_text())["how"] == "flask users create"
    assert stat.S_IMODE(marker.stat().st_mode) == 0o600


def test_an_install_from_before_the_marker_gets_one_at_its_next_page(app, admin, client):
    marker = app.config["DATA_DIR"] / setupcode.MARKER_NAME
    assert not marker.exists()
    client.get("/login")
    assert json.loads(marker.read_text())["how"] == "users found in the database"


# --- a real lost database ---------------------------------------------------------------------------------


@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="truncating the SQLite file is the point; "
    "an empty PostgreSQL database beside backups is the 'lost' fixture's case",
)
@pytest.mark.parametrize("keep_marker", [True, False], ids=["marker and backups", "backups only (an older install)"])
def test_a_database_truncated_to_0_bytes_beside_backups_asks_for_the_code(tmp_path, keep_marker, caplog):
    data = tmp_path / "data"
    with connected_app(data) as first:
        client = first.test_client()
        assert _setup(client).status_code == 302  # a fresh folder: no code
        assert first.test_cli_runner().invoke(args=["backup", "create"]).exit_code == 0
    database = data / "vibenvr.db"
    assert database.stat().st_size > 0
    os.truncate(database, 0)  # the data loss: the file is still there, empty
    for companion in ("vibenvr.db-wal", "vibenvr.db-shm"):
        (data / companion).unlink(missing_ok=True)
    if not keep_marker:
        (data / setupcode.MARKER_NAME).unlink()
    caplog.set_level(logging.WARNING, logger="vibenvr.setup")
    with connected_app(data) as second:  # started on the empty file
        logged = [r.getMessage() for r in caplog.records if r.name == "vibenvr.setup"]
        assert len(logged) == 1 and "The database has no user, but this server has been set up before" in logged[0]
        code = CODE_SHAPE.search(logged[0]).group(0)
        client = second.test_client()
        assert client.get("/").headers["Location"].endswith("/setup")
        assert "This server has been set up before:" in client.get("/setup").get_data(as_text=True)
        assert _setup(client, username="intruder").status_code == 422
        assert _setup(client, username="intruder", code="2222-3333-4444-5555").status_code == 401
        assert User.select().count() == 0
        assert _cli_code(second.test_cli_runner()) == code
        assert _setup(client, username="owner", code=code).status_code == 302
        assert [u.username for u in User.select()] == ["owner"]


# --- two instances on one data folder --------------------------------------------------------------------


def _post_setup(url, code):
    """``(status, final URL)`` of the setup form sent as a browser does (a cookie, the page's CSRF token)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:
        with opener.open(f"{url}/setup", timeout=30) as response:
            token = page_csrf(response.read().decode())
        body = urllib.parse.urlencode(
            {"csrf_token": token, "username": "owner", "password": PASSWORD, "confirm": PASSWORD, "setup_code": code}
        ).encode()
        with opener.open(f"{url}/setup", data=body, timeout=60) as response:
            return response.status, response.geturl()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.geturl()


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="the data folder's SQLite file is the point")
def test_two_servers_on_one_data_folder_log_the_same_code_and_either_accepts_it(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "backups").mkdir(mode=0o700)
    (data / "backups" / BACKUP).write_text("{}")
    with Gunicorn(data, tmp_path / "a.log") as a, Gunicorn(data, tmp_path / "b.log") as b:
        deadline = time.monotonic() + 30  # a worker logs the code once it has loaded the app
        while True:
            codes = {name: CODE_SHAPE.findall(server.log()) for name, server in (("a", a), ("b", b))}
            if len(codes["a"]) == len(codes["b"]) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(codes["a"]) == len(codes["b"]) == 2, codes  # each worker of each server said it at start
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "VIBENVR_"))}
        env.update(VIBENVR_DATA_DIR=str(data), VIBENVR_SCHEDULER="off")
        printed = subprocess.run(
            [FLASK, "--app", "app", "users", "setup-code"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert printed.returncode == 0, printed.stderr
        assert {*codes["a"], *codes["b"]} == {printed.stdout.strip()}
        assert _post_setup(a.url, "WRNG-WRNG-WRNG-WRNG")[0] == 401
        status, where = _post_setup(b.url, printed.stdout.strip())
        assert status == 200 and not where.endswith("/setup")
        assert _post_setup(a.url, printed.stdout.strip())[0] == 404  # closed now, in every worker

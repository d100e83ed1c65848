"""The TOTP replay memory and the sign-in limits live in the database (SPEC §12, issue 11 finding 3).

A code is accepted once per account across all workers and restarts, and failed sign-ins count the same
in every worker and after a restart: two real gunicorn workers (access log with each worker's pid), two
apps on one database in this process, a new ``create_app`` on the same data folder, and threads and
processes racing for one code on one database (SQLite here, PostgreSQL under ``scripts/with-postgres.sh``).
"""

import datetime as dt
import http.cookiejar
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pyotp
import pytest

from vibenvr import create_app
from vibenvr.auth import twofactor
from vibenvr.db import db
from vibenvr.models import User
from vibenvr.runtime import SignInFailure, TotpLastStep

from .conftest import code_form, login_form, page_csrf, totp_at
from builders import PASSWORD, make_user
from conftest import make_app
from support.clock import FakeClock
from support.gunicorn import ROOT, Gunicorn

# --- helpers ------------------------------------------------------------------------------------------


def reopen_app(data_dir, **overrides):
    """A new app on the same data folder and database (``make_app`` would empty PostgreSQL): a restart,
    or a second worker when the first app stays in use."""
    config = {"TESTING": True, "DATA_DIR": data_dir, "SCHEDULER_ENABLED": False, "SECRET_KEY": "test-secret-key"}
    if os.environ.get("TEST_DATABASE_URL"):
        config["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    config.update(overrides)
    return create_app(config)


def with_2fa(username, **fields):
    secret = twofactor.new_secret()
    user = make_user(username, role="admin", totp_secret=secret, is_2fa_enabled=True, **fields)
    return user, secret


def past_password(client, username):
    """Pass the password step; the client then stands at the code step."""
    response = login_form(client, username, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/verify")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies and CSRF tokens over real HTTP; redirects are answers (302), not followed."""

    def __init__(self, base, forwarded_for=None):
        self.base = base
        self.headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects
        )

    def send(self, method, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=self.headers)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def post_form(self, page, action, **fields):
        status, html = self.send("GET", page)
        assert status == 200, (page, status)
        return self.send("POST", action, {**fields, "csrf_token": page_csrf(html)})

    def sign_in_password(self, username, password=PASSWORD):
        return self.post_form("/login", "/login", username=username, password=password)[0]


ACCESS_FORMAT = "ACCESS %(p)s %(m)s %(U)s %(q)s %(s)s"
ACCESS_ARGS = ["--access-logfile", "-", "--access-logformat", ACCESS_FORMAT]
_ACCESS = re.compile(r"^ACCESS <?(\d+)>? (\S+) (\S+) (\S*) (\d{3})$", re.M)


def access_lines(server, method, path, query=""):
    """``[(pid, status)]`` of the requests gunicorn logged for ``method path?query``."""
    return [
        (pid, int(status))
        for pid, m, p, q, status in _ACCESS.findall(server.log())
        if m == method and p == path and q == query
    ]


def wait_for_access(server, method, path, query, count, timeout=30):
    """The access lines, once gunicorn has written all ``count`` of them (it logs after answering)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = access_lines(server, method, path, query)
        if len(lines) >= count:
            return lines
        assert time.monotonic() < deadline, f"{len(lines)} of {count} access lines:\n{server.log()}"
        time.sleep(0.05)  # bounded polling of a real server's log, not a sleep standing in for a clock


def all_at_once(count, work):
    """``work(i)`` in ``count`` threads released together; the results in order."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        barrier.wait(timeout=60)
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


# --- one TOTP code, accepted once -----------------------------------------------------------------------

SESSIONS_PER_ROUND = 6  # five refusals per account stay under its limit of 10
ROUNDS = 8


@pytest.mark.slow
def test_one_totp_code_is_accepted_once_across_two_gunicorn_workers(tmp_path):
    data = tmp_path / "data"
    make_app(data)
    with db.connection_context():
        secrets = {f"op{n}": with_2fa(f"op{n}")[1] for n in range(ROUNDS)}
    # Each session its own address (behind a trusted proxy), so only the account limit is in play.
    env = {"VIBENVR_TRUSTED_PROXIES": "1"}
    with Gunicorn(data, tmp_path / "gunicorn.log", workers=2, args=ACCESS_ARGS, env=env) as server:
        both_workers = 0
        for n, (username, secret) in enumerate(secrets.items()):
            browsers = [
                Browser(server.url, f"198.51.100.{n * SESSIONS_PER_ROUND + i + 1}") for i in range(SESSIONS_PER_ROUND)
            ]
            tokens = []
            for browser in browsers:
                assert browser.sign_in_password(username) == 302
                status, html = browser.send("GET", "/login/verify")
                assert status == 200
                tokens.append(page_csrf(html))
            code = pyotp.TOTP(secret).now()
            path, form = f"/login/verify?round={n}", {"code": code}
            statuses = all_at_once(
                SESSIONS_PER_ROUND,
                lambda i, b=browsers, t=tokens, path=path, form=form: b[i].send(
                    "POST", path, {**form, "csrf_token": t[i]}
                )[0],
            )
            assert sorted(statuses) == [302] + [401] * (SESSIONS_PER_ROUND - 1), (username, statuses)
            served = wait_for_access(server, "POST", "/login/verify", f"round={n}", SESSIONS_PER_ROUND)
            assert sorted(status for _, status in served) == sorted(statuses)
            if len({pid for pid, _ in served}) == 2:
                both_workers += 1
                if both_workers == 2:
                    break
        assert both_workers, f"every round went to one worker:\n{server.log()}"
        # The signed-in session works; a refused one stays at the code step.
        winner = browsers[statuses.index(302)]
        assert winner.send("GET", "/security")[0] == 200
        loser = browsers[statuses.index(401)]
        assert loser.send("GET", "/security")[0] == 302


def test_a_used_code_is_refused_after_a_restart_and_an_earlier_one_too(tmp_path):
    clock = FakeClock()
    data = tmp_path / "data"
    first = make_app(data, CLOCK=clock)
    with db.connection_context():
        _, secret = with_2fa("alice")
    client = first.test_client()
    past_password(client, "alice")
    code = totp_at(secret, clock.now)
    assert code_form(client, code).status_code == 302

    restarted = reopen_app(data, CLOCK=clock)  # a new process on the same data folder
    client = restarted.test_client()
    past_password(client, "alice")
    assert code_form(client, code).status_code == 401
    assert code_form(client, totp_at(secret, clock.now - dt.timedelta(seconds=30))).status_code == 401
    # The next step's code (±1 step is accepted) works once, and the one of now stays used.
    assert code_form(client, totp_at(secret, clock.now + dt.timedelta(seconds=30))).status_code == 302
    client = restarted.test_client()
    past_password(client, "alice")
    assert code_form(client, code).status_code == 401


def test_a_code_used_to_sign_in_cannot_turn_on_2fa_elsewhere_and_the_other_way_round(tmp_path):
    """Enabling 2FA and signing in share the memory: a code that enabled 2FA cannot sign in (another worker)."""
    clock = FakeClock()
    data = tmp_path / "data"
    first = make_app(data, CLOCK=clock)
    with db.connection_context():
        make_user("bob", role="admin")
    second = reopen_app(data, CLOCK=clock)
    client = first.test_client()
    assert login_form(client, "bob", PASSWORD).status_code == 302
    token = page_csrf(client.get("/security").get_data(as_text=True))
    retyped = {"password": PASSWORD, "current_password": PASSWORD}  # as the Security page asks for it
    assert client.post("/security/2fa/setup", data={"csrf_token": token, **retyped}).status_code == 200
    with db.connection_context():
        secret = User.get(User.username == "bob").totp_secret
    code = totp_at(secret, clock.now)
    enabled = client.post("/security/2fa/enable", data={"csrf_token": token, "code": code, **retyped})
    assert enabled.status_code == 200
    with db.connection_context():
        assert User.get(User.username == "bob").is_2fa_enabled
    other = second.test_client()
    past_password(other, "bob")
    assert code_form(other, code).status_code == 401
    assert code_form(other, totp_at(secret, clock.now + dt.timedelta(seconds=30))).status_code == 302


def test_turning_2fa_off_forgets_the_users_last_step(tmp_path):
    clock = FakeClock()
    with_app = make_app(tmp_path / "data", CLOCK=clock)
    with with_app.app_context(), db.connection_context():
        user, secret = with_2fa("carol")
        assert twofactor.accept_totp(user, totp_at(secret, clock.now), clock.now)
        assert TotpLastStep.select().where(TotpLastStep.user_id == user.id).count() == 1
        twofactor.disable(User.get_by_id(user.id))
        assert TotpLastStep.select().where(TotpLastStep.user_id == user.id).count() == 0


RACERS = 8


def test_threads_racing_with_one_code_on_one_database_accept_it_once(tmp_path):
    clock = FakeClock()
    app = make_app(tmp_path / "data", CLOCK=clock)
    with app.app_context(), db.connection_context():
        user, secret = with_2fa("dave")
    for offset in (0, 30, 60):  # a fresh row, then two steps forward
        moment = clock.now + dt.timedelta(seconds=offset)
        code = totp_at(secret, moment)

        def claim(_, code=code, moment=moment):
            with db.connection_context():  # each thread its own connection
                return twofactor.accept_totp(user, code, moment)

        assert sorted(all_at_once(RACERS, claim)) == [False] * (RACERS - 1) + [True], offset
    with db.connection_context():
        assert TotpLastStep.get(TotpLastStep.user_id == user.id).step == pyotp.TOTP(secret).timecode(
            (clock.now + dt.timedelta(seconds=60)).replace(tzinfo=dt.UTC)
        )


_RACER = """
import datetime, sys
from vibenvr.db import db, open_database
db.initialize(open_database(sys.argv[1]))
from vibenvr.auth.twofactor import accept_totp
from vibenvr.models import User
db.connect()
user = User.get_by_id(int(sys.argv[2]))
moment = datetime.datetime.fromisoformat(sys.argv[4])
print("ready", flush=True)
sys.stdin.readline()
print("accepted" if accept_totp(user, sys.argv[3], moment) else "refused", flush=True)
"""


@pytest.mark.slow
def test_processes_racing_with_one_code_on_one_database_accept_it_once(tmp_path):
    clock = FakeClock()
    app = make_app(tmp_path / "data", CLOCK=clock)
    with db.connection_context():
        user, secret = with_2fa("erin")
    code = totp_at(secret, clock.now)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "VIBENVR_"))}
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, app.config["DATABASE_URL"], str(user.id), code, clock.now.isoformat()],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    try:
        for racer in racers:
            assert racer.stdout.readline().strip() == "ready", racer.stderr.read()
        for racer in racers:  # all are waiting on stdin: release them together
            racer.stdin.write("go\n")
            racer.stdin.flush()
        answers = [racer.communicate(timeout=60)[0].strip() for racer in racers]
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
                racer.wait()
    assert sorted(answers) == ["accepted"] + ["refused"] * 5, answers


# --- sign-in failures, counted once for everyone ----------------------------------------------------------


@pytest.mark.slow
def test_failed_sign_ins_count_across_two_gunicorn_workers_and_a_restart(tmp_path):
    data = tmp_path / "data"
    make_app(data)
    with db.connection_context():
        for n in range(4):
            make_user(f"guard{n}", role="admin")
    log = tmp_path / "gunicorn.log"
    with Gunicorn(data, log, workers=2, args=ACCESS_ARGS) as server:
        for n in range(4):  # ten failures (the account limit), until they were spread over both workers
            username = f"guard{n}"
            browsers = [Browser(server.url) for _ in range(10)]
            tokens = [page_csrf(b.send("GET", "/login")[1]) for b in browsers]
            form = {"username": username, "password": "wrong password!"}
            statuses = all_at_once(
                10,
                lambda i, b=browsers, t=tokens, form=form: b[i].send("POST", "/login", {**form, "csrf_token": t[i]})[0],
            )
            assert statuses == [401] * 10
            failed = [pid for pid, status in access_lines(server, "POST", "/login") if status == 401]
            if len(set(failed[-10:])) == 2:
                break
        else:
            pytest.fail(f"the failures never reached both workers:\n{server.log()}")
        # Either worker now refuses the right password: neither saw ten failures alone.
        browsers = [Browser(server.url) for _ in range(4)]
        tokens = [page_csrf(b.send("GET", "/login")[1]) for b in browsers]
        statuses = all_at_once(
            4,
            lambda i: browsers[i].send(
                "POST", "/login", {"username": username, "password": PASSWORD, "csrf_token": tokens[i]}
            )[0],
        )
        assert statuses == [429] * 4
    with Gunicorn(data, tmp_path / "restarted.log", workers=2) as server:
        assert Browser(server.url).sign_in_password(username) == 429
        status, html = Browser(server.url).post_form("/login", "/login", username=username, password=PASSWORD)
        assert status == 429 and "Try again in" in html


@pytest.fixture
def two_workers(tmp_path):
    """Two apps on one database (as two workers), the limits low and one clock."""
    clock = FakeClock()
    limits = {"LOGIN_LIMIT_PER_ACCOUNT": "3 per 15 minutes", "LOGIN_LIMIT_PER_ADDRESS": "5 per 15 minutes"}
    first = make_app(tmp_path / "data", CLOCK=clock, **limits)
    with db.connection_context():
        make_user("admin", role="admin")
    second = reopen_app(tmp_path / "data", CLOCK=clock, **limits)
    return first, second, clock


def _from(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_failures_in_two_workers_add_up_and_survive_a_restart(two_workers, tmp_path):
    first, second, clock = two_workers
    assert login_form(_from(first, "10.0.0.1"), "admin", "wrong password!").status_code == 401
    assert login_form(_from(second, "10.0.0.2"), "admin", "wrong password!").status_code == 401
    assert login_form(_from(first, "10.0.0.3"), "admin", "wrong password!").status_code == 401
    for app in (first, second):
        response = login_form(_from(app, "10.0.0.4"), "admin", PASSWORD)
        assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 900
    restarted = reopen_app(tmp_path / "data", CLOCK=clock, LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes")
    assert login_form(_from(restarted, "10.0.0.5"), "admin", PASSWORD).status_code == 429
    clock.advance(seconds=901)
    assert login_form(_from(restarted, "10.0.0.5"), "admin", PASSWORD).status_code == 302


def test_the_limit_lifts_when_the_oldest_counted_failure_leaves_the_window(two_workers):
    first, second, clock = two_workers
    for app in (first, second, first):
        login_form(_from(app, "10.0.1.1"), "admin", "wrong password!")
        clock.advance(minutes=5)
    # Failures at 0, 5 and 10 minutes; now 15 minutes: the first has just left the window.
    response = login_form(_from(second, "10.0.1.2"), "admin", "wrong password!")
    assert response.status_code == 401  # the fourth try is allowed, and counted
    response = login_form(_from(first, "10.0.1.2"), "admin", PASSWORD)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 300  # until the failure at 5 minutes leaves


def test_a_success_in_one_worker_clears_the_account_count_in_the_other(two_workers):
    first, second, _ = two_workers
    for _ in range(2):
        assert login_form(_from(first, "10.0.2.1"), "admin", "wrong password!").status_code == 401
    assert login_form(_from(second, "10.0.2.2"), "admin", PASSWORD).status_code == 302
    for _ in range(2):
        assert login_form(_from(first, "10.0.2.3"), "admin", "wrong password!").status_code == 401
    assert login_form(_from(first, "10.0.2.3"), "admin", PASSWORD).status_code == 302
    with db.connection_context():
        assert (
            not SignInFailure.select()
            .where((SignInFailure.scope == "account") & (SignInFailure.key == "admin"))
            .exists()
        )
        # The address counts stay: a success clears only the account's.
        assert SignInFailure.select().where(SignInFailure.scope == "address").count() == 4


def test_the_address_limit_spans_accounts_and_workers(two_workers):
    first, second, _ = two_workers
    for n, app in enumerate((first, second, first, second, first)):
        assert login_form(_from(app, "10.0.3.1"), f"nobody{n}", "wrong password!").status_code == 401
    for app in (first, second):
        assert login_form(_from(app, "10.0.3.1"), "admin", PASSWORD).status_code == 429
    assert login_form(_from(second, "10.0.3.2"), "admin", PASSWORD).status_code == 302


def test_wrong_recovery_codes_in_one_worker_lock_the_code_step_in_the_other(two_workers):
    first, second, _ = two_workers
    with db.connection_context():
        User.update(totp_secret=twofactor.new_secret(), is_2fa_enabled=True).execute()
        twofactor.replace_recovery_codes(User.get(User.username == "admin"))
    client = _from(first, "10.0.4.1")
    past_password(client, "admin")
    for _ in range(3):
        assert code_form(client, "abcde-fghjk").status_code == 401
    other = _from(second, "10.0.4.2")
    assert login_form(other, "admin", PASSWORD).status_code == 429


def test_wrong_retyped_passwords_count_with_the_sign_in_failures(two_workers):
    first, second, _ = two_workers
    client = _from(first, "10.0.5.1")
    assert login_form(client, "admin", PASSWORD).status_code == 302
    token = page_csrf(client.get("/security").get_data(as_text=True))
    for _ in range(3):
        response = client.post(
            "/security/password",
            data={
                "csrf_token": token,
                "current_password": "not my password",
                "new_password": "another long password",
                "confirm_password": "another long password",
            },
        )
        assert response.status_code == 422
    assert login_form(_from(second, "10.0.5.2"), "admin", PASSWORD).status_code == 429


def test_old_failures_are_pruned_when_the_next_one_is_counted(two_workers):
    first, _, clock = two_workers
    for n in range(3):
        login_form(_from(first, "10.0.6.1"), f"x{n}", "wrong password!")
    clock.advance(minutes=16)
    login_form(_from(first, "10.0.6.2"), "y", "wrong password!")
    with db.connection_context():
        assert sorted(SignInFailure.select(SignInFailure.key).tuples()) == [("10.0.6.2",), ("y",)]

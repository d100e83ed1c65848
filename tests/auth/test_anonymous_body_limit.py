"""Requests nobody is signed in for may send at most 64 KB (SPEC §12, issue 11 finding 8): a 10 MB sign-in
form is answered 413 before its body is parsed, a chunked one when it passes the limit; signed-in uploads
keep the upload limit."""

import io
import json
import time

import pytest

from vibenvr.hardening import ANONYMOUS_BODY_LIMIT

from .conftest import page_csrf
from builders import PASSWORD, make_token

TEN_MB = 10 * 1024 * 1024


def _login_token(client):
    return page_csrf(client.get("/login").get_data(as_text=True))


@pytest.mark.parametrize("path", ["/login", "/setup", "/login/verify", "/api/cameras", "/logout"])
def test_a_large_anonymous_body_is_refused_before_it_is_read(client, admin, path):
    body = b"username=admin&password=" + b"x" * TEN_MB
    started = time.process_time()
    answer = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
    spent = time.process_time() - started
    assert answer.status_code == 413
    assert "at most 64 KB" in answer.get_data(as_text=True)
    assert spent < 1.0, f"{spent:.2f} s of CPU for a refused body"  # generous: parsing it cost 3.8 s


def test_the_json_answer_of_the_api_says_so_too(client, admin):
    answer = client.post(
        "/api/groups", data=b"{" + b" " * (ANONYMOUS_BODY_LIMIT + 1) + b"}", content_type="application/json"
    )
    assert answer.status_code == 413 and "at most 64 KB" in answer.get_json()["error"]


def test_a_chunked_anonymous_body_stops_at_the_limit(client, admin):
    stream = io.BytesIO(b"username=admin&password=" + b"x" * (ANONYMOUS_BODY_LIMIT * 4))
    answer = client.post(
        "/login",
        input_stream=stream,
        content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )  # as gunicorn passes chunked bodies
    assert answer.status_code == 413


def test_a_sign_in_form_under_the_limit_still_works(client, admin):
    token = _login_token(client)
    answer = client.post(
        "/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": token,
            "padding": "x" * (ANONYMOUS_BODY_LIMIT - 1024),
        },
    )
    assert answer.status_code == 302


def test_signed_in_browsers_and_tokens_may_send_more(app, admin, admin_client):
    big_note = "x" * (ANONYMOUS_BODY_LIMIT * 2)
    body = {"name": "Big", "description": big_note}
    answer = admin_client.post("/api/groups", json=body)
    assert answer.status_code != 413, answer.get_json()
    headers = {"X-API-Key": make_token(admin), "Content-Type": "application/json"}
    answer = app.test_client().post("/api/groups", data=json.dumps(body | {"name": "Bigger"}), headers=headers)
    assert answer.status_code != 413, answer.get_json()


def test_a_wrong_token_is_anonymous(app, admin):
    answer = app.test_client().post(
        "/api/groups",
        data=b"x" * (ANONYMOUS_BODY_LIMIT + 1),
        headers={"X-API-Key": "not-a-token", "Content-Type": "application/json"},
    )
    assert answer.status_code == 413  # a token that signs nobody in lifts no limit


def test_a_short_chunked_sign_in_is_read_whole(client, admin):
    from urllib.parse import urlencode

    body = urlencode({"username": "admin", "password": PASSWORD, "csrf_token": _login_token(client)}).encode()
    answer = client.post(
        "/login",
        input_stream=io.BytesIO(body),
        content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert answer.status_code == 302 and not answer.headers["Location"].endswith("/login")

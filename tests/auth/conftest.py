"""Account-flow fixtures: an injected clock and helpers for TOTP codes and CSRF tokens."""

import datetime as dt
import re

import pyotp
import pytest

START = dt.datetime(2026, 11, 29, 22, 40, 0)


class Clock:
    """A settable naive-UTC clock, installed as ``app.config["CLOCK"]``."""

    def __init__(self, start=START):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(app):
    clock = Clock()
    app.config["CLOCK"] = clock
    return clock


def totp_at(secret, moment):
    return pyotp.TOTP(secret).at(moment.replace(tzinfo=dt.UTC))


def page_csrf(html):
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login_form(client, username, password, **extra):
    """Post the sign-in form as a browser does (token read from the page)."""
    token = page_csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, **extra})


def code_form(client, code, trust=False):
    token = page_csrf(client.get("/login/verify").get_data(as_text=True))
    data = {"code": code, "csrf_token": token}
    if trust:
        data["trust"] = "y"
    return client.post("/login/verify", data=data)

"""Browser fixtures: a real server on 127.0.0.1 and headless Debian Chromium driven by Playwright."""

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from conftest import make_app

CHROMIUM = os.environ.get("VIBENVR_CHROMIUM", "/usr/lib/chromium/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


class LiveServer:
    """The app served by a real WSGI server on 127.0.0.1 in a background thread."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(tmp_path):
    from vibenvr.db import db

    app = make_app(tmp_path / "data")
    db.connect(reuse_if_open=True)  # for builders called from the test thread
    with LiveServer(app) as server:
        yield server
    db.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    context.set_default_timeout(15000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()


def screenshot(page, name):
    """Save a full-page screenshot under test-artifacts/screenshots/ (ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    page.screenshot(path=str(ARTIFACTS / f"{safe}.png"), full_page=True)


def login(page, server, username, password):
    """Sign in through the real form."""
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")

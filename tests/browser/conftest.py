"""Browser fixtures: a real server on 127.0.0.1 and headless Debian Chromium driven by Playwright."""

import contextlib
import os
import re
from pathlib import Path

import pytest

from conftest import connected_app
from support.live import LiveServer

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


@pytest.fixture
def live_server(tmp_path):
    with (
        connected_app(tmp_path / "data") as app,
        LiveServer(app) as server,
    ):  # builders use the test thread's connection
        yield server


# Chromium fires securitypolicyviolation for everything the Content-Security-Policy blocks (SPEC §12).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__vibenvrViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} ${JSON.stringify(e.sample)} at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`);
});
"""


class PageProblems:
    """CSP violations and uncaught script errors on every page of a browser context."""

    def __init__(self, context):
        self.context, self.found = context, []
        context.expose_binding("__vibenvrViolation", self._violation)
        context.add_init_script(REPORT_VIOLATIONS)
        context.on("page", self._watch)

    def _violation(self, source, text):
        self.found.append(f"CSP violation on {source['frame'].url}: {text}")

    def _watch(self, page):
        page.on("pageerror", lambda error: self.found.append(f"script error on {page.url}: {error}"))
        page.on("console", lambda message: self._console(page, message))

    def _console(self, page, message):
        if message.type == "error" and "Content Security Policy" in message.text:
            self.found.append(f"console on {page.url}: {message.text}")

    def take(self):
        """The problems so far (and forget them), after a round trip to each page so late events arrive."""
        for page in self.context.pages:
            with contextlib.suppress(Exception):  # a page closed or navigating meanwhile
                page.evaluate("0")
        found, self.found = self.found, []
        return found


def watched_context(browser, **options):
    """A new context whose ``close()`` fails the test when a page of it broke the CSP or threw."""
    context = browser.new_context(**options)
    context.set_default_timeout(15000)
    context.problems = PageProblems(context)
    close = context.close

    def close_and_check(**kwargs):
        found = context.problems.take()
        close(**kwargs)
        assert not found, "the pages broke the Content-Security-Policy or threw:\n" + "\n".join(found)

    context.close = close_and_check
    return context


class WatchedBrowser:
    """The browser, with every ``new_context()`` watched, so every browser test checks the pages' CSP."""

    def __init__(self, browser):
        self._browser = browser

    def new_context(self, **options):
        return watched_context(self._browser, **options)

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield WatchedBrowser(browser)
        browser.close()


SIZES = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SIZES))
def tab(request, browser):
    """A page at desktop and then at phone size (``page.device`` says which), able to download files."""
    phone = request.param == "phone"
    context = browser.new_context(
        viewport=SIZES[request.param],
        accept_downloads=True,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
    )
    page = context.new_page()
    page.device = request.param
    yield page
    context.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
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

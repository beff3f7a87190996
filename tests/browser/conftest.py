"""Browser tests: real headless Chromium (Debian's package) driven by Playwright, against
pytest-django's live server. Under CI a missing Chromium fails the test; it never skips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import CHROMIUM

# Playwright's sync API runs an event loop in this thread; the ORM calls in tests are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# CI machines are shared and busy: wait patiently for what the page must show (never a timing
# assertion — only how long to wait before calling it missing).
expect.set_options(timeout=20_000)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium_browser():
    if not os.path.exists(CHROMIUM):
        from tests.conftest import missing_service

        missing_service("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium_browser, live_server):
    context = chromium_browser.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 900}
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")


def screenshot(page, name: str) -> Path:
    """Keep a picture of the page for humans to look at (test-artifacts/, not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def row_form_ready(row) -> None:
    """Wait until an edit row htmx swapped in has settled and its first field holds the focus.

    htmx focuses the `autofocus` field when the swap settles; typing into another field before
    that can lose the text to the focus move (seen under load), so the stories wait for it.
    """
    expect(
        row.page.locator(".htmx-request, .htmx-swapping, .htmx-added, .htmx-settling")
    ).to_have_count(0)
    expect(row.locator("input[name=source_columns]")).to_be_focused()

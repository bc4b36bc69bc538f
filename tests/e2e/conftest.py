"""Browser tests: Debian's Chromium driven by Playwright against the real site (pytest-django's
live_server on 127.0.0.1), a real Celery worker on a private redis-server, and the Docker sandbox.

The Redis, worker and course fixtures are the web tests' own (tests/web/conftest.py), imported here.
Chromium is never downloaded by Playwright (scripts/install-browser.sh installs Debian's), and its
background services are off so that it talks to nothing but 127.0.0.1."""
from __future__ import annotations

import os

import pytest

from tests.web.conftest import (  # noqa: F401  (fixtures)
    SOLUTION,
    World,
    celery_worker_process,
    enqueued,
    redis_server,
    start_worker,
    world,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery"  # the world fixture's


@pytest.fixture
def browser(monkeypatch):
    """Chromium for one test. Playwright's sync API keeps an event loop running in this thread while it
    is started, which Django takes for an async context: the test's own ORM calls are allowed for that
    time only (per test, so that no other test runs with the check off)."""
    from playwright.sync_api import sync_playwright

    assert os.access(CHROMIUM, os.X_OK), "Chromium is not installed: run scripts/install-browser.sh (make test does)"
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Opens pages in fresh browser contexts (one per user); every request they make must go to the
    live server, and no page may log a JavaScript error."""
    contexts, errors, elsewhere = [], [], []

    def make(**context_kwargs):
        context = browser.new_context(base_url=live_server.url, **context_kwargs)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda req: None if req.url.startswith((live_server.url, "data:", "blob:"))
                else elsewhere.append(req.url))
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors: {errors}"
    assert elsewhere == [], f"requests beyond the live server: {elsewhere}"


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")

"""Browser fixtures: one headless Chromium (Debian's, never a downloaded one) for the whole
session, a fresh browser context per test, and helpers to sign in.

Playwright's sync API runs an event loop in the test thread, so the ORM calls the tests make
while it runs need DJANGO_ALLOW_ASYNC_UNSAFE; the live server answers from its own thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(apt-get install chromium) to run the browser tests. "
            "They never download a browser.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def base_url(live_server, transactional_db, settings) -> str:
    """The live server's address, with an empty cache: TOTP codes already used and rate
    limits live in the cache, and the database is flushed between browser tests."""
    from django.core.cache import cache

    cache.clear()
    # A code typed in the last moment of its 30-second step is checked in the next one:
    # accept the previous step too, so that a test never fails on the boundary.
    settings.MFA_TOTP_TOLERANCE = 1
    return str(live_server.url)


@pytest.fixture
def new_context(browser, base_url) -> Iterator[Callable[..., Any]]:
    """Make a browser context (English unless told otherwise); all are closed after the test."""
    contexts = []

    def make(*, language: str = "en", **options: Any) -> Any:
        context = browser.new_context(base_url=base_url, **options)
        context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Any:
    """A page in a fresh desktop context."""
    return new_context(viewport={"width": 1280, "height": 900}).new_page()


@pytest.fixture
def sign_in_as(base_url) -> Callable[[Any, Any], None]:
    """Give a page the session of a user, without going through the sign-in pages."""
    from django.conf import settings
    from django.test import Client

    def sign_in(page: Any, user: Any) -> None:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}]
        )

    return sign_in

"""Helpers shared by the browser tests."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import expect

from conftest import PASSWORD, totp_code


def sign_in_with_code(page: Any, email: str) -> None:
    """Sign in through the real pages, in whichever language the page is in: email and
    password, then the authenticator code."""
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.locator("input[name=code]").fill(totp_code())
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("form.signout button")).to_be_visible()


def assert_fits_a_phone(page: Any, width: int = 390) -> None:
    """No sideways scrolling, and every visible button or button-like link is at least
    44 CSS pixels tall (the usual minimum for a tap target)."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} scrolls sideways: {scroll_width}px wide"
    small = page.evaluate(
        """() => [...document.querySelectorAll('button, .button, input[type=submit]')]
            .filter(el => el.getClientRects().length > 0)
            .map(el => [el.textContent.trim() || el.getAttribute('aria-label'),
                        el.getBoundingClientRect().height])
            .filter(([, height]) => height < 44)"""
    )
    assert not small, f"tap targets under 44px on {page.url}: {small}"


def wait_until_true(page: Any, script: str, timeout: float = 10.0) -> None:
    """Wait until a JavaScript function (given as its source) returns true in the page.
    Playwright's wait_for_function evaluates its predicate with eval(), which the pages'
    Content-Security-Policy forbids; page.evaluate calls a function without eval."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {script}")
        page.wait_for_timeout(100)

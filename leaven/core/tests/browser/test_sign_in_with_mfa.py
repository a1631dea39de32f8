"""Signing in with a second factor, and being sent to set one up when a role needs it."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, totp_code

pytestmark = pytest.mark.browser


def test_coordinator_signs_in_with_an_authenticator_code(page, base_url, coordinator):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("coordinator@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()

    # The password alone is not enough: the authenticator code is asked for.
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)

    page.get_by_label("Code").fill(totp_code())
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_coordinator_without_an_authenticator_is_sent_to_set_one_up(page, base_url, tree):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    from leaven.core.models import User
    from leaven.core.services import role_grant

    user = User.objects.create_user(email="new-coordinator@example.org", password=PASSWORD)
    role_grant(actor=None, user=user, unit=tree.committee_a, role="coordinator", as_operator=True)

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("new-coordinator@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()

    # No code is asked for (there is no authenticator yet), but the dashboard is out of
    # reach: the coordinator is sent straight to set one up; the password just given is
    # not asked for again.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    page.goto("/people/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()

    # Read the secret off the page as a person would type it into an authenticator app.
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret)
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    page.get_by_label("Authenticator code").fill(code)
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("button", name="Activate")).to_have_count(0)

    page.get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()

    # From now on signing in asks for a code from the new authenticator.
    page.get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("new-coordinator@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_label("Code")).to_be_visible()

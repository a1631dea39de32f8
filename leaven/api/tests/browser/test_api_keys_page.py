"""An admin, on a phone, creates an API key, copies the token shown once, uses it, and
revokes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leaven.core.tests.browser.fixtures import PHONE
from leaven.core.tests.browser.helpers import assert_fits_a_phone

pytestmark = pytest.mark.browser


def test_create_use_and_revoke_a_key(new_context, sign_in_as, admin, tree, base_url):
    import requests

    page = new_context(**PHONE).new_page()
    sign_in_as(page, admin)
    page.goto("/settings/api/")
    assert_fits_a_phone(page)
    page.get_by_label("Unit").first.select_option(label="\u2003\u2003Pilsen")
    page.get_by_label("Name").fill("Data warehouse")
    page.get_by_role("button", name="Create key").tap()
    expect(page.get_by_role("heading", name="Your new key")).to_be_visible()
    token = page.locator("code.api-secret").inner_text().strip()
    response = requests.get(
        f"{base_url}/api/v2/people", headers={"OSDI-API-Token": token}, timeout=10
    )
    assert response.status_code == 200
    page.goto("/settings/api/")
    expect(page.locator("code.api-secret")).to_have_count(0)
    page.get_by_role("button", name="Revoke").tap()
    expect(page.get_by_text("The key was revoked")).to_be_visible()
    response = requests.get(
        f"{base_url}/api/v2/people", headers={"OSDI-API-Token": token}, timeout=10
    )
    assert response.status_code == 401

"""A captain records cash dues from a phone: the member's page, the payment form already
filled in with the dues and today's date, one tap to save, and a receipt number."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leaven.core.tests.browser.fixtures import PHONE
from leaven.core.tests.browser.helpers import assert_fits_a_phone

pytestmark = pytest.mark.browser


def test_captain_records_cash_dues(new_context, sign_in_as, captain, make_membership):
    from leaven.membership.models import DuesPayment

    membership = make_membership(today=timezone.localdate(), given_name="Rosa", family_name="Soto")
    page = new_context(**PHONE).new_page()
    sign_in_as(page, captain)
    page.goto("/membership/")
    page.get_by_role("link", name="Rosa Soto").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rosa Soto")
    assert_fits_a_phone(page)
    page.get_by_role("link", name="Record a payment").tap()
    expect(page.get_by_label("Amount")).to_have_value("10.00")
    assert_fits_a_phone(page)
    page.get_by_role("button", name="Save payment").tap()
    expect(page.get_by_role("status")).to_contain_text("Recorded $10.00. Receipt number R")
    expect(page.locator(".membership-facts")).to_contain_text("Active")
    payment = DuesPayment.objects.get()
    assert (payment.membership_id, payment.method, payment.recorded_by_id) == (
        membership.pk,
        "cash",
        captain.pk,
    )

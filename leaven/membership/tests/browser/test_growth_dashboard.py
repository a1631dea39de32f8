"""The growth dashboard draws its chart as server-rendered SVG (no chart script)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_dashboard_renders_its_chart(page, sign_in_as, coordinator, captain, make_membership, tree):
    from leaven.membership import services

    today = timezone.localdate()
    for n in range(3):
        membership = make_membership(today=today, given_name=f"M{n}")
        services.payment_record(
            actor=captain,
            membership=membership,
            amount_cents=1000,
            paid_on=today,
            method="cash",
            today=today,
        )
    services.goal_set(
        actor=coordinator,
        unit=tree.committee_a,
        target_count=6,
        target_date=today + dt.timedelta(days=120),
        today=today,
    )
    sign_in_as(page, coordinator)
    page.goto(f"/membership/growth/?unit={tree.committee_a.slug}")
    chart = page.locator("figure.membership-chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator("polyline.members")).to_have_count(1)
    expect(chart.locator("circle.dot")).to_have_count(12)
    expect(chart.locator("line.goal")).to_have_count(1)
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    assert page.locator("script").count() == page.locator("script[src]").count()
    expect(page.locator(".stats")).to_contain_text("3")

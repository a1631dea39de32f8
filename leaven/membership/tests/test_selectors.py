"""Scoped reads: memberships and payments of another committee are a 404 exactly like a
missing one; the growth figures follow the status history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from leaven.membership import selectors, services
from leaven.membership.models import Membership

D = dt.date


def test_scope_and_outsider(make_membership, coordinator, outsider, admin, viewer):
    membership = make_membership()
    assert list(selectors.membership_queryset_for_actor(actor=coordinator)) == [membership]
    assert list(selectors.membership_queryset_for_actor(actor=viewer)) == [membership]
    assert list(selectors.membership_queryset_for_actor(actor=admin)) == [membership]
    assert not selectors.membership_queryset_for_actor(actor=outsider).exists()
    with pytest.raises(Http404):
        selectors.membership_get_for_actor(actor=outsider, pk=membership.pk)
    with pytest.raises(Http404):
        selectors.membership_get_for_actor(actor=coordinator, pk=membership.pk + 999)


def test_payment_scope(make_membership, captain, coordinator, outsider):
    membership = make_membership()
    payment = services.payment_record(
        actor=captain,
        membership=membership,
        amount_cents=1000,
        paid_on=D(2026, 1, 10),
        method="cash",
        today=D(2026, 1, 10),
    )
    assert selectors.payment_get_for_actor(actor=coordinator, pk=payment.pk) == payment
    for actor in (outsider, captain):
        with pytest.raises(Http404):
            selectors.payment_get_for_actor(actor=actor, pk=payment.pk)


def test_list_filters_by_unit_subtree(tree, make_membership, admin, tiers):
    in_committee = make_membership()
    in_circle = make_membership(unit=tree.circle_a)
    ids = lambda unit: {  # noqa: E731
        m.pk
        for m in selectors.membership_list(
            actor=admin, filters=selectors.MemberFilters(unit=unit.pk)
        )
    }
    assert ids(tree.committee_a) == {in_committee.pk, in_circle.pk}
    assert ids(tree.circle_a) == {in_circle.pk}


def test_growth_follows_history(tree, make_membership, captain, coordinator, outsider):
    """Two join in January and pay; one lapses in March. The count at the end of each month,
    the joins, the lapses, the dues and the goal pace follow."""
    first = make_membership(today=D(2026, 1, 5))
    second = make_membership(today=D(2026, 1, 20))
    for membership, day in ((first, D(2026, 1, 5)), (second, D(2026, 1, 20))):
        services.payment_record(
            actor=captain,
            membership=membership,
            amount_cents=1000,
            paid_on=day,
            method="cash",
            today=day,
        )
    services.payment_record(
        actor=captain,
        membership=second,
        amount_cents=3000,
        paid_on=D(2026, 2, 18),
        method="cash",
        today=D(2026, 2, 18),
    )
    for day in (D(2026, 2, 6), D(2026, 3, 8)):
        services.membership_apply_rules(today=day)
    services.goal_set(
        actor=coordinator,
        unit=tree.committee_a,
        target_count=10,
        target_date=D(2026, 12, 31),
        today=D(2026, 3, 1),
    )
    growth = selectors.growth(
        actor=coordinator, unit=tree.committee_a, today=D(2026, 4, 15), months=4
    )
    by_month = {m.month: m for m in growth.months}
    assert [m.month for m in growth.months] == [
        D(2026, 1, 1),
        D(2026, 2, 1),
        D(2026, 3, 1),
        D(2026, 4, 1),
    ]
    assert by_month[D(2026, 1, 1)].members == 2 and by_month[D(2026, 1, 1)].joins == 2
    assert by_month[D(2026, 3, 1)].members == 1 and by_month[D(2026, 3, 1)].lapses == 1
    assert by_month[D(2026, 2, 1)].dues_cents == 3000
    assert growth.members_now == 1
    assert growth.pace_needed == pytest.approx(9 / 8)
    chart = selectors.growth_chart(growth)
    assert len(chart.dots) == 4 and chart.goal_line is not None
    with pytest.raises(Http404):
        selectors.growth(actor=outsider, unit=tree.committee_a, today=D(2026, 4, 15))


def test_rolled_up_growth_counts_children(tree, make_membership, captain, admin):
    membership = make_membership(unit=tree.circle_a, today=D(2026, 1, 5))
    services.payment_record(
        actor=captain,
        membership=membership,
        amount_cents=1000,
        paid_on=D(2026, 1, 5),
        method="cash",
        today=D(2026, 1, 5),
    )
    growth = selectors.growth(actor=admin, unit=tree.region, today=D(2026, 1, 20))
    assert growth.members_now == 1
    assert dict((u.name, n) for u, n in growth.children) == {"Little Village": 0, "Pilsen": 1}


def test_dues_report_by_month_and_method(tree, make_membership, captain, coordinator, outsider):
    membership = make_membership(today=D(2026, 1, 5))
    for cents, day, method in (
        (1000, D(2026, 1, 5), "cash"),
        (1000, D(2026, 2, 5), "cash"),
        (2000, D(2026, 2, 9), "check"),
    ):
        services.payment_record(
            actor=coordinator,
            membership=membership,
            amount_cents=cents,
            paid_on=day,
            method=method,
            today=day,
        )
    rows = selectors.dues_report(
        actor=coordinator, unit=tree.committee_a, start=D(2026, 1, 1), end=D(2026, 2, 28)
    )
    assert [(r.month, r.method, r.count, r.total_cents) for r in rows] == [
        ("2026-01", "cash", 1, 1000),
        ("2026-02", "cash", 1, 1000),
        ("2026-02", "check", 1, 2000),
    ]
    with pytest.raises(Http404):
        selectors.dues_report(
            actor=outsider, unit=tree.committee_a, start=D(2026, 1, 1), end=D(2026, 2, 28)
        )
    assert Membership.objects.count() == 1

"""The demo data: tiers once, a membership for each person, a believable mix of statuses
and payments, the same for the same seed, and nothing doubled on a second run."""

from __future__ import annotations

import datetime as dt
import random

from leaven.membership.demo import membership_demo
from leaven.membership.models import DuesPayment, Membership, MembershipGoal, Tier


def test_demo_memberships(tree, make_person):
    people = [make_person(given_name=f"P{n}") for n in range(40)]
    created = membership_demo(
        unit=tree.committee_a, people=people, rng=random.Random(7), today=dt.date(2026, 6, 15)
    )
    assert len(created) == 40
    assert Tier.objects.filter(owner_unit=tree.committee_a).count() == 3
    assert MembershipGoal.objects.count() == 1
    statuses = set(Membership.objects.values_list("status", flat=True))
    assert {"active", "lapsed"} <= statuses
    assert DuesPayment.objects.filter(method="cash").exclude(receipt_number="").exists()
    assert all(m.status_changes.exists() for m in created)
    again = membership_demo(unit=tree.committee_a, people=people, rng=random.Random(7))
    assert again == []
    assert Membership.objects.count() == 40

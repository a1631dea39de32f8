"""Demo memberships: tiers for a unit and a realistic year of members and dues for given
people, so the demo organization shows a growing membership."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

from django.utils import timezone

from leaven.core.models import OrgUnit
from leaven.people.models import Person

from .models import (
    DuesPayment,
    Interval,
    Membership,
    MembershipGoal,
    Method,
    PayWith,
    Status,
    StatusChange,
    Tier,
)
from .services import add_months, receipt_number_new

TIERS = [
    # name_en, name_es, cents, interval, sliding minimum, benefits en, benefits es
    (
        "Sliding scale",
        "Escala móvil",
        1000,
        Interval.MONTHLY,
        100,
        "Vote at assemblies; pay what you can.",
        "Voto en las asambleas; pague lo que pueda.",
    ),
    (
        "Sustaining member",
        "Miembro sostenedor",
        2500,
        Interval.MONTHLY,
        None,
        "Everything above, and you sustain the hotline.",
        "Todo lo anterior, y usted sostiene la línea de ayuda.",
    ),
    (
        "Yearly member",
        "Miembro anual",
        6000,
        Interval.YEARLY,
        None,
        "Vote at assemblies; one payment a year.",
        "Voto en las asambleas; un pago al año.",
    ),
]


def membership_demo(
    *, unit: OrgUnit, people: Sequence[Person], rng: random.Random, today: dt.date | None = None
) -> list[Membership]:
    """Create this unit's tiers (once) and a membership for each given person, with a history
    spread over the past year: most active and paying (cash to captains, cards, a few
    payroll deductions), some in grace, some lapsed, a few on hardship waivers. Returns the
    memberships created. Writes directly (demo data, not a user's action)."""
    today = today or timezone.localdate()
    tiers = list(Tier.objects.filter(owner_unit=unit))
    if not tiers:
        tiers = [
            Tier.objects.create(
                owner_unit=unit,
                name_en=name_en,
                name_es=name_es,
                amount_cents=cents,
                interval=interval,
                sliding_min_cents=minimum,
                benefits_en=ben_en,
                benefits_es=ben_es,
                sort_order=index,
            )
            for index, (name_en, name_es, cents, interval, minimum, ben_en, ben_es) in enumerate(
                TIERS
            )
        ]
        MembershipGoal.objects.create(
            owner_unit=unit,
            target_count=max(2 * len(people), 10),
            target_date=dt.date(today.year, 12, 31)
            if today.month < 12
            else dt.date(today.year + 1, 12, 31),
        )
    existing = set(
        Membership.objects.filter(owner_unit=unit, person__in=people).values_list(
            "person_id", flat=True
        )
    )
    created: list[Membership] = []
    for person in people:
        if person.pk in existing:
            continue
        # Growth accelerates: more people joined recently than a year ago.
        days_ago = int(365 * (rng.random() ** 1.7))
        joined = today - dt.timedelta(days=days_ago)
        tier = rng.choices(tiers, weights=[6, 2, 2][: len(tiers)])[0]
        amount = tier.amount_cents
        if tier.sliding_min_cents is not None:
            amount = rng.choice([100, 300, 500, 1000, 1500])
        roll = rng.random()
        pay_with = PayWith.CASH if rng.random() < 0.6 else PayWith.CARD
        membership = Membership.objects.create(
            person=person,
            owner_unit=unit,
            tier=tier,
            amount_cents=amount,
            currency=tier.currency,
            status=Status.PENDING,
            status_since=joined,
            joined_on=joined,
            pay_with=pay_with,
        )
        changes = [(joined, "", Status.PENDING, "joined")]
        payments: list[DuesPayment] = []
        if roll < 0.05:
            membership.status = Status.WAIVED
            membership.waiver_review_on = today + dt.timedelta(days=rng.randint(30, 180))
            membership.amount_cents = 0
            changes.append((joined, Status.PENDING, Status.WAIVED, "hardship waiver"))
        elif roll < 0.1:
            pass  # still pending: has not paid yet
        else:
            months = 1 if tier.interval == Interval.MONTHLY else 12
            # How long they kept paying: most still do, some stopped.
            stop = today if roll > 0.3 else joined + dt.timedelta(days=rng.randint(20, 300))
            day, paid_through = joined, joined
            while day <= min(stop, today):
                method = (
                    Method.CASH
                    if pay_with == PayWith.CASH
                    else rng.choice([Method.CARD, Method.CARD, Method.BANK, Method.PAYROLL])
                )
                paid_through = add_months(paid_through, months)
                payments.append(
                    DuesPayment(
                        membership=membership,
                        amount_cents=amount,
                        currency=tier.currency,
                        paid_on=day,
                        method=method,
                        months_credited=months,
                        receipt_number=receipt_number_new(today=day)
                        if method == Method.CASH
                        else "",
                    )
                )
                day = add_months(day, months)
            membership.paid_through = paid_through
            changes.append((joined, Status.PENDING, Status.ACTIVE, "payment"))
            if paid_through < today:
                grace_from = paid_through + dt.timedelta(days=1)
                grace_until = paid_through + dt.timedelta(days=30)
                changes.append(
                    (grace_from, Status.ACTIVE, Status.GRACE, "paid-through date passed")
                )
                if grace_until < today:
                    changes.append(
                        (
                            grace_until + dt.timedelta(days=1),
                            Status.GRACE,
                            Status.LAPSED,
                            "grace period ended",
                        )
                    )
                    membership.status = Status.LAPSED
                else:
                    membership.status = Status.GRACE
                    membership.grace_until = grace_until
            else:
                membership.status = Status.ACTIVE
        membership.status_since = changes[-1][0]
        membership.save()
        DuesPayment.objects.bulk_create(payments)
        StatusChange.objects.bulk_create(
            StatusChange(membership=membership, from_status=f, to_status=t, on=on, reason=r)
            for on, f, t, r in changes
        )
        created.append(membership)
    return created

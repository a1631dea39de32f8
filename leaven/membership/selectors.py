"""Reads for membership and dues, always scoped to the actor: a membership the actor may
not see is a 404, exactly like one that does not exist."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from leaven.core import access, permissions
from leaven.core.models import OrgUnit
from leaven.core.selectors import deny

from .models import (
    GOOD_STANDING,
    DuesPayment,
    Membership,
    MembershipGoal,
    Status,
    StatusChange,
    Tier,
)
from .services import add_months, tiers_for_unit


def membership_queryset_for_actor(
    *, actor: Any, permission: str = permissions.MEMBERSHIP_VIEW
) -> QuerySet[Membership]:
    unit_ids = access.unit_ids_in_scope(actor, permission)
    if not unit_ids:
        return Membership.objects.none()
    return Membership.objects.filter(owner_unit_id__in=unit_ids)


def membership_get_for_actor(
    *, actor: Any, pk: int, permission: str = permissions.MEMBERSHIP_VIEW
) -> Membership:
    membership = (
        Membership.objects.select_related("person", "tier", "owner_unit").filter(pk=pk).first()
    )
    if membership is None:
        raise deny(actor=actor, obj_type="membership", obj_id=pk)
    if not access.can(actor, permission, membership.owner_unit):
        raise deny(actor=actor, obj_type="membership", obj_id=pk, unit=membership.owner_unit)
    return membership


def payment_get_for_actor(
    *, actor: Any, pk: int, permission: str = permissions.MEMBERSHIP_MANAGE
) -> DuesPayment:
    payment = (
        DuesPayment.objects.select_related("membership__owner_unit", "membership__tier")
        .filter(pk=pk)
        .first()
    )
    if payment is None or not access.can(actor, permission, payment.membership.owner_unit):
        raise deny(actor=actor, obj_type="duespayment", obj_id=pk)
    return payment


@dataclass(frozen=True)
class MemberFilters:
    status: str = ""
    tier: int | None = None
    unit: int | None = None


def membership_list(*, actor: Any, filters: MemberFilters) -> QuerySet[Membership]:
    qs = membership_queryset_for_actor(actor=actor)
    if filters.unit:
        unit = OrgUnit.objects.filter(pk=filters.unit).first()
        if unit is None:
            return Membership.objects.none()
        qs = qs.filter(owner_unit__path__startswith=unit.path)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.tier:
        qs = qs.filter(tier_id=filters.tier)
    return qs.select_related("person", "tier", "owner_unit").order_by(
        "person__sort_name", "person_id", "owner_unit_id"
    )


def tiers_visible(*, actor: Any) -> QuerySet[Tier]:
    """Tiers of units in the actor's scope and of the units above them."""
    paths = [path for _role, path, _id in access.roles_of(actor)]
    ids: set[int] = set()
    for path in paths:
        ids.update(int(part) for part in path.strip("/").split("/") if part)
    ids |= set(access.unit_ids_in_scope(actor, permissions.MEMBERSHIP_VIEW))
    return Tier.objects.filter(owner_unit_id__in=ids).select_related("owner_unit")


def membership_history(*, membership: Membership) -> QuerySet[StatusChange]:
    """Status history of a membership the caller has already fetched through a selector."""
    return membership.status_changes.select_related("actor").all()


def membership_payments(*, membership: Membership) -> QuerySet[DuesPayment]:
    return membership.payments.select_related("recorded_by", "reverses").all()


# ---------------------------------------------------------------------------------------
# Reports


@dataclass(frozen=True)
class DuesRow:
    month: str
    method: str
    currency: str
    count: int
    total_cents: int


def dues_report(*, actor: Any, unit: OrgUnit, start: dt.date, end: dt.date) -> list[DuesRow]:
    """Dues collected in a unit and the units below it, by month and method (corrections
    included, so totals are net)."""
    if not access.can(actor, permissions.MEMBERSHIP_REPORT, unit):
        raise deny(actor=actor, obj_type="orgunit.dues", obj_id=unit.pk, unit=unit)
    rows = DuesPayment.objects.filter(
        membership__owner_unit__path__startswith=unit.path, paid_on__gte=start, paid_on__lte=end
    ).values_list("paid_on", "method", "currency", "amount_cents")
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for paid_on, method, currency, amount in rows:
        key = (f"{paid_on:%Y-%m}", method, currency)
        totals[key][0] += 1
        totals[key][1] += amount
    return [
        DuesRow(month=m, method=method, currency=cur, count=c, total_cents=t)
        for (m, method, cur), (c, t) in sorted(totals.items())
    ]


# ---------------------------------------------------------------------------------------
# Growth


@dataclass
class MonthFigures:
    month: dt.date
    members: int
    joins: int
    lapses: int
    dues_cents: int


@dataclass
class Growth:
    unit: OrgUnit
    months: list[MonthFigures]
    members_now: int
    retention: float | None
    goal: MembershipGoal | None
    pace_needed: float | None = None
    pace_recent: float = 0.0
    children: list[tuple[OrgUnit, int]] = field(default_factory=list)


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _status_on(changes: list[tuple[dt.date, str]], day: dt.date) -> str:
    status = ""
    for on, to in changes:
        if on > day:
            break
        status = to
    return status


def growth(*, actor: Any, unit: OrgUnit, today: dt.date, months: int = 12) -> Growth:
    """Members in good standing at the end of each month, joins, lapses and dues per month,
    twelve-month retention and the pace needed to meet the unit's goal. Rolled up: the unit
    and every unit below it."""
    if not access.can(actor, permissions.MEMBERSHIP_REPORT, unit):
        raise deny(actor=actor, obj_type="orgunit.growth", obj_id=unit.pk, unit=unit)
    first = add_months(_month_start(today), -(months - 1))
    memberships = Membership.objects.filter(owner_unit__path__startswith=unit.path)
    changes: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    for membership_id, on, to in (
        StatusChange.objects.filter(membership__in=memberships)
        .order_by("on", "id")
        .values_list("membership_id", "on", "to_status")
    ):
        changes[membership_id].append((on, to))
    joined = list(memberships.values_list("pk", "joined_on", "status", "owner_unit_id"))
    dues: dict[dt.date, int] = defaultdict(int)
    for paid_on, amount in DuesPayment.objects.filter(
        membership__in=memberships, paid_on__gte=first
    ).values_list("paid_on", "amount_cents"):
        dues[_month_start(paid_on)] += amount
    lapses: dict[dt.date, int] = defaultdict(int)
    for history in changes.values():
        for on, to in history:
            if to in (Status.LAPSED, Status.CANCELLED) and on >= first:
                lapses[_month_start(on)] += 1
    joins: dict[dt.date, int] = defaultdict(int)
    for _pk, joined_on, _status, _unit in joined:
        if joined_on >= first:
            joins[_month_start(joined_on)] += 1

    figures: list[MonthFigures] = []
    for index in range(months):
        month = add_months(first, index)
        end = min(add_months(month, 1) - dt.timedelta(days=1), today)
        count = sum(
            1 for pk, *_rest in joined if _status_on(changes.get(pk, []), end) in GOOD_STANDING
        )
        figures.append(
            MonthFigures(
                month=month,
                members=count,
                joins=joins.get(month, 0),
                lapses=lapses.get(month, 0),
                dues_cents=dues.get(month, 0),
            )
        )
    members_now = sum(1 for _pk, _j, status, _u in joined if status in GOOD_STANDING)
    year_ago = today - dt.timedelta(days=365)
    base = [pk for pk, *_r in joined if _status_on(changes.get(pk, []), year_ago) in GOOD_STANDING]
    kept = [pk for pk, _j, status, _u in joined if pk in set(base) and status in GOOD_STANDING]
    retention = len(kept) / len(base) if base else None
    goal = (
        MembershipGoal.objects.filter(owner_unit=unit, target_date__gt=today)
        .order_by("-created_at", "-id")
        .first()
    )
    result = Growth(
        unit=unit, months=figures, members_now=members_now, retention=retention, goal=goal
    )
    if len(figures) >= 4:
        result.pace_recent = (figures[-1].members - figures[-4].members) / 3
    if goal is not None:
        months_left = max(
            (goal.target_date.year - today.year) * 12 + goal.target_date.month - today.month, 1
        )
        result.pace_needed = max(goal.target_count - members_now, 0) / months_left
    by_unit: dict[int, int] = defaultdict(int)
    for _pk, _j, status, unit_id in joined:
        if status in GOOD_STANDING:
            by_unit[unit_id] += 1
    children = OrgUnit.objects.filter(parent=unit).order_by("name")
    for child in children:
        child_ids = set(
            OrgUnit.objects.filter(path__startswith=child.path).values_list("pk", flat=True)
        )
        result.children.append((child, sum(by_unit[i] for i in child_ids)))
    return result


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    points: str
    dots: list[tuple[float, float, int, dt.date]]
    y_ticks: list[tuple[float, int]]
    goal_line: tuple[float, float, float, float] | None
    goal_label_y: float
    plot_left: int
    plot_right: int
    plot_bottom: int


def growth_chart(growth: Growth, *, width: int = 640, height: int = 260) -> Chart:
    """Coordinates for the server-rendered SVG chart of members per month, with the goal
    drawn as a line from this month's count to the target at its date."""
    left, right, top, bottom = 44, width - 12, 16, height - 36
    values = [m.members for m in growth.months]
    target = growth.goal.target_count if growth.goal else 0
    top_value = max([*values, target, 4])
    step = max(1, -(-top_value // 4))
    top_value = step * 4
    n = len(values)
    span = n - 1 if n > 1 else 1
    goal_months = 0
    if growth.goal is not None:
        last = growth.months[-1].month
        goal_months = max(
            (growth.goal.target_date.year - last.year) * 12
            + growth.goal.target_date.month
            - last.month,
            0,
        )
    x_span = span + goal_months

    def x(index: float) -> float:
        return round(left + (right - left) * index / x_span, 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - top) * value / top_value, 1)

    dots = [
        (x(i), y(v), v, m.month) for i, (v, m) in enumerate(zip(values, growth.months, strict=True))
    ]
    goal_line = None
    if growth.goal is not None and values:
        goal_line = (x(span), y(values[-1]), x(x_span), y(target))
    return Chart(
        width=width,
        height=height,
        points=" ".join(f"{px},{py}" for px, py, _v, _l in dots),
        dots=dots,
        y_ticks=[(y(step * i), step * i) for i in range(5)],
        goal_line=goal_line,
        goal_label_y=y(target) - 6,
        plot_left=left,
        plot_right=right,
        plot_bottom=bottom,
    )


def join_page_unit(*, slug: str) -> tuple[OrgUnit, list[Tier]]:
    """The unit behind a public join page and the tiers it offers; a unit that offers no
    membership has no join page (404)."""
    unit = OrgUnit.objects.filter(slug=slug).first()
    if unit is None:
        raise Http404
    tiers = tiers_for_unit(unit=unit)
    if not tiers:
        raise Http404
    return unit, tiers

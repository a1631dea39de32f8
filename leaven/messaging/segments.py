"""Segment conditions: a small tree of and/or/not over condition kinds, compiled to a Q over
Person. Other apps add kinds (membership status, event attendance, canvass results) with
`register_condition`; a kind is a function from its value to a Q."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from leaven.core.models import OrgUnit
from leaven.people.models import Email, PersonUnit, Phone, Tagging

Builder = Callable[[Any], Q]


@dataclass(frozen=True)
class ConditionKind:
    name: str
    builder: Builder


REGISTRY: dict[str, ConditionKind] = {}


def register_condition(name: str, builder: Builder) -> None:
    """Add (or replace) a kind of condition segments can use."""
    REGISTRY[name] = ConditionKind(name, builder)


def _ints(value: Any) -> list[int]:
    if not isinstance(value, list):
        raise ValidationError(_("A condition needs a list of values."))
    try:
        return [int(v) for v in value]
    except (TypeError, ValueError):
        raise ValidationError(_("A condition holds an unknown value.")) from None


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("A condition needs a list of values."))
    return [v.strip() for v in value if v.strip()]


def _units(value: Any) -> Q:
    ids = _ints(value)
    paths = list(OrgUnit.objects.filter(pk__in=ids).values_list("path", flat=True))
    if not paths:
        return Q(pk__in=[])
    subtree = Q()
    for path in paths:
        subtree |= Q(unit__path__startswith=path)
    return Q(Exists(PersonUnit.objects.filter(subtree, person_id=OuterRef("pk"))))


def _tags(value: Any) -> Q:
    return Q(Exists(Tagging.objects.filter(person_id=OuterRef("pk"), tag_id__in=_ints(value))))


def _stage(value: Any) -> Q:
    return Q(stage__in=_strings(value))


def _language(value: Any) -> Q:
    return Q(language__in=_strings(value))


def _precinct(value: Any) -> Q:
    return Q(household__precinct_code__in=_strings(value))


def _ward(value: Any) -> Q:
    return Q(household__ward_code__in=_strings(value))


def _consent(value: Any) -> Q:
    if value == "email":
        return Q(
            Exists(Email.objects.filter(person_id=OuterRef("pk"), status=Email.Status.SUBSCRIBED))
        )
    if value == "sms":
        return Q(
            Exists(
                Phone.objects.filter(person_id=OuterRef("pk"), sms_status=Phone.SMSStatus.OPTED_IN)
            )
        )
    if value == "urgent":
        return Q(
            Exists(
                Phone.objects.filter(
                    person_id=OuterRef("pk"),
                    sms_status=Phone.SMSStatus.OPTED_IN,
                    urgent_alerts=True,
                )
            )
        )
    raise ValidationError(_("Unknown consent condition."))


def _date(value: Any) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(_("A condition holds a date Leaven cannot read.")) from None


MEMBERSHIP_STATUSES = ("pending", "active", "grace", "lapsed", "cancelled", "waived")


def _membership(value: Any) -> Q:
    """{"status": [...], "tiers": [tier ids], "paid_since": "YYYY-MM-DD"}: a membership that
    meets every part given (one membership meets them all, not one part each)."""
    from leaven.membership.models import DuesPayment, Membership

    if not isinstance(value, dict):
        raise ValidationError(_("The conditions are not in a form Leaven understands."))
    filters = Q(person_id=OuterRef("pk"))
    statuses = _strings(value.get("status") or [])
    if any(status not in MEMBERSHIP_STATUSES for status in statuses):
        raise ValidationError(_("A condition holds an unknown value."))
    if statuses:
        filters &= Q(status__in=statuses)
    tiers = _ints(value.get("tiers") or [])
    if tiers:
        filters &= Q(tier_id__in=tiers)
    if value.get("paid_since"):
        paid = DuesPayment.objects.filter(
            membership_id=OuterRef("pk"),
            paid_on__gte=_date(value["paid_since"]),
            amount_cents__gt=0,
        )
        return Q(Exists(Membership.objects.filter(filters).filter(Exists(paid))))
    return Q(Exists(Membership.objects.filter(filters)))


def _event_rsvp(value: Any) -> Q:
    """Said they are going to (or are on the waitlist of) any of these events."""
    from leaven.events.models import RSVP

    return Q(
        Exists(
            RSVP.objects.filter(
                person_id=OuterRef("pk"),
                event_id__in=_ints(value),
                status__in=[RSVP.Status.GOING, RSVP.Status.WAITLIST],
            )
        )
    )


def _event_attended(value: Any) -> Q:
    """Came to (was checked in at) any of these events."""
    from leaven.events.models import RSVP

    return Q(
        Exists(
            RSVP.objects.filter(
                person_id=OuterRef("pk"),
                event_id__in=_ints(value),
                attendance=RSVP.Attendance.ATTENDED,
            )
        )
    )


def _attended_within(value: Any) -> Q:
    """Came to any event that started in the last N days."""
    from leaven.events.models import RSVP

    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("A condition holds an unknown value.")) from None
    if not 1 <= days <= 3660:
        raise ValidationError(_("Choose between 1 and 3,660 days."))
    since = timezone.now() - timedelta(days=days)
    return Q(
        Exists(
            RSVP.objects.filter(
                person_id=OuterRef("pk"),
                attendance=RSVP.Attendance.ATTENDED,
                event__starts_at__gte=since,
            )
        )
    )


for _name, _builder in (
    ("units", _units),
    ("tags", _tags),
    ("stage", _stage),
    ("language", _language),
    ("precinct", _precinct),
    ("ward", _ward),
    ("consent", _consent),
    ("membership", _membership),
    ("event_rsvp", _event_rsvp),
    ("event_attended", _event_attended),
    ("attended_within_days", _attended_within),
):
    register_condition(_name, _builder)

MAX_DEPTH = 8


def compile_conditions(tree: Any, depth: int = 0) -> Q:
    """The Q for a condition tree. An empty tree matches everyone (in the actor's scope).

    A node is either {"op": "and"|"or"|"not", "children": [...]} or
    {"kind": "<registered kind>", "value": ...}."""
    if depth > MAX_DEPTH:
        raise ValidationError(_("The conditions are nested too deeply."))
    if not tree:
        return Q()
    if not isinstance(tree, dict):
        raise ValidationError(_("The conditions are not in a form Leaven understands."))
    if "op" in tree:
        op = tree["op"]
        children = tree.get("children") or []
        if not isinstance(children, list):
            raise ValidationError(_("The conditions are not in a form Leaven understands."))
        compiled = [compile_conditions(child, depth + 1) for child in children]
        if op == "not":
            if len(compiled) != 1:
                raise ValidationError(_("“Not” takes exactly one condition."))
            return ~compiled[0]
        if op not in {"and", "or"}:
            raise ValidationError(_("Unknown way to combine conditions."))
        result = Q()
        if op == "and":
            for q in compiled:
                result &= q
            return result
        if not compiled:
            return Q()
        result = compiled[0]
        for q in compiled[1:]:
            result |= q
        return result
    kind = REGISTRY.get(str(tree.get("kind", "")))
    if kind is None:
        raise ValidationError(_("Unknown kind of condition."))
    return kind.builder(tree.get("value"))

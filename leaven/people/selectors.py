"""Reads of people and households, always scoped to the actor: what the actor may not see
is a 404, the same as what does not exist."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import BigIntegerField, Exists, Func, OuterRef, Q, QuerySet

from leaven.core import access, permissions
from leaven.core.audit import audit_record
from leaven.core.models import AuditEvent, OrgUnit
from leaven.core.selectors import audit_list_for_object, deny
from leaven.people import normalize
from leaven.people.models import (
    CustomField,
    Household,
    PartnerOrganization,
    Person,
    PersonUnit,
    Relationship,
    StageChange,
    Tag,
    Tagging,
)


class _Unindexed(Func):
    """``(+column)``: the same value, but SQLite will not use an index for a comparison on
    it. Valid on PostgreSQL too (unary plus)."""

    template = "(+%(expressions)s)"
    output_field = BigIntegerField()


def _visible_q(unit_ids: frozenset[int]) -> Q:
    # "Belongs to one of these units": seek the person's few memberships by person_id and
    # check their units in memory, rather than one index probe per unit in scope (an admin
    # has dozens). At a million people this halves a 3-condition count.
    links = (
        PersonUnit.objects.filter(person_id=OuterRef("pk"))
        .alias(unit_key=_Unindexed("unit_id"))
        .filter(unit_key__in=unit_ids)
    )
    return Q(Exists(links))


def person_queryset_for_actor(
    *, actor: Any, permission: str = permissions.PEOPLE_VIEW
) -> QuerySet[Person]:
    """Every person the actor may see: those who belong to a unit in the actor's scope."""
    unit_ids = access.unit_ids_in_scope(actor, permission)
    if not unit_ids:
        return Person.objects.none()
    return Person.objects.filter(_visible_q(unit_ids))


@dataclass(frozen=True)
class PersonFilters:
    q: str = ""
    tag: int | None = None
    unit: int | None = None
    stage: str = ""
    language: str = ""
    has_phone: bool | None = None
    has_email: bool | None = None

    @property
    def active(self) -> bool:
        return bool(
            self.q
            or self.tag
            or self.unit
            or self.stage
            or self.language
            or self.has_phone is not None
            or self.has_email is not None
        )


def _filtered(*, actor: Any, filters: PersonFilters) -> QuerySet[Person]:
    unit_ids = access.unit_ids_in_scope(actor, permissions.PEOPLE_VIEW)
    if filters.unit:
        unit = OrgUnit.objects.filter(pk=filters.unit).first()
        subtree = (
            set(OrgUnit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True))
            if unit
            else set()
        )
        unit_ids = frozenset(unit_ids & subtree)
    if not unit_ids:
        return Person.objects.none()
    qs = Person.objects.filter(_visible_q(unit_ids))
    if filters.q:
        term = normalize.fold(filters.q)
        words = term.split(" ")
        if len(words) > 1:
            # "maria lopez": given name and family name prefixes, either order.
            first, last = words[0], words[-1]
            qs = qs.filter(
                Q(given_sort__startswith=first, sort_name__startswith=last)
                | Q(given_sort__startswith=last, sort_name__startswith=first)
            )
        else:
            qs = qs.filter(Q(sort_name__startswith=term) | Q(given_sort__startswith=term))
    if filters.tag:
        qs = qs.filter(Exists(Tagging.objects.filter(person_id=OuterRef("pk"), tag_id=filters.tag)))
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.language:
        qs = qs.filter(language=filters.language)
    if filters.has_phone is not None:
        qs = qs.filter(has_phone=filters.has_phone)
    if filters.has_email is not None:
        qs = qs.filter(has_email=filters.has_email)
    return qs


@dataclass
class PersonPage:
    people: list[Person]
    next_after: int | None = None
    prev_before: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def person_list(
    *,
    actor: Any,
    filters: PersonFilters,
    after: int | None = None,
    before: int | None = None,
    page_size: int = 50,
) -> PersonPage:
    """One page of people ordered by family then given name. Pages are keyed on the last
    person shown (keyset pagination), so page 10,000 costs what page 1 does, and no name
    ever appears in a URL."""
    qs = _filtered(actor=actor, filters=filters).only(
        "id",
        "given_name",
        "family_name",
        "preferred_name",
        "language",
        "stage",
        "has_email",
        "has_phone",
        "sort_name",
        "owner_unit_id",
    )
    anchor_id = after or before
    anchor = (
        Person.objects.filter(pk=anchor_id).values_list("sort_name", "id").first()
        if anchor_id
        else None
    )
    if anchor is not None and after:
        qs = qs.filter(Q(sort_name__gt=anchor[0]) | Q(sort_name=anchor[0], id__gt=anchor[1]))
        rows = list(qs.order_by("sort_name", "id")[: page_size + 1])
        has_more, has_prev = len(rows) > page_size, True
        rows = rows[:page_size]
    elif anchor is not None and before:
        qs = qs.filter(Q(sort_name__lt=anchor[0]) | Q(sort_name=anchor[0], id__lt=anchor[1]))
        rows = list(qs.order_by("-sort_name", "-id")[: page_size + 1])
        has_prev, has_more = len(rows) > page_size, True
        rows = list(reversed(rows[:page_size]))
    else:
        rows = list(qs.order_by("sort_name", "id")[: page_size + 1])
        has_more, has_prev = len(rows) > page_size, False
        rows = rows[:page_size]
    return PersonPage(
        people=rows,
        next_after=rows[-1].pk if rows and has_more else None,
        prev_before=rows[0].pk if rows and has_prev else None,
    )


def person_count(*, actor: Any, filters: PersonFilters) -> int:
    return _filtered(actor=actor, filters=filters).count()


def person_get_for_actor(
    *, actor: Any, pk: int, permission: str = permissions.PEOPLE_VIEW
) -> Person:
    """The person, if the actor may see them; 404 otherwise (and the denial is audited)."""
    person = Person.objects.select_related("household", "owner_unit").filter(pk=pk).first()
    if person is None:
        from django.http import Http404

        raise Http404
    unit_ids = access.unit_ids_in_scope(actor, permission)
    if not unit_ids or not PersonUnit.objects.filter(person=person, unit_id__in=unit_ids).exists():
        raise deny(actor=actor, obj_type="person", obj_id=pk, unit=person.owner_unit)
    return person


def person_view_audited(*, actor: Any, person: Person) -> None:
    """Viewing a person's contact details is a view of a sensitive record: audit it."""
    audit_record(actor=actor, verb="person.viewed", obj=person, unit=person.owner_unit)


def person_units(*, actor: Any, person: Person) -> list[OrgUnit]:
    visible = access.unit_ids_in_scope(actor, permissions.PEOPLE_VIEW)
    return [
        link.unit
        for link in person.unit_links.select_related("unit").order_by("unit__path")
        if link.unit_id in visible
    ]


def tags_for_actor(*, actor: Any) -> QuerySet[Tag]:
    """Tags the actor can see and use: those of units in scope and of their ancestors."""
    return Tag.objects.filter(owner_unit_id__in=_scope_and_ancestor_ids(actor)).select_related(
        "owner_unit"
    )


def _scope_and_ancestor_ids(actor: Any) -> set[int]:
    ids: set[int] = set(access.unit_ids_in_scope(actor, permissions.PEOPLE_VIEW))
    for _role, path, _unit in access.roles_of(actor):
        ids.update(int(part) for part in path.strip("/").split("/") if part)
    return ids


def partners_for_actor(*, actor: Any) -> QuerySet[PartnerOrganization]:
    """Partner organizations of the actor's units and of the units above them."""
    return PartnerOrganization.objects.filter(
        owner_unit_id__in=_scope_and_ancestor_ids(actor)
    ).select_related("owner_unit")


def partner_get_for_actor(*, actor: Any, pk: int) -> PartnerOrganization:
    partner = partners_for_actor(actor=actor).filter(pk=pk).first()
    if partner is None:
        from django.http import Http404

        raise Http404
    return partner


def tag_get_for_actor(*, actor: Any, pk: int) -> Tag:
    tag = tags_for_actor(actor=actor).filter(pk=pk).first()
    if tag is None:
        from django.http import Http404

        raise Http404
    return tag


def household_get_for_actor(*, actor: Any, pk: int) -> Household:
    household = Household.objects.select_related("owner_unit").filter(pk=pk).first()
    if household is None:
        from django.http import Http404

        raise Http404
    if not access.can(actor, permissions.PEOPLE_VIEW, household.owner_unit):
        raise deny(actor=actor, obj_type="household", obj_id=pk, unit=household.owner_unit)
    return household


def household_residents(*, actor: Any, household: Household) -> QuerySet[Person]:
    return (
        person_queryset_for_actor(actor=actor)
        .filter(household=household)
        .order_by("sort_name", "id")
    )


def person_relationships(
    *, actor: Any, person: Person
) -> tuple[list[tuple[Relationship, Person]], list[tuple[Relationship, Person]]]:
    """The person's ties to people the actor may see: (their ties, ties to them), each as
    (relationship, the other person). Visibility is checked per row with a correlated
    EXISTS, never with an IN over every visible person (which scans the whole table)."""
    unit_ids = access.unit_ids_in_scope(actor, permissions.PEOPLE_VIEW)
    if not unit_ids:
        return [], []

    def visible(column: str) -> Exists:
        return Exists(PersonUnit.objects.filter(person_id=OuterRef(column), unit_id__in=unit_ids))

    outgoing = person.relationships.select_related("other").filter(visible("other_id"))
    incoming = person.related_from.select_related("person").filter(visible("person_id"))
    return [(rel, rel.other) for rel in outgoing], [(rel, rel.person) for rel in incoming]


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    text: str
    actor: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def person_timeline(*, actor: Any, person: Person, limit: int = 50) -> list[TimelineEntry]:
    """Stage changes, notes, tags and unit changes, newest first."""
    entries: list[TimelineEntry] = []
    for change in StageChange.objects.filter(person=person).select_related("actor")[:limit]:
        entries.append(
            TimelineEntry(
                at=change.at,
                kind="stage",
                text=change.reason,
                actor=str(change.actor or ""),
                extra={
                    "from": change.get_from_stage_display(),
                    "to": change.get_to_stage_display(),
                },
            )
        )
    if person_can_read_sensitive(actor=actor, person=person):
        for note in person.notes.select_related("author")[:limit]:
            entries.append(
                TimelineEntry(
                    at=note.created_at, kind="note", text=note.body, actor=str(note.author or "")
                )
            )
    for tagging in Tagging.objects.filter(person=person).select_related("tag")[:limit]:
        entries.append(TimelineEntry(at=tagging.created_at, kind="tag", text=tagging.tag.name))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


def person_audit_trail(*, actor: Any, person: Person, limit: int = 50) -> list[AuditEvent]:
    """The changes to a person, for those allowed (organizers and up). Views of the record
    are in the unit's audit log, not here, so the changes stay readable."""
    if not any(
        access.can(actor, permissions.AUDIT_VIEW_PERSON, unit)
        for unit in person_units(actor=actor, person=person)
    ):
        return []
    events = audit_list_for_object(object_type="person", object_id=person.pk)
    return list(events.exclude(verb="person.viewed")[:limit])


def custom_fields_for_unit(*, unit: OrgUnit) -> list[CustomField]:
    """The fields defined on a unit and on every unit above it."""
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    return list(CustomField.objects.filter(owner_unit_id__in=ids).order_by("label", "id"))


def person_can_read_sensitive(*, actor: Any, person: Person) -> bool:
    return any(
        access.can(actor, permissions.PEOPLE_VIEW_NOTES, unit)
        for unit in person_units(actor=actor, person=person)
    )

"""Reads for geography. Boundaries are public geography and shown to anyone signed in; every
count of households and people is scoped to the actor's units, so nobody sees another
committee's people, not even as a number."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from leaven.core import access, permissions
from leaven.geo.models import ElectionResult, Jurisdiction, VoterRecord
from leaven.people.models import Household, Stage
from leaven.people.selectors import person_queryset_for_actor

MAP_KINDS = (Jurisdiction.Kind.WARD, Jurisdiction.Kind.PRECINCT)
# A voter record in these states no longer counts as registered.
NOT_REGISTERED_STATUSES = ("REMOVED", "DENIED", "removed", "denied", "Removed", "Denied")


def jurisdiction_get(*, kind: str, code: str) -> Jurisdiction:
    """A jurisdiction by kind and code; public geography, so only a missing one is a 404."""
    jurisdiction = (
        Jurisdiction.objects.select_related("parent").filter(kind=kind, code=code).first()
    )
    if jurisdiction is None:
        raise Http404
    return jurisdiction


def households_for_actor(*, actor: Any) -> QuerySet[Household]:
    """Households of the units where the actor may see people."""
    unit_ids = access.unit_ids_in_scope(actor, permissions.PEOPLE_VIEW)
    if not unit_ids:
        return Household.objects.none()
    return Household.objects.filter(owner_unit_id__in=unit_ids)


def _registered() -> Exists:
    return Exists(
        VoterRecord.objects.filter(person_id=OuterRef("pk")).exclude(
            status__in=NOT_REGISTERED_STATUSES
        )
    )


@dataclass
class AreaCounts:
    households: int = 0
    people: int = 0
    registered: int = 0

    @property
    def not_registered(self) -> int:
        return self.people - self.registered

    def as_dict(self) -> dict[str, int]:
        return {
            "households": self.households,
            "people": self.people,
            "registered": self.registered,
            "not_registered": self.not_registered,
        }


def counts_by_code(*, actor: Any, field_name: str) -> dict[str, AreaCounts]:
    """Households, people and registered voters the actor may see, per precinct or ward
    code (`field_name` is "precinct_code" or "ward_code")."""
    if field_name not in {"precinct_code", "ward_code"}:
        raise ValueError(field_name)
    counts: dict[str, AreaCounts] = defaultdict(AreaCounts)
    for code, n in (
        households_for_actor(actor=actor)
        .exclude(**{field_name: ""})
        .values_list(field_name)
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[code].households = n
    people = person_queryset_for_actor(actor=actor).exclude(**{f"household__{field_name}": ""})
    people = people.filter(household__isnull=False)
    for code, n, registered in (
        people.annotate(is_registered=_registered())
        .values_list(f"household__{field_name}")
        .annotate(n=Count("id"), registered=Count("id", filter=Q(is_registered=True)))
        .order_by()
    ):
        counts[code].people = n
        counts[code].registered = registered
    return dict(counts)


def map_data(*, actor: Any) -> dict[str, Any]:
    """Wards and precincts as a GeoJSON FeatureCollection, each with the actor's counts."""
    from django.urls import reverse

    by_kind: dict[str, dict[str, AreaCounts]] = {
        Jurisdiction.Kind.PRECINCT: counts_by_code(actor=actor, field_name="precinct_code"),
        Jurisdiction.Kind.WARD: counts_by_code(actor=actor, field_name="ward_code"),
    }
    features = []
    for kind, code, name, boundary in (
        Jurisdiction.objects.filter(kind__in=MAP_KINDS)
        .exclude(boundary="")
        .order_by("kind", "code")
        .values_list("kind", "code", "name", "boundary")
    ):
        counts = by_kind[kind].get(code, AreaCounts())
        properties: dict[str, Any] = {"kind": kind, "code": code, "name": name}
        properties.update(counts.as_dict())
        if kind == Jurisdiction.Kind.PRECINCT:
            properties["url"] = reverse("geo:precinct_detail", args=[code])
        features.append(
            {"type": "Feature", "properties": properties, "geometry": json.loads(boundary)}
        )
    return {"type": "FeatureCollection", "features": features}


@dataclass
class PrecinctRow:
    code: str
    name: str
    ward: str
    counts: AreaCounts


def precinct_rows(*, actor: Any) -> list[PrecinctRow]:
    """Every precinct with the actor's counts, for the list beside the map."""
    counts = counts_by_code(actor=actor, field_name="precinct_code")
    return [
        PrecinctRow(
            code=code,
            name=name,
            ward=ward or "",
            counts=counts.get(code, AreaCounts()),
        )
        for code, name, ward in Jurisdiction.objects.filter(kind=Jurisdiction.Kind.PRECINCT)
        .order_by("code")
        .values_list("code", "name", "parent__name")
    ]


@dataclass
class ContestResults:
    election: str
    contest: str
    total: int
    choices: list[tuple[str, int, float]] = field(default_factory=list)


@dataclass
class PrecinctSummary:
    precinct: Jurisdiction
    counts: AreaCounts
    stages: list[tuple[str, str, int]]
    households: list[tuple[Household, int]]
    more_households: int
    results: list[ContestResults]


def precinct_summary(*, actor: Any, precinct: Jurisdiction, limit: int = 50) -> PrecinctSummary:
    """What the actor may see in a precinct: households, people, registered and not, stages,
    and the precinct's election results (public)."""
    code = precinct.code
    households = households_for_actor(actor=actor).filter(precinct_code=code)
    people = person_queryset_for_actor(actor=actor).filter(household__precinct_code=code)
    counts = AreaCounts(
        households=households.count(),
        people=people.count(),
        registered=people.filter(_registered()).count(),
    )
    by_stage = dict(people.values_list("stage").annotate(n=Count("id")).order_by())
    stages = [(value, str(label), by_stage.get(value, 0)) for value, label in Stage.choices]
    residents = dict(people.values_list("household_id").annotate(n=Count("id")).order_by())
    shown = list(households.order_by("street", "unit", "id")[:limit])
    results: dict[tuple[str, str], ContestResults] = {}
    for result in ElectionResult.objects.filter(precinct=precinct).order_by(
        "-election_date", "election", "contest", "-votes", "choice"
    ):
        key = (result.election, result.contest)
        if key not in results:
            results[key] = ContestResults(election=result.election, contest=result.contest, total=0)
        results[key].choices.append((result.choice, result.votes, 0.0))
        results[key].total += result.votes
    for contest in results.values():
        contest.choices = [
            (choice, votes, round(100 * votes / contest.total, 1) if contest.total else 0.0)
            for choice, votes, _share in contest.choices
        ]
    return PrecinctSummary(
        precinct=precinct,
        counts=counts,
        stages=stages,
        households=[(h, residents.get(h.pk, 0)) for h in shown],
        more_households=max(counts.households - len(shown), 0),
        results=list(results.values()),
    )


# Where a parent code is looked up, in order, when a file's features get a parent.
PARENT_KINDS = (
    Jurisdiction.Kind.WARD,
    Jurisdiction.Kind.CITY,
    Jurisdiction.Kind.COUNTY,
    Jurisdiction.Kind.STATE,
    Jurisdiction.Kind.COUNCIL,
    Jurisdiction.Kind.CONGRESSIONAL,
    Jurisdiction.Kind.STATE_HOUSE,
    Jurisdiction.Kind.STATE_SENATE,
    Jurisdiction.Kind.SCHOOL,
    Jurisdiction.Kind.OTHER,
    Jurisdiction.Kind.PRECINCT,
)


def jurisdiction_find_parent(*, code: str, kind: str = "") -> Jurisdiction | None:
    """The jurisdiction with this code, of the given kind, or else the first of wards,
    cities, counties, states and districts that has it."""
    found = {j.kind: j for j in Jurisdiction.objects.filter(code=code.strip())}
    if kind:
        return found.get(kind)
    for candidate in PARENT_KINDS:
        if candidate in found:
            return found[candidate]
    return None

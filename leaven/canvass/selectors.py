"""Reads for canvassing, always scoped to the actor: a turf, walk list or assignment the
actor may not see is a 404, the same as one that does not exist."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from leaven.canvass.models import (
    Assignment,
    ContactAttempt,
    ResultCode,
    Script,
    SurveyResponse,
    Turf,
    TurfDoor,
)
from leaven.canvass.services import assignment_expires_at
from leaven.core import access, permissions
from leaven.core.models import Role, RoleAssignment, User
from leaven.core.selectors import deny
from leaven.people.models import Household, Person, Stage
from leaven.people.selectors import person_queryset_for_actor

SUPPORT_STAGES = (Stage.SUPPORTER, Stage.VOLUNTEER, Stage.LEADER)


def _unit_ids(actor: Any, permission: str = permissions.CANVASS_VIEW) -> frozenset[int]:
    return access.unit_ids_in_scope(actor, permission)


def turf_list_for_actor(*, actor: Any, archived: bool = False) -> QuerySet[Turf]:
    """The turfs of the units where the actor may see canvassing."""
    return (
        Turf.objects.filter(owner_unit_id__in=_unit_ids(actor), archived=archived)
        .select_related("owner_unit", "script")
        .order_by("-created_at", "id")
    )


def turf_get_for_actor(*, actor: Any, pk: int, permission: str = permissions.CANVASS_VIEW) -> Turf:
    turf = Turf.objects.select_related("owner_unit", "script").filter(pk=pk).first()
    if turf is None:
        raise Http404
    if not access.can(actor, permission, turf.owner_unit):
        raise deny(actor=actor, obj_type="turf", obj_id=pk, unit=turf.owner_unit)
    return turf


def turf_routes(*, turfs: list[Turf]) -> dict[int, list[list[float | None]]]:
    """Each turf's doors as [longitude, latitude] in walking order (turfs the caller got
    from a scoped selector)."""
    coords: dict[int, list[list[float | None]]] = {turf.pk: [] for turf in turfs}
    for turf_id, lat, lon in (
        TurfDoor.objects.filter(turf_id__in=list(coords))
        .order_by("turf_id", "position")
        .values_list("turf_id", "household__latitude", "household__longitude")
    ):
        coords[turf_id].append([lon, lat])
    return coords


def turf_door_get_for_actor(*, actor: Any, pk: int) -> TurfDoor:
    door = TurfDoor.objects.select_related("turf__owner_unit").filter(pk=pk).first()
    if door is None:
        raise Http404
    if not access.can(actor, permissions.CANVASS_MANAGE, door.turf.owner_unit):
        raise deny(actor=actor, obj_type="turfdoor", obj_id=pk, unit=door.turf.owner_unit)
    return door


def script_list_for_actor(*, actor: Any) -> QuerySet[Script]:
    return Script.objects.filter(owner_unit_id__in=_unit_ids(actor)).select_related("owner_unit")


def script_get_for_actor(
    *, actor: Any, pk: int, permission: str = permissions.CANVASS_VIEW
) -> Script:
    script = Script.objects.select_related("owner_unit").filter(pk=pk).first()
    if script is None:
        raise Http404
    if not access.can(actor, permission, script.owner_unit):
        raise deny(actor=actor, obj_type="script", obj_id=pk, unit=script.owner_unit)
    return script


def assignment_get_for_actor(*, actor: Any, pk: int) -> Assignment:
    """An assignment for its canvasser (who holds canvass.walk on the turf's unit) or for
    those who manage canvassing there."""
    assignment = Assignment.objects.select_related("turf__owner_unit", "turf__script", "user")
    found = assignment.filter(pk=pk).first()
    if found is None:
        raise Http404
    unit = found.turf.owner_unit
    mine = (
        isinstance(actor, User)
        and actor.pk == found.user_id
        and access.can(actor, permissions.CANVASS_WALK, unit)
    )
    if not (mine or access.can(actor, permissions.CANVASS_MANAGE, unit)):
        raise deny(actor=actor, obj_type="assignment", obj_id=pk, unit=unit)
    return found


def my_assignments(*, actor: Any) -> QuerySet[Assignment]:
    """The actor's assignments whose shift has not ended and that were not revoked."""
    if not isinstance(actor, User):
        return Assignment.objects.none()
    return (
        Assignment.objects.filter(
            user=actor,
            revoked_at__isnull=True,
            ends_at__gt=timezone.now(),
            turf__owner_unit_id__in=_unit_ids(actor, permissions.CANVASS_WALK),
        )
        .select_related("turf")
        .order_by("starts_at", "id")
    )


def turf_assignments(*, turf: Turf) -> QuerySet[Assignment]:
    return turf.assignments.select_related("user").order_by("-starts_at", "-id")


def walkers_for_turf(*, turf: Turf) -> QuerySet[User]:
    """Users who may canvass the turf: canvass.walk on its unit or a unit above it."""
    ids = [int(part) for part in turf.owner_unit.path.strip("/").split("/") if part]
    roles = [role for role, allowed in _roles_allowing(permissions.CANVASS_WALK)]
    return (
        User.objects.filter(
            is_active=True, role_assignments__unit_id__in=ids, role_assignments__role__in=roles
        )
        .distinct()
        .order_by("first_name", "email")
    )


def _roles_allowing(permission: str) -> list[tuple[str, bool]]:
    from leaven.core.permissions import MATRIX

    return [(role, True) for role, allowed in MATRIX.items() if permission in allowed]


@dataclass
class Resident:
    pk: int
    name: str
    first_name: str
    language: str
    stage: str
    stage_label: str


@dataclass
class WalkDoor:
    door_id: int
    position: int
    household: Household
    residents: list[Resident]
    last_contact: datetime | None
    last_result: str


def walk_list(*, actor: Any, turf: Turf) -> list[WalkDoor]:
    """The turf's households in walking order with their residents the actor may see,
    each resident's language and stage, and the household's last contact."""
    doors = list(
        TurfDoor.objects.filter(turf=turf).select_related("household").order_by("position")
    )
    household_ids = [d.household_id for d in doors]
    people: dict[int, list[Resident]] = defaultdict(list)
    stage_labels = dict(Stage.choices)
    for person in (
        person_queryset_for_actor(actor=actor, permission=permissions.CANVASS_VIEW)
        .filter(household_id__in=household_ids)
        .order_by("given_sort", "id")
        .only(
            "pk", "given_name", "family_name", "preferred_name", "language", "stage", "household_id"
        )
    ):
        people[person.household_id or 0].append(
            Resident(
                pk=person.pk,
                name=person.display_name,
                first_name=person.preferred_name or person.given_name,
                language=person.language,
                stage=person.stage,
                stage_label=str(stage_labels.get(person.stage, person.stage)),
            )
        )
    last: dict[int, tuple[datetime, str]] = {}
    for household_id, at, result in (
        ContactAttempt.objects.filter(household_id__in=household_ids)
        .order_by("household_id", "-at", "-id")
        .values_list("household_id", "at", "result")
    ):
        last.setdefault(household_id, (at, result))
    results = dict(ResultCode.choices)
    return [
        WalkDoor(
            door_id=door.pk,
            position=door.position + 1,
            household=door.household,
            residents=people.get(door.household_id, []),
            last_contact=last[door.household_id][0] if door.household_id in last else None,
            last_result=str(results.get(last[door.household_id][1], ""))
            if door.household_id in last
            else "",
        )
        for door in doors
    ]


def walk_list_payload(*, actor: Any, assignment: Assignment) -> dict[str, Any]:
    """Only what the walk needs, for the phone: first names, addresses, languages, stages
    and the script. No family names, contacts, notes, cases or anything else."""
    turf = assignment.turf
    doors = walk_list(actor=actor, turf=turf)
    script: dict[str, Any] | None = None
    if turf.script is not None:
        script = {
            "name": turf.script.name,
            "text_en": turf.script.text_en,
            "text_es": turf.script.text_es,
            "questions": [
                {
                    "id": q.pk,
                    "kind": q.kind,
                    "text_en": q.text_en,
                    "text_es": q.text_es,
                    "choices": [
                        {"value": c.get("value"), "en": c.get("en"), "es": c.get("es")}
                        for c in q.choices
                    ],
                }
                for q in turf.script.questions.all()
            ],
        }
    return {
        "assignment": assignment.pk,
        "turf": turf.name,
        "expires_at": assignment_expires_at(assignment).isoformat(),
        "script": script,
        "doors": [
            {
                "household_id": door.household.pk,
                "position": door.position,
                "address": f"{door.household.street} {door.household.unit}".strip(),
                "people": [
                    {
                        "id": r.pk,
                        "first_name": r.first_name,
                        "language": r.language,
                        "stage": r.stage,
                    }
                    for r in door.residents
                ],
            }
            for door in doors
        ],
    }


# -- History on the person and household pages ---------------------------------------------


@dataclass
class HistoryEntry:
    at: datetime
    result: str
    canvasser: str
    answers: list[tuple[str, str]] = field(default_factory=list)


def _history(attempts: QuerySet[ContactAttempt], language: str) -> list[HistoryEntry]:
    results = dict(ResultCode.choices)
    entries: list[HistoryEntry] = []
    rows = list(attempts.select_related("canvasser").order_by("-at", "-id")[:20])
    answers: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for response in SurveyResponse.objects.filter(attempt__in=rows).select_related("question"):
        question = response.question
        text = question.text_es if language == "es" else question.text_en
        value = response.value
        labels = {c.get("value"): c.get(language) or c.get("en") for c in question.choices}
        if isinstance(value, list):
            shown = ", ".join(str(labels.get(v, v)) for v in value)
        else:
            shown = str(labels.get(value, value))
        answers[response.attempt_id].append((text, shown))
    for attempt in rows:
        entries.append(
            HistoryEntry(
                at=attempt.at,
                result=str(results.get(attempt.result, attempt.result)),
                canvasser=str(attempt.canvasser or ""),
                answers=answers.get(attempt.pk, []),
            )
        )
    return entries


def person_canvass_history(*, actor: Any, person: Person, language: str) -> list[HistoryEntry]:
    """Door results and answers about a person, for those who may see canvassing in one of
    the person's units (the caller has already checked the person is visible)."""
    if not access.can_anywhere(actor, permissions.CANVASS_VIEW):
        return []
    units = _unit_ids(actor)
    attempts = ContactAttempt.objects.filter(
        Q(person=person) | Q(person__isnull=True, household_id=person.household_id or 0),
        owner_unit_id__in=units,
    )
    return _history(attempts, language)


def household_canvass_history(
    *, actor: Any, household: Household, language: str
) -> list[HistoryEntry]:
    if not access.can(actor, permissions.CANVASS_VIEW, household.owner_unit):
        return []
    return _history(ContactAttempt.objects.filter(household=household), language)


# -- Precinct strength ----------------------------------------------------------------------


@dataclass
class Strength:
    code: str
    name: str
    doors: int = 0
    knocked: int = 0
    contacted: int = 0
    people: int = 0
    supporters: int = 0
    members: int = 0
    captains: int = 0
    team: int = 0
    stages: dict[str, int] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        return round(100 * self.contacted / self.doors, 1) if self.doors else 0.0

    @property
    def strength(self) -> float:
        """Supporters, volunteers and leaders per 100 doors."""
        return round(100 * self.supporters / self.doors, 1) if self.doors else 0.0

    @property
    def potential(self) -> int:
        """Households not reached yet."""
        return self.doors - self.contacted

    def stage_rows(self) -> list[tuple[str, str, int]]:
        return [(value, str(label), self.stages.get(value, 0)) for value, label in Stage.choices]


def strength_by_precinct(*, actor: Any, codes: list[str] | None = None) -> dict[str, Strength]:
    """Doors, knocks, contacts, people by stage, members, captains and team size per
    precinct code, over what the actor may see."""
    from leaven.geo.models import Jurisdiction

    units = _unit_ids(actor)
    households = Household.objects.filter(owner_unit_id__in=units).exclude(precinct_code="")
    if codes is not None:
        households = households.filter(precinct_code__in=codes)
    names = dict(
        Jurisdiction.objects.filter(kind=Jurisdiction.Kind.PRECINCT).values_list("code", "name")
    )
    rows: dict[str, Strength] = {}

    def row(code: str) -> Strength:
        if code not in rows:
            rows[code] = Strength(code=code, name=names.get(code, code))
        return rows[code]

    knocked = Exists(ContactAttempt.objects.filter(household_id=OuterRef("pk")))
    spoke = Exists(
        ContactAttempt.objects.filter(household_id=OuterRef("pk"), result=ResultCode.SPOKE)
    )
    for code, doors, n_knocked, n_spoke in (
        households.annotate(k=knocked, s=spoke)
        .values_list("precinct_code")
        .annotate(n=Count("id"), nk=Count("id", filter=Q(k=True)), ns=Count("id", filter=Q(s=True)))
        .order_by()
    ):
        r = row(code)
        r.doors, r.knocked, r.contacted = doors, n_knocked, n_spoke
    people = person_queryset_for_actor(actor=actor, permission=permissions.CANVASS_VIEW).filter(
        household__in=households
    )
    for code, stage, n in (
        people.values_list("household__precinct_code", "stage").annotate(n=Count("id")).order_by()
    ):
        r = row(code)
        r.stages[stage] = n
        r.people += n
        if stage in SUPPORT_STAGES:
            r.supporters += n
    try:
        from leaven.membership.models import GOOD_STANDING, Membership

        member = Exists(
            Membership.objects.filter(person_id=OuterRef("pk"), status__in=list(GOOD_STANDING))
        )
        for code, n in (
            people.filter(member)
            .values_list("household__precinct_code")
            .annotate(n=Count("id"))
            .order_by()
        ):
            row(code).members = n
    except ImportError:  # pragma: no cover - membership is part of the project
        pass
    captain_ids = set(
        RoleAssignment.objects.filter(role=Role.CAPTAIN).values_list("user_id", flat=True)
    )
    team: dict[str, set[int]] = defaultdict(set)
    for code, user_id in (
        Assignment.objects.filter(turf__owner_unit_id__in=units)
        .exclude(turf__precinct_code="")
        .values_list("turf__precinct_code", "user_id")
        .distinct()
    ):
        team[code].add(user_id)
    for code, users in team.items():
        if codes is not None and code not in codes:
            continue
        r = row(code)
        r.team = len(users)
        r.captains = len(users & captain_ids)
    return rows


def precinct_strength(*, actor: Any, code: str) -> Strength:
    """One precinct's strength; a precinct that is neither a known boundary nor holds any of
    the actor's households is a 404."""
    from leaven.geo.models import Jurisdiction

    rows = strength_by_precinct(actor=actor, codes=[code])
    if code not in rows:
        if not Jurisdiction.objects.filter(kind=Jurisdiction.Kind.PRECINCT, code=code).exists():
            raise Http404
        name = (
            Jurisdiction.objects.filter(kind=Jurisdiction.Kind.PRECINCT, code=code)
            .values_list("name", flat=True)
            .first()
        )
        return Strength(code=code, name=name or code)
    return rows[code]


def election_results(*, code: str) -> list[Any]:
    """The precinct's election results (public), newest election first."""
    from leaven.geo.models import Jurisdiction
    from leaven.geo.selectors import ContestResults

    precinct = Jurisdiction.objects.filter(kind=Jurisdiction.Kind.PRECINCT, code=code).first()
    if precinct is None:
        return []
    contests: dict[tuple[str, str], ContestResults] = {}
    for result in precinct.election_results.order_by(
        "-election_date", "election", "contest", "-votes", "choice"
    ):
        key = (result.election, result.contest)
        if key not in contests:
            contests[key] = ContestResults(
                election=result.election, contest=result.contest, total=0
            )
        contests[key].choices.append((result.choice, result.votes, 0.0))
        contests[key].total += result.votes
    for contest in contests.values():
        contest.choices = [
            (choice, votes, round(100 * votes / contest.total, 1) if contest.total else 0.0)
            for choice, votes, _share in contest.choices
        ]
    return list(contests.values())


def ward_codes(*, actor: Any) -> list[str]:
    units = _unit_ids(actor)
    return sorted(
        Household.objects.filter(owner_unit_id__in=units)
        .exclude(ward_code="")
        .values_list("ward_code", flat=True)
        .distinct()
    )


def ward_ranking(*, actor: Any, ward: str) -> tuple[list[Strength], list[Strength]]:
    """The ward's precincts ranked by strength and by potential (households not reached)."""
    units = _unit_ids(actor)
    codes = sorted(
        set(
            Household.objects.filter(owner_unit_id__in=units, ward_code=ward)
            .exclude(precinct_code="")
            .values_list("precinct_code", flat=True)
        )
    )
    if not codes:
        raise Http404
    rows = list(strength_by_precinct(actor=actor, codes=codes).values())
    by_strength = sorted(rows, key=lambda r: (-r.strength, -r.coverage, r.code))
    by_potential = sorted(rows, key=lambda r: (-r.potential, r.code))
    return by_strength, by_potential


def last_contact_by_household(household_ids: list[int]) -> dict[int, datetime]:
    return dict(
        ContactAttempt.objects.filter(household_id__in=household_ids)
        .values_list("household_id")
        .annotate(last=Max("at"))
        .values_list("household_id", "last")
    )

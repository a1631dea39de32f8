"""Writes for canvassing: cut turfs, move doors, assign and hand off turfs, write scripts,
and record door results (from the page or from an offline phone's sync, idempotently)."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from leaven.canvass import cutting
from leaven.canvass.models import (
    Assignment,
    ContactAttempt,
    Question,
    ResultCode,
    Script,
    SurveyResponse,
    Turf,
    TurfDoor,
)
from leaven.core import access, permissions
from leaven.core.audit import audit_record
from leaven.core.models import OrgUnit, User
from leaven.people.models import (
    STAGE_ORDER,
    Household,
    Person,
    Stage,
    Tagging,
)
from leaven.people.selectors import person_queryset_for_actor
from leaven.people.services import person_editable_by, person_set_stage

MAX_SHIFT = timedelta(hours=12)
MAX_DOORS_PER_TURF = 500
MAX_SYNC_RESULTS = 500
PALETTE = (
    "#8a2f14",
    "#1f5f8b",
    "#2e7d32",
    "#6a1b9a",
    "#b26a00",
    "#00695c",
    "#ad1457",
    "#4e342e",
    "#283593",
    "#558b2f",
)


def _require(actor: Any, permission: str, unit: OrgUnit | None, message: str) -> None:
    if not access.can(actor, permission, unit):
        raise ValidationError(message)


# -- Turf cutting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    """Where to cut: precinct codes, a ward code, or a GeoJSON polygon (any one or more;
    the area is what all given parts have in common)."""

    precincts: tuple[str, ...] = ()
    ward: str = ""
    polygon: str = ""


@dataclass(frozen=True)
class DoorFilters:
    """Which households of the area to knock: those with at least one resident matching
    every given condition, and not contacted in the last `not_contacted_days` days."""

    stages: tuple[str, ...] = ()
    tag_ids: tuple[int, ...] = ()
    languages: tuple[str, ...] = ()
    not_contacted_days: int | None = None
    members: bool | None = None
    registered: bool | None = None


def _polygon(text: str) -> Any:
    from shapely.geometry import shape
    from shapely.prepared import prep

    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        raise ValidationError({"polygon": _("The drawn area could not be read.")}) from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        data = features[0].get("geometry") if features else None
    try:
        geometry = shape(data)
    except Exception:  # noqa: BLE001 - shapely raises many kinds for bad input
        raise ValidationError({"polygon": _("The drawn area could not be read.")}) from None
    if geometry.geom_type not in {"Polygon", "MultiPolygon"} or geometry.is_empty:
        raise ValidationError({"polygon": _("Draw an area with at least three corners.")})
    if not geometry.is_valid:
        geometry = geometry.buffer(0)
    return prep(geometry)


def households_for_cut(*, unit: OrgUnit, area: Area, filters: DoorFilters) -> QuerySet[Household]:
    """The households of `unit` and the units below it, in the area, matching the filters,
    with a location."""
    households = Household.objects.filter(
        owner_unit__path__startswith=unit.path, latitude__isnull=False, longitude__isnull=False
    )
    if area.precincts:
        households = households.filter(precinct_code__in=list(area.precincts))
    if area.ward:
        households = households.filter(ward_code=area.ward)
    resident = Person.objects.filter(household_id=OuterRef("pk"))
    if filters.stages:
        resident = resident.filter(stage__in=list(filters.stages))
    if filters.languages:
        resident = resident.filter(language__in=list(filters.languages))
    if filters.tag_ids:
        resident = resident.filter(
            Exists(
                Tagging.objects.filter(person_id=OuterRef("pk"), tag_id__in=list(filters.tag_ids))
            )
        )
    if filters.registered is not None:
        from leaven.geo.models import VoterRecord

        voter = Exists(VoterRecord.objects.filter(person_id=OuterRef("pk")))
        resident = resident.filter(voter if filters.registered else ~voter)
    if filters.members is not None:
        from leaven.membership.models import GOOD_STANDING, Membership

        member = Exists(
            Membership.objects.filter(person_id=OuterRef("pk"), status__in=list(GOOD_STANDING))
        )
        resident = resident.filter(member if filters.members else ~member)
    if (
        filters.stages
        or filters.languages
        or filters.tag_ids
        or filters.registered is not None
        or filters.members is not None
    ):
        households = households.filter(Exists(resident))
    if filters.not_contacted_days is not None:
        since = timezone.now() - timedelta(days=filters.not_contacted_days)
        households = households.exclude(
            Exists(ContactAttempt.objects.filter(household_id=OuterRef("pk"), at__gte=since))
        )
    return households


def _route_doors(turf: Turf, household_ids: list[int]) -> None:
    """Order the turf's doors into a walking route and store it."""
    rows = {
        pk: (lat, lon)
        for pk, lat, lon in Household.objects.filter(pk__in=household_ids).values_list(
            "pk", "latitude", "longitude"
        )
        if lat is not None and lon is not None
    }
    ids = [pk for pk in household_ids if pk in rows]
    points = cutting.project([rows[pk] for pk in ids])
    order = cutting.route(points) if len(ids) else []
    TurfDoor.objects.filter(turf=turf).delete()
    TurfDoor.objects.bulk_create(
        [TurfDoor(turf=turf, household_id=ids[i], position=n) for n, i in enumerate(order)]
    )
    turf.door_count = len(ids)
    turf.route_length_m = round(cutting.path_length(points, order), 1) if len(ids) else 0.0
    codes = Counter(
        Household.objects.filter(pk__in=ids).values_list("precinct_code", "ward_code")
    ).most_common(1)
    turf.precinct_code, turf.ward_code = codes[0][0] if codes else ("", "")
    turf.save(update_fields=["door_count", "route_length_m", "precinct_code", "ward_code"])


@transaction.atomic
def turf_cut(
    *,
    actor: Any,
    unit: OrgUnit,
    area: Area,
    filters: DoorFilters | None = None,
    doors_per_turf: int = 50,
    name: str = "",
    script: Script | None = None,
) -> list[Turf]:
    """Cut the area's selected households into compact turfs of about `doors_per_turf`
    doors, each in walking order. Active turfs of the unit that held any of these doors are
    archived: a door is in one active turf at a time."""
    _require(actor, permissions.CANVASS_MANAGE, unit, _("You cannot cut turfs for this unit."))
    if not (area.precincts or area.ward or area.polygon.strip()):
        raise ValidationError(_("Choose precincts, a ward or draw an area on the map."))
    if not 5 <= doors_per_turf <= MAX_DOORS_PER_TURF:
        raise ValidationError(
            {
                "doors_per_turf": _("Choose between 5 and %(max)s doors per turf.")
                % {"max": MAX_DOORS_PER_TURF}
            }
        )
    if script is not None and not access.can(actor, permissions.CANVASS_VIEW, script.owner_unit):
        raise ValidationError({"script": _("Choose one of your scripts.")})
    filters = filters or DoorFilters()
    rows = list(
        households_for_cut(unit=unit, area=area, filters=filters)
        .order_by("pk")
        .values_list("pk", "latitude", "longitude")
    )
    if area.polygon.strip():
        from shapely.geometry import Point

        shape = _polygon(area.polygon)
        rows = [row for row in rows if shape.contains(Point(row[2], row[1]))]
    if not rows:
        raise ValidationError(_("No households with a location match this area and filters."))
    ids = [row[0] for row in rows]
    old = Turf.objects.filter(owner_unit__path__startswith=unit.path, archived=False).filter(
        Exists(TurfDoor.objects.filter(turf_id=OuterRef("pk"), household_id__in=ids))
    )
    archived = list(old.values_list("pk", flat=True))
    old.update(archived=True)
    points = cutting.project([(float(row[1] or 0), float(row[2] or 0)) for row in rows])
    groups = cutting.bisect(points, cutting.turf_count(len(rows), doors_per_turf))
    base = name.strip()[:180] or _("Turf")
    turfs: list[Turf] = []
    area_json = {
        "precincts": list(area.precincts),
        "ward": area.ward,
        "polygon": bool(area.polygon.strip()),
        "doors_per_turf": doors_per_turf,
    }
    for number, group in enumerate(groups, start=1):
        turf = Turf.objects.create(
            owner_unit=unit,
            name=f"{base} {number}",
            color=PALETTE[(number - 1) % len(PALETTE)],
            script=script,
            area=area_json,
            created_by=actor if isinstance(actor, User) else None,
        )
        order = cutting.route(points[group])
        TurfDoor.objects.bulk_create(
            [
                TurfDoor(turf=turf, household_id=ids[int(group[i])], position=n)
                for n, i in enumerate(order)
            ]
        )
        turf.door_count = len(group)
        turf.route_length_m = round(cutting.path_length(points[group], order), 1)
        turfs.append(turf)
    codes = {
        pk: (precinct, ward)
        for pk, precinct, ward in Household.objects.filter(pk__in=ids).values_list(
            "pk", "precinct_code", "ward_code"
        )
    }
    for turf, group in zip(turfs, groups, strict=True):
        common = Counter(codes[ids[int(i)]] for i in group).most_common(1)
        turf.precinct_code, turf.ward_code = common[0][0] if common else ("", "")
        turf.save(update_fields=["door_count", "route_length_m", "precinct_code", "ward_code"])
    audit_record(
        actor=actor,
        verb="turf.cut",
        unit=unit,
        object_type="turf",
        object_id=turfs[0].pk,
        detail={
            "turfs": [t.pk for t in turfs],
            "doors": len(ids),
            "doors_per_turf": doors_per_turf,
            "archived": archived,
        },
    )
    return turfs


@transaction.atomic
def turf_door_move(*, actor: Any, door: TurfDoor, to_turf: Turf) -> TurfDoor:
    """Move one door to another active turf of the same unit and re-route both turfs."""
    source = door.turf
    _require(
        actor, permissions.CANVASS_MANAGE, source.owner_unit, _("You cannot change this turf.")
    )
    if to_turf.pk == source.pk:
        raise ValidationError({"to_turf": _("The door is already in this turf.")})
    if to_turf.archived or to_turf.owner_unit_id != source.owner_unit_id:
        raise ValidationError({"to_turf": _("Choose an active turf of the same unit.")})
    household_id = door.household_id
    source_ids = list(
        source.doors.exclude(pk=door.pk).order_by("position").values_list("household_id", flat=True)
    )
    target_ids = list(to_turf.doors.order_by("position").values_list("household_id", flat=True))
    _route_doors(source, source_ids)
    _route_doors(to_turf, [*target_ids, household_id])
    moved = TurfDoor.objects.get(turf=to_turf, household_id=household_id)
    audit_record(
        actor=actor,
        verb="turf.door_moved",
        obj=to_turf,
        unit=to_turf.owner_unit,
        detail={"household": household_id, "from": source.pk, "to": to_turf.pk},
    )
    return moved


@transaction.atomic
def turf_archive(*, actor: Any, turf: Turf) -> Turf:
    _require(actor, permissions.CANVASS_MANAGE, turf.owner_unit, _("You cannot change this turf."))
    turf.archived = True
    turf.save(update_fields=["archived"])
    audit_record(actor=actor, verb="turf.archived", obj=turf, unit=turf.owner_unit)
    return turf


# -- Assignments ----------------------------------------------------------------------------


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The shift must end after it starts.")})
    if ends_at - starts_at > MAX_SHIFT:
        raise ValidationError({"ends_at": _("A shift lasts at most 12 hours.")})


def _can_walk(user: User, turf: Turf) -> bool:
    return access.can(user, permissions.CANVASS_WALK, turf.owner_unit)


@transaction.atomic
def assignment_create(
    *, actor: Any, turf: Turf, user: User, starts_at: datetime, ends_at: datetime
) -> Assignment:
    """Give a turf to a captain or canvasser for a shift of at most 12 hours."""
    _require(actor, permissions.CANVASS_MANAGE, turf.owner_unit, _("You cannot assign this turf."))
    if turf.archived:
        raise ValidationError(_("This turf was re-cut; assign one of the new turfs."))
    _check_window(starts_at, ends_at)
    if not _can_walk(user, turf):
        raise ValidationError({"user": _("This person cannot canvass for this unit.")})
    assignment = Assignment.objects.create(
        turf=turf,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor if isinstance(actor, User) else None,
    )
    audit_record(
        actor=actor,
        verb="turf.assigned",
        obj=assignment,
        unit=turf.owner_unit,
        detail={"turf": turf.pk, "user": user.pk},
    )
    return assignment


@transaction.atomic
def assignment_handoff(*, actor: Any, assignment: Assignment, to_user: User) -> Assignment:
    """A captain hands their turf to a teammate for the rest of the shift: the old
    assignment ends (their phone wipes on its next contact) and a new one begins."""
    turf = assignment.turf
    is_holder = isinstance(actor, User) and actor.pk == assignment.user_id
    if not (is_holder or access.can(actor, permissions.CANVASS_MANAGE, turf.owner_unit)):
        raise ValidationError(_("You cannot hand off this turf."))
    if not assignment.is_active:
        raise ValidationError(_("This assignment has ended."))
    if to_user.pk == assignment.user_id:
        raise ValidationError({"user": _("Choose a teammate other than the current canvasser.")})
    if not _can_walk(to_user, turf):
        raise ValidationError({"user": _("This person cannot canvass for this unit.")})
    now = timezone.now()
    assignment.revoked_at = now
    assignment.save(update_fields=["revoked_at"])
    new = Assignment.objects.create(
        turf=turf,
        user=to_user,
        starts_at=max(now, assignment.starts_at),
        ends_at=assignment.ends_at,
        handed_from=assignment,
        created_by=actor if isinstance(actor, User) else None,
    )
    audit_record(
        actor=actor,
        verb="turf.handed_off",
        obj=new,
        unit=turf.owner_unit,
        detail={"from_assignment": assignment.pk, "turf": turf.pk, "user": to_user.pk},
    )
    return new


@transaction.atomic
def assignment_revoke(*, actor: Any, assignment: Assignment) -> Assignment:
    """End an assignment now: the canvasser's phone wipes the walk list on its next contact."""
    _require(
        actor,
        permissions.CANVASS_MANAGE,
        assignment.turf.owner_unit,
        _("You cannot revoke this assignment."),
    )
    if assignment.revoked_at is None:
        assignment.revoked_at = timezone.now()
        assignment.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            verb="turf.assignment_revoked",
            obj=assignment,
            unit=assignment.turf.owner_unit,
            detail={"turf": assignment.turf_id},
        )
    return assignment


def assignment_expires_at(assignment: Assignment) -> datetime:
    """When the phone must drop the walk list: the shift's end, 12 hours at most."""
    return min(assignment.ends_at, assignment.starts_at + MAX_SHIFT)


# -- Scripts --------------------------------------------------------------------------------


@transaction.atomic
def script_create(
    *, actor: Any, owner_unit: OrgUnit, name: str, text_en: str, text_es: str
) -> Script:
    _require(
        actor, permissions.CANVASS_MANAGE, owner_unit, _("You cannot write scripts for this unit.")
    )
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("Give the script a name.")
    if not text_en.strip():
        errors["text_en"] = _("Write the script in English.")
    if not text_es.strip():
        errors["text_es"] = _("Write the script in Spanish.")
    if errors:
        raise ValidationError(errors)
    script = Script.objects.create(
        owner_unit=owner_unit,
        name=name.strip()[:200],
        text_en=text_en.strip(),
        text_es=text_es.strip(),
    )
    audit_record(actor=actor, verb="script.created", obj=script, unit=owner_unit)
    return script


@dataclass(frozen=True)
class Choice:
    value: str
    en: str
    es: str


@transaction.atomic
def question_add(
    *,
    actor: Any,
    script: Script,
    kind: str,
    text_en: str,
    text_es: str,
    choices: list[Choice] | None = None,
    stage_rules: dict[str, str] | None = None,
) -> Question:
    """Add a question. `stage_rules` maps an answer (a choice value, or "1".."5" on the
    support scale) to the stage it moves the person to."""
    _require(
        actor, permissions.CANVASS_MANAGE, script.owner_unit, _("You cannot change this script.")
    )
    if kind not in Question.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of question.")})
    if not text_en.strip() or not text_es.strip():
        raise ValidationError(_("Write the question in English and in Spanish."))
    choices = choices or []
    if kind in {Question.Kind.SINGLE, Question.Kind.MULTIPLE}:
        values = [c.value for c in choices]
        if len(choices) < 2 or len(set(values)) != len(values) or not all(values):
            raise ValidationError(
                {"choices": _("A choice question needs at least two different answers.")}
            )
        allowed = set(values)
    elif kind == Question.Kind.SCALE:
        choices = []
        allowed = {"1", "2", "3", "4", "5"}
    else:
        choices = []
        allowed = set()
    rules = dict(stage_rules or {})
    for answer, stage in rules.items():
        if answer not in allowed or stage not in Stage.values:
            raise ValidationError({"stage_rules": _("A stage rule names an unknown answer.")})
    question = Question.objects.create(
        script=script,
        kind=kind,
        text_en=text_en.strip()[:300],
        text_es=text_es.strip()[:300],
        choices=[{"value": c.value, "en": c.en, "es": c.es} for c in choices],
        stage_rules=rules,
        position=script.questions.count(),
    )
    audit_record(
        actor=actor,
        verb="script.question_added",
        obj=question,
        unit=script.owner_unit,
        detail={"script": script.pk, "kind": kind},
    )
    return question


# -- Door results ---------------------------------------------------------------------------


@dataclass
class SyncOutcome:
    created: int = 0
    duplicates: int = 0
    answers: int = 0
    stage_changes: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def _clean_answer(question: Question, value: Any) -> Any:
    """The answer in its stored shape, or None when it does not fit the question."""
    if question.kind == Question.Kind.TEXT:
        return value.strip()[:500] if isinstance(value, str) and value.strip() else None
    if question.kind == Question.Kind.SCALE:
        text = str(value)
        return text if text in {"1", "2", "3", "4", "5"} else None
    allowed = {c.get("value") for c in question.choices}
    if question.kind == Question.Kind.SINGLE:
        return value if isinstance(value, str) and value in allowed else None
    if isinstance(value, list) and value and all(v in allowed for v in value):
        return sorted(set(value))
    return None


def _stage_for(question: Question, value: Any) -> str:
    rules = question.stage_rules or {}
    answers = value if isinstance(value, list) else [value]
    stages = [rules[a] for a in answers if isinstance(a, str) and a in rules]
    return max(stages, key=lambda s: STAGE_ORDER[s]) if stages else ""


def _raise_stage(actor: Any, person: Person, stage: str, reason: str) -> bool:
    """Move the person up to `stage`; never down (a later, lower answer from another
    canvasser does not undo a higher one: both answers stay on record)."""
    person.refresh_from_db(fields=["stage"])
    if STAGE_ORDER[stage] <= STAGE_ORDER[person.stage]:
        return False
    if not person_editable_by(actor=actor, person=person):
        return False
    person_set_stage(actor=actor, person=person, stage=stage, reason=reason)
    return True


def _record_one(
    *,
    actor: Any,
    assignment: Assignment | None,
    turf: Turf,
    item: dict[str, Any],
    doors: set[int],
    outcome: SyncOutcome,
    stage_rules: bool,
) -> None:
    key = _uuid(item.get("uuid"))
    if key is None:
        outcome.rejected.append({"uuid": str(item.get("uuid", ""))[:40], "error": "uuid"})
        return
    if ContactAttempt.objects.filter(client_uuid=key).exists():
        outcome.duplicates += 1
        return
    try:
        household_id = int(item.get("household_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        household_id = 0
    if household_id not in doors:
        outcome.rejected.append({"uuid": str(key), "error": "door"})
        return
    result = item.get("result")
    if result not in ResultCode.values:
        outcome.rejected.append({"uuid": str(key), "error": "result"})
        return
    person: Person | None = None
    if item.get("person_id") not in (None, ""):
        try:
            # Only a resident the canvasser may see, as on the walk list they were given.
            person = (
                person_queryset_for_actor(actor=actor, permission=permissions.CANVASS_VIEW)
                .filter(pk=int(item["person_id"]), household_id=household_id)
                .first()
            )
        except (TypeError, ValueError):
            person = None
        if person is None:
            outcome.rejected.append({"uuid": str(key), "error": "person"})
            return
    at = parse_datetime(str(item.get("at") or "")) if item.get("at") else None
    now = timezone.now()
    if at is None or timezone.is_naive(at) or at > now + timedelta(minutes=10):
        at = now
    household = Household.objects.only("pk", "owner_unit_id").get(pk=household_id)
    try:
        with transaction.atomic():
            attempt = ContactAttempt.objects.create(
                client_uuid=key,
                owner_unit_id=household.owner_unit_id,
                household_id=household_id,
                person=person,
                turf=turf,
                assignment=assignment,
                result=result,
                canvasser=actor if isinstance(actor, User) else None,
                at=at,
            )
    except IntegrityError:
        outcome.duplicates += 1
        return
    outcome.created += 1
    questions = {q.pk: q for q in (turf.script.questions.all() if turf.script else [])}
    best_stage = ""
    for answer in item.get("answers") or []:
        if not isinstance(answer, dict):
            continue
        answer_key = _uuid(answer.get("uuid")) or uuid.uuid4()
        try:
            question = questions.get(int(answer.get("question_id")))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            question = None
        if question is None:
            continue
        value = _clean_answer(question, answer.get("value"))
        if value is None or SurveyResponse.objects.filter(client_uuid=answer_key).exists():
            continue
        SurveyResponse.objects.create(
            client_uuid=answer_key,
            attempt=attempt,
            person=person,
            question=question,
            value=value,
            at=at,
        )
        outcome.answers += 1
        stage = _stage_for(question, value)
        if stage and (not best_stage or STAGE_ORDER[stage] > STAGE_ORDER[best_stage]):
            best_stage = stage
    if person is not None and stage_rules:
        if result == ResultCode.SPOKE and not best_stage:
            best_stage = Stage.CONTACTED
        if best_stage and _raise_stage(actor, person, best_stage, _("Canvass answer")):
            outcome.stage_changes += 1
    audit_record(
        actor=actor,
        verb="canvass.result_recorded",
        obj=attempt,
        unit=household.owner_unit,
        detail={
            "household": household_id,
            "person": person.pk if person else None,
            "turf": turf.pk,
            "result": result,
        },
    )


def results_record(
    *,
    actor: Any,
    assignment: Assignment | None,
    turf: Turf,
    results: list[Any],
    stage_rules: bool = True,
) -> SyncOutcome:
    """Record door results for a turf, from the walk page or an offline phone's sync. Each
    result carries a client UUID: one already recorded is counted as a duplicate and left
    alone, so a retried sync never doubles a result. Bad items are rejected one by one and
    the rest kept. `stage_rules=False` records answers without moving anyone (the demo
    loader, whose people already have their stages)."""
    if assignment is not None:
        allowed = (
            isinstance(actor, User)
            and actor.pk == assignment.user_id
            and access.can(actor, permissions.CANVASS_WALK, turf.owner_unit)
        )
    else:
        allowed = access.can(actor, permissions.CANVASS_MANAGE, turf.owner_unit)
    if not allowed:
        raise ValidationError(_("You cannot record results for this turf."))
    if not isinstance(results, list) or len(results) > MAX_SYNC_RESULTS:
        raise ValidationError(_("Send at most %(n)s results at a time.") % {"n": MAX_SYNC_RESULTS})
    doors = set(turf.doors.values_list("household_id", flat=True))
    outcome = SyncOutcome()
    for item in results:
        if not isinstance(item, dict):
            outcome.rejected.append({"uuid": "", "error": "shape"})
            continue
        with transaction.atomic():
            _record_one(
                actor=actor,
                assignment=assignment,
                turf=turf,
                item=item,
                doors=doors,
                outcome=outcome,
                stage_rules=stage_rules,
            )
    return outcome

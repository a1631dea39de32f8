"""Writes for rapid response: intake, verification, state changes, fan-out of alerts,
acknowledgements, escalation, hand-off and the purge."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import h3  # type: ignore[import-untyped]
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BooleanField, F, Q, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.translation import gettext as _

from leaven.core import access, crypto, permissions
from leaven.core.audit import audit_record
from leaven.core.models import OrgUnit, User
from leaven.messaging import conf as messaging_conf
from leaven.messaging.models import Channel, OutboxMessage, SmsSuppression
from leaven.messaging.services import outbox_enqueue
from leaven.people.models import Person, Phone
from leaven.rapid_response.models import (
    H3_RESOLUTION,
    RADIUS_KM,
    Alert,
    FollowUp,
    Incident,
    IncidentReport,
    IncidentType,
    Responder,
    Ring,
    Skill,
    StateChange,
)

EARTH_KM = 6371.0088
GROUP_KM = 0.5  # reports this close ...
GROUP_HOURS = 2  # ... and this recent join the same open incident
RATE_LIMIT = 5  # reports from one sender ...
RATE_WINDOW = dt.timedelta(minutes=10)  # ... in this long
INSERT_BATCH = 2000
MAX_RING = 4
TOKEN_SALT = "leaven.rapid.alert"  # noqa: S105 (a signing salt, not a secret)
# A link in an alert text works this long after the alert, and only for an active responder.
LINK_LIFETIME = dt.timedelta(hours=12)
# Asking verifiers again about one incident waits this long after the last ask.
VERIFY_AGAIN_AFTER = dt.timedelta(minutes=3)

# Who may move an incident from which state to which.
TRANSITIONS: dict[str, set[str]] = {
    Incident.State.REPORTED: {
        Incident.State.VERIFYING,
        Incident.State.CONFIRMED,
        Incident.State.UNCONFIRMED,
        Incident.State.FALSE_ALARM,
        Incident.State.CLOSED,
    },
    Incident.State.VERIFYING: {
        Incident.State.CONFIRMED,
        Incident.State.UNCONFIRMED,
        Incident.State.FALSE_ALARM,
        Incident.State.CLOSED,
    },
    Incident.State.CONFIRMED: {Incident.State.CLOSED},
    Incident.State.UNCONFIRMED: {
        Incident.State.VERIFYING,
        Incident.State.CONFIRMED,
        Incident.State.CLOSED,
    },
    Incident.State.FALSE_ALARM: {Incident.State.CLOSED},
    Incident.State.CLOSED: set(),
}
# What a verifier may decide through their link.
VERIFIER_STATES = {Incident.State.CONFIRMED, Incident.State.UNCONFIRMED, Incident.State.FALSE_ALARM}


# --------------------------------------------------------------------------- geometry


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, km: float) -> tuple[float, float, float, float]:
    """(min lat, max lat, min lon, max lon) of a box holding the circle of `km` around."""
    dlat = math.degrees(km / EARTH_KM)
    dlon = math.degrees(km / (EARTH_KM * max(0.01, math.cos(math.radians(lat)))))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def planar_scales(lat: float) -> tuple[float, float]:
    """km per degree of latitude and of longitude near `lat`: squared planar distance in
    these units is within 0.2% of the great-circle distance for a few tens of km, so a
    planar test with a margin leaves only a thin band for the exact haversine check."""
    per_degree = math.radians(1) * EARTH_KM
    return per_degree, per_degree * math.cos(math.radians(lat))


PLANAR_MARGIN = 0.002


def planar_margin(lat: float, km: float) -> float:
    """The relative error the planar distance may make at this latitude and radius: the
    fixed part covers the flat-earth approximation, the second grows with how far the
    longitude scale drifts across the circle (more to the north, and for wider rings)."""
    return PLANAR_MARGIN + abs(math.tan(math.radians(lat))) * (km / EARTH_KM)


def radius_condition(*, lat: float, lon: float, km: float, table: str) -> tuple[str, list[float]]:
    """SQL (with %s parameters, on `table`'s lat and lon columns) that is true exactly for
    the rows within `km` of the point by the haversine distance. The bounding box uses the
    (lat, lon) index; rectangles inscribed in the circle and then a planar distance with a
    margin accept
    the rows well inside, and only
    the thin band at the edge pays for the haversine, in SQL too. The query returns what it
    needs and nothing more: no distances go back to Python. Works on SQLite (built-in math
    functions) and PostgreSQL alike."""
    south, north, west, east = bounding_box(lat, lon, km)
    ky, kx = planar_scales(lat)
    margin = planar_margin(lat, km)
    outer, inner = (km * (1 + margin)) ** 2 / (ky * ky), (km * (1 - margin)) ** 2 / (ky * ky)
    ratio = (kx * kx) / (ky * ky)
    t = f'"{table}"'
    planar = f"(({t}.lat - %s) * ({t}.lat - %s) + ({t}.lon - %s) * ({t}.lon - %s) * %s)"
    planar_params = [lat, lat, lon, lon, ratio]
    # The same operations as haversine_km, so the edge is decided exactly as in Python.
    rad = math.radians(1)
    p1, l1 = lat * rad, lon * rad
    half_dp = f"sin(({t}.lat * %s - %s) / 2)"
    half_dl = f"sin(({t}.lon * %s - %s) / 2)"
    haversine = (
        f"(2 * %s * asin(sqrt({half_dp} * {half_dp} + %s * cos({t}.lat * %s) "
        f"* {half_dl} * {half_dl})))"
    )
    haversine_params = [EARTH_KM, rad, p1, rad, p1, math.cos(p1), rad, rad, l1, rad, l1]
    # Three rectangles inscribed in the inner circle (corners at 22.5, 45 and 67.5 degrees)
    # cover 85% of it: plain comparisons accept most rows before any arithmetic.
    inside = km * (1 - margin)
    rectangles: list[str] = []
    rectangle_params: list[float] = []
    for degrees in (22.5, 45.0, 67.5):
        half_y = inside * math.sin(math.radians(degrees)) / ky
        half_x = inside * math.cos(math.radians(degrees)) / kx
        rectangles.append(f"({t}.lat BETWEEN %s AND %s AND {t}.lon BETWEEN %s AND %s)")
        rectangle_params += [lat - half_y, lat + half_y, lon - half_x, lon + half_x]
    sql = (
        f"{t}.lat BETWEEN %s AND %s AND {t}.lon BETWEEN %s AND %s "
        f"AND ({' OR '.join(rectangles)} "
        f"OR {planar} <= %s OR ({planar} <= %s AND {haversine} <= %s))"
    )
    params = [south, north, west, east, *rectangle_params]
    params += [*planar_params, inner, *planar_params, outer]
    params += [*haversine_params, km]
    return sql, params


def cell_of(lat: float, lon: float) -> str:
    return str(h3.latlng_to_cell(lat, lon, H3_RESOLUTION))


def cell_centre(cell: str) -> tuple[float, float]:
    lat, lon = h3.cell_to_latlng(cell)
    return float(lat), float(lon)


def _check_point(lat: float | None, lon: float | None) -> None:
    if lat is None or lon is None:
        return
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError({"lat": _("That point is not on the map.")})


def on_call(windows: list[dict[str, Any]], local: dt.datetime) -> bool:
    """Whether a responder with these on-call windows is on call at this local time. No
    windows means round the clock; a window may run past midnight."""
    if not windows:
        return True
    minute = local.hour * 60 + local.minute
    for window in windows:
        days = window.get("days") or list(range(7))
        start_h, start_m = (int(x) for x in str(window.get("start", "00:00")).split(":"))
        end_h, end_m = (int(x) for x in str(window.get("end", "23:59")).split(":"))
        start, end = start_h * 60 + start_m, end_h * 60 + end_m
        if start <= end:
            if local.weekday() in days and start <= minute <= end:
                return True
        else:
            if local.weekday() in days and minute >= start:
                return True
            if (local.weekday() - 1) % 7 in days and minute <= end:
                return True
    return False


# --------------------------------------------------------------------------- signed links


def alert_token(*, incident_id: int, responder_id: int, kind: str) -> str:
    return signing.Signer(salt=TOKEN_SALT).sign(f"{incident_id}.{responder_id}.{kind[0]}")


def alert_token_read(token: str) -> tuple[int, int, str] | None:
    try:
        value = signing.Signer(salt=TOKEN_SALT).unsign(token)
    except signing.BadSignature:
        return None
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    kind = {"v": Alert.Kind.VERIFY, "r": Alert.Kind.RESPOND}.get(parts[2])
    if kind is None:
        return None
    return int(parts[0]), int(parts[1]), kind


def alert_link_usable(alert: Alert, *, now: dt.datetime | None = None) -> bool:
    """Whether the signed link of this alert may still be used: sent within the last
    LINK_LIFETIME to a responder still on the roster. A forwarded text or a seized phone
    does not keep a working link."""
    now = now or timezone.now()
    return alert.responder.active and alert.created_at >= now - LINK_LIFETIME


def alert_link(*, incident_id: int, responder_id: int, kind: str) -> str:
    token = alert_token(incident_id=incident_id, responder_id=responder_id, kind=kind)
    base = str(messaging_conf.get("LEAVEN_PUBLIC_URL")).rstrip("/")
    return base + reverse("rapid_response:alert_link", args=[token])


# --------------------------------------------------------------------------- intake


@dataclass(frozen=True)
class ReportInput:
    type: str
    seen_at: dt.datetime
    lat: float | None = None
    lon: float | None = None
    cross_streets: str = ""
    description: str = ""
    officers: int | None = None
    contact: str = ""
    language: str = "en"


def _clean_report(data: ReportInput, now: dt.datetime) -> None:
    errors: dict[str, str] = {}
    if data.type not in IncidentType.values:
        errors["type"] = _("Choose what you saw.")
    if (data.lat is None or data.lon is None) and not data.cross_streets.strip():
        errors["cross_streets"] = _("Put a pin on the map or write the cross streets.")
    if data.seen_at > now + dt.timedelta(minutes=10):
        errors["seen_at"] = _("That time is in the future.")
    if data.officers is not None and not 0 <= data.officers <= 1000:
        errors["officers"] = _("Enter a number of officers between 0 and 1000.")
    if errors:
        raise ValidationError(errors)
    _check_point(data.lat, data.lon)


def _matching_incident(unit: OrgUnit, data: ReportInput, now: dt.datetime) -> Incident | None:
    """An open incident of the unit near this report in place and time."""
    since = now - dt.timedelta(hours=GROUP_HOURS)
    recent = Incident.objects.select_for_update().filter(
        owner_unit=unit,
        state__in=[Incident.State.REPORTED, Incident.State.VERIFYING, Incident.State.CONFIRMED],
        last_report_at__gte=since,
    )
    if data.lat is not None and data.lon is not None:
        south, north, west, east = bounding_box(data.lat, data.lon, GROUP_KM)
        for incident in recent.filter(lat__range=(south, north), lon__range=(west, east)):
            if incident.lat is None or incident.lon is None:
                continue
            if haversine_km(data.lat, data.lon, incident.lat, incident.lon) <= GROUP_KM:
                return incident
    streets = " ".join(data.cross_streets.casefold().split())
    if streets:
        for incident in recent.exclude(cross_streets=""):
            if " ".join(incident.cross_streets.casefold().split()) == streets:
                return incident
    return None


@transaction.atomic
def report_submit(
    *,
    actor: Any,
    unit: OrgUnit,
    data: ReportInput,
    source: str = IncidentReport.Source.PUBLIC,
    sender: str = "",
    now: dt.datetime | None = None,
) -> Incident:
    """Take one report, from the public form (actor None) or a dispatcher's hotline call
    (needs rapid.dispatch). A report near an open incident of the unit in place and time joins
    it; otherwise it opens a new one. The public form is rate limited per sender."""
    now = now or timezone.now()
    if source == IncidentReport.Source.HOTLINE:
        if not access.can(actor, permissions.RAPID_DISPATCH, unit):
            raise ValidationError(_("You cannot take calls for this unit."))
    _clean_report(data, now)
    # Per sender and committee: witnesses of one raid behind one carrier's address do not
    # close the form for every other committee.
    sender_index = crypto.blind_index(f"rapid:{unit.pk}:{sender}") if sender else ""
    if sender_index and source == IncidentReport.Source.PUBLIC:
        recent = IncidentReport.objects.filter(
            sender_index=sender_index, created_at__gte=now - RATE_WINDOW
        ).count()
        if recent >= RATE_LIMIT:
            raise ValidationError(_("Too many reports from here. Please call the hotline."))
    cell = cell_of(data.lat, data.lon) if data.lat is not None and data.lon is not None else ""
    incident = _matching_incident(unit, data, now)
    created = incident is None
    if incident is None:
        incident = Incident.objects.create(
            owner_unit=unit,
            type=data.type,
            lat=data.lat,
            lon=data.lon,
            cell=cell,
            cross_streets=data.cross_streets.strip()[:200],
            seen_at=data.seen_at,
            description=data.description.strip(),
            officers=data.officers,
            created_at=now,
            last_report_at=now,
        )
        StateChange.objects.create(
            incident=incident,
            to_state=Incident.State.REPORTED,
            actor=actor if isinstance(actor, User) else None,
            at=now,
        )
    else:
        incident.last_report_at = now
        # A later report fills in a place the first one lacked, but only before anyone has
        # started to verify: what responders are sent to comes from reports a dispatcher or
        # verifier has seen, never from text the public adds afterwards.
        if incident.state == Incident.State.REPORTED:
            if not incident.cross_streets and data.cross_streets:
                incident.cross_streets = data.cross_streets.strip()[:200]
            if incident.lat is None and data.lat is not None:
                incident.lat, incident.lon, incident.cell = data.lat, data.lon, cell
        incident.save(update_fields=["last_report_at", "cross_streets", "lat", "lon", "cell"])
    report = IncidentReport.objects.create(
        incident=incident,
        source=source,
        type=data.type,
        lat=data.lat,
        lon=data.lon,
        cell=cell,
        cross_streets=data.cross_streets.strip()[:200],
        seen_at=data.seen_at,
        description=data.description.strip(),
        officers=data.officers,
        language=data.language if data.language in ("en", "es") else "en",
        reporter_contact=data.contact.strip()[:200],
        sender_index=sender_index,
        taken_by=actor if isinstance(actor, User) else None,
        created_at=now,
    )
    audit_record(
        actor=actor if isinstance(actor, User) else None,
        actor_label="" if isinstance(actor, User) else "public",
        verb="rapid.reported",
        obj=incident,
        unit=unit,
        detail={"report": report.pk, "source": source, "new": created},
    )
    return incident


# --------------------------------------------------------------------------- state


def _require_dispatch(actor: Any, incident: Incident) -> None:
    if not access.can(actor, permissions.RAPID_DISPATCH, incident.owner_unit):
        raise ValidationError(_("Only dispatchers and verifiers can change an incident."))


@transaction.atomic
def incident_set_state(
    *,
    actor: Any,
    incident: Incident,
    state: str,
    note: str = "",
    responder: Responder | None = None,
    now: dt.datetime | None = None,
) -> Incident:
    """Move an incident to a new state, recording who, when and why. A dispatcher of the unit
    may make any allowed move; a verifier only through their own signed link (`responder`,
    with a verification request for this incident) and only to a verdict. Confirming alerts
    the first ring of responders."""
    now = now or timezone.now()
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if responder is not None:
        asked = Alert.objects.filter(
            incident=incident, responder=responder, kind=Alert.Kind.VERIFY
        ).exists()
        if not asked or state not in VERIFIER_STATES:
            raise ValidationError(_("Only dispatchers and verifiers can change an incident."))
    else:
        _require_dispatch(actor, incident)
    if state == incident.state:
        return incident
    if state not in TRANSITIONS.get(incident.state, set()):
        raise ValidationError(
            {"state": _("An incident cannot go from this state to the one chosen.")}
        )
    previous = incident.state
    incident.state = state
    fields = ["state"]
    if state == Incident.State.CONFIRMED:
        incident.confirmed_at = now
        fields.append("confirmed_at")
    if state in (Incident.State.CLOSED, Incident.State.FALSE_ALARM):
        incident.closed_at = now
        fields.append("closed_at")
    incident.save(update_fields=fields)
    StateChange.objects.create(
        incident=incident,
        from_state=previous,
        to_state=state,
        actor=actor if isinstance(actor, User) else None,
        responder=responder,
        note=note.strip()[:2000],
        at=now,
    )
    audit_record(
        actor=actor if isinstance(actor, User) else None,
        actor_label=""
        if isinstance(actor, User)
        else f"responder:{responder.pk if responder else ''}",
        verb="rapid.state_changed",
        obj=incident,
        unit=incident.owner_unit,
        detail={"from": previous, "to": state},
    )
    if state == Incident.State.CONFIRMED:
        ring_start(incident=incident, number=1, now=now)
    return incident


@transaction.atomic
def incident_set_legal_hold(*, actor: Any, incident: Incident, hold: bool) -> Incident:
    """A legal hold pauses the purge of this incident and its reports."""
    _require_dispatch(actor, incident)
    Incident.objects.filter(pk=incident.pk).update(legal_hold=hold)
    incident.legal_hold = hold
    audit_record(
        actor=actor,
        verb="rapid.legal_hold",
        obj=incident,
        unit=incident.owner_unit,
        detail={"hold": hold},
    )
    return incident


# --------------------------------------------------------------------------- messages


# Links and phone numbers never go out in an alert text, whoever typed the place.
_NOT_A_PLACE = re.compile(
    r"(?i)\b(?:https?://|www\.)\S*|\S+\.(?:com|org|net|io|co|ly|me|app)\S*|\+?\d[\d\s().-]{6,}\d"
)


def _place(incident: Incident) -> str:
    if incident.cross_streets:
        cleaned = " ".join(_NOT_A_PLACE.sub(" ", incident.cross_streets).split())
        if cleaned:
            return cleaned
    if incident.lat is not None and incident.lon is not None:
        return f"{incident.lat:.4f},{incident.lon:.4f}"
    return ""


def _language(person_language: str, fallback: str) -> str:
    return person_language if person_language in ("en", "es") else fallback


def alert_language(person_language: str, spoken: list[str] | None, fallback: str) -> str:
    """The language of an alert: one the responder speaks (their roster languages),
    preferring the person's own language; with no roster languages, the person's language,
    else the unit's."""
    supported = [code for code in (spoken or []) if code in ("en", "es")]
    if supported:
        return person_language if person_language in supported else supported[0]
    return _language(person_language, fallback)


def alert_text(*, incident: Incident, language: str, link: str, kind: str) -> str:
    with translation.override(language):
        what = str(IncidentType(incident.type).label)
        org = str(messaging_conf.get("LEAVEN_ORG_NAME"))
        if kind == Alert.Kind.VERIFY:
            return _(
                "%(org)s URGENT: please verify a report (%(what)s) near %(place)s. Open: %(link)s"
            ) % {"org": org, "what": what, "place": _place(incident), "link": link}
        return _(
            "%(org)s URGENT: confirmed %(what)s near %(place)s. Can you go? Reply 1 if you are "
            "going, 2 if you can't, or answer here: %(link)s"
        ) % {"org": org, "what": what, "place": _place(incident), "link": link}


def _unit_fallback(unit: OrgUnit) -> str:
    languages = unit.languages or []
    return str(languages[0]) if languages else "en"


@transaction.atomic
def verifiers_request(
    *, actor: Any, incident: Incident, count: int = 3, now: dt.datetime | None = None
) -> list[Alert]:
    """Ask the nearest available verifiers of the unit to go and see: a text with a short
    signed link, through the outbox, to those with round-the-clock alert consent. Nobody is
    asked twice about one incident. Moves a reported incident to verifying."""
    now = now or timezone.now()
    _require_dispatch(actor, incident)
    if not incident.is_open or incident.state == Incident.State.CONFIRMED:
        raise ValidationError(_("This incident is no longer waiting for verification."))
    # A second click (or a second dispatcher) moments later does not text more verifiers.
    if Alert.objects.filter(
        incident=incident, kind=Alert.Kind.VERIFY, created_at__gte=now - VERIFY_AGAIN_AFTER
    ).exists():
        raise ValidationError(
            _("Verifiers were asked moments ago. Give them a few minutes before asking more.")
        )
    asked = set(
        Alert.objects.filter(incident=incident, kind=Alert.Kind.VERIFY).values_list(
            "responder_id", flat=True
        )
    )
    candidates = (
        Responder.objects.filter(
            owner_unit__path__startswith=incident.owner_unit.path,
            active=True,
            is_verifier=True,
            person__phones__sms_status=Phone.SMSStatus.OPTED_IN,
            person__phones__urgent_alerts=True,
        )
        .exclude(pk__in=asked)
        .select_related("person", "owner_unit")
        .distinct()
    )
    scored = []
    for responder in candidates:
        local = now.astimezone(ZoneInfo(responder.owner_unit.time_zone))
        if not on_call(responder.windows, local):
            continue
        distance = (
            haversine_km(incident.lat, incident.lon, responder.lat, responder.lon)
            if incident.lat is not None and incident.lon is not None
            else 0.0
        )
        scored.append((distance, responder.pk, responder))
    scored.sort(key=lambda item: (item[0], item[1]))
    fallback = _unit_fallback(incident.owner_unit)
    made: list[Alert] = []
    for _distance, _pk, responder in scored[:count]:
        person: Person = responder.person
        language = alert_language(person.language, responder.languages, fallback)
        link = alert_link(incident_id=incident.pk, responder_id=responder.pk, kind="verify")
        key = f"rapid:{incident.pk}:{responder.pk}:verify"
        message = outbox_enqueue(
            actor=None,
            person=person,
            channel=Channel.SMS,
            body=alert_text(incident=incident, language=language, link=link, kind="verify"),
            idempotency_key=key,
            urgent=True,
            owner_unit=incident.owner_unit,
        )
        if message is None:
            continue
        made.append(
            Alert.objects.create(
                incident=incident,
                responder=responder,
                kind=Alert.Kind.VERIFY,
                message_key=key,
                created_at=now,
            )
        )
    if not made:
        raise ValidationError(_("No verifier is available for this incident right now."))
    if incident.state in (Incident.State.REPORTED, Incident.State.UNCONFIRMED):
        incident_set_state(actor=actor, incident=incident, state=Incident.State.VERIFYING, now=now)
    audit_record(
        actor=actor,
        verb="rapid.verifiers_asked",
        obj=incident,
        unit=incident.owner_unit,
        detail={"alerts": [a.pk for a in made]},
    )
    return made


def ring_plan(incident: Incident, number: int) -> tuple[OrgUnit, float]:
    """The unit whose responders a ring reaches, and its radius: the incident's unit at the
    type's radius, then twice as wide, then the parent unit, then the root."""
    base = RADIUS_KM.get(incident.type, 3.0)
    unit = incident.owner_unit
    if number <= 1:
        return unit, base
    if number == 2:
        return unit, base * 2
    ids = [int(p) for p in unit.path.strip("/").split("/") if p]
    if number == 3:
        parent_id = ids[-2] if len(ids) > 1 else ids[-1]
        return OrgUnit.objects.get(pk=parent_id), base * 2
    return OrgUnit.objects.get(pk=ids[0]), base * 4


def responders_in_radius(
    *, unit: OrgUnit, lat: float, lon: float, km: float, now: dt.datetime
) -> list[tuple[Any, ...]]:
    """Responders of `unit` and below, on call now, with a phone that takes urgent texts,
    within `km` of the point: a bounding box on the indexed cell centres, then the exact
    distance. Rows: (responder id, person id, language, unit id, phone id, stored number,
    number index), one per responder and per number."""
    sql, params = radius_condition(lat=lat, lon=lon, km=km, table=Responder._meta.db_table)
    rows = (
        Responder.objects.filter(
            RawSQL(sql, params, output_field=BooleanField()),  # noqa: S611 (no user text)
            active=True,
            owner_unit__path__startswith=unit.path,
            person__phones__sms_status=Phone.SMSStatus.OPTED_IN,
            person__phones__urgent_alerts=True,
        )
        .annotate(stored=Cast(F("person__phones__number"), output_field=TextField()))
        .values_list(
            "pk",
            "person_id",
            "person__language",
            "languages",
            "owner_unit_id",
            "person__phones__pk",
            "stored",
            "person__phones__number_index",
            "windows",
            "owner_unit__time_zone",
        )
        .order_by("pk", "-person__phones__is_primary", "person__phones__pk")
    )
    suppressed = set(SmsSuppression.objects.values_list("number_index", flat=True))
    zones: dict[str, dt.datetime] = {}
    seen_responders: set[int] = set()
    seen_numbers: set[str] = set()
    found = []
    for row in rows:
        pk, person_id, language, spoken, unit_id, phone_id, stored, index, windows, tz = row
        if pk in seen_responders or index in seen_numbers or index in suppressed:
            continue
        if windows:
            if tz not in zones:
                zones[tz] = now.astimezone(ZoneInfo(tz))
            if not on_call(windows, zones[tz]):
                continue
        seen_responders.add(pk)
        seen_numbers.add(index)
        found.append(
            (pk, person_id, alert_language(language, spoken, ""), unit_id, phone_id, stored, index)
        )
    return found


# A hook for the crash test: called after each batch of alert rows is written.
_after_batch: Any = None


def ring_start(*, incident: Incident, number: int, now: dt.datetime | None = None) -> Ring | None:
    """Alert every responder of the ring who has not been alerted about this incident yet:
    one alert row and one urgent text per responder, written with bulk inserts inside one
    transaction, so a crash writes none or all and a rerun adds nobody twice. Returns the
    ring, or None when it already exists or the incident has no point on the map."""
    now = now or timezone.now()
    if incident.lat is None or incident.lon is None or number > MAX_RING:
        return None
    with transaction.atomic():
        if Ring.objects.filter(incident=incident, number=number).exists():
            return None
        unit, km = ring_plan(incident, number)
        ring = Ring.objects.create(
            incident=incident, number=number, unit=unit, radius_km=km, started_at=now
        )
        already = set(
            Alert.objects.filter(incident=incident, kind=Alert.Kind.RESPOND).values_list(
                "responder_id", flat=True
            )
        )
        targets = [
            row
            for row in responders_in_radius(
                unit=unit, lat=incident.lat, lon=incident.lon, km=km, now=now
            )
            if row[0] not in already
        ]
        count = _fanout_write(incident=incident, ring=ring, targets=targets, now=now)
        ring.alerted = count
        ring.save(update_fields=["alerted"])
        audit_record(
            actor=None,
            actor_label="rapid",
            verb="rapid.ring_started",
            obj=incident,
            unit=incident.owner_unit,
            detail={"ring": number, "alerted": count, "radius_km": km, "unit": unit.pk},
        )
        if count:
            _drain_sms_on_commit()
    return ring


def _drain_sms_on_commit() -> None:
    if not messaging_conf.get("LEAVEN_OUTBOX_DRAIN_ON_COMMIT"):
        return

    def enqueue() -> None:
        from leaven.messaging.tasks import outbox_drain

        outbox_drain.enqueue(channel=Channel.SMS)

    transaction.on_commit(enqueue)


def _token_signer() -> Any:
    """A function that signs alert tokens exactly as `alert_token` does (Django's Signer),
    with the key derived once instead of once per token: a fan-out signs thousands. Checked
    against the Signer, which is used instead if the two ever differ."""
    signer = signing.Signer(salt=TOKEN_SALT)
    algorithm = getattr(hashlib, signer.algorithm)
    key = algorithm(force_bytes(signer.salt) + b"signer" + force_bytes(signer.key)).digest()
    keyed = hmac.new(key, digestmod=algorithm)
    sep = signer.sep

    def sign(value: str) -> str:
        mac = keyed.copy()
        mac.update(value.encode())
        return f"{value}{sep}{base64.urlsafe_b64encode(mac.digest()).strip(b'=').decode()}"

    probe = "0.0.r"
    return sign if sign(probe) == signer.sign(probe) else signer.sign


def _fanout_write(
    *, incident: Incident, ring: Ring, targets: list[tuple[Any, ...]], now: dt.datetime
) -> int:
    fallback = _unit_fallback(incident.owner_unit)
    sign = _token_signer()
    base = str(messaging_conf.get("LEAVEN_PUBLIC_URL")).rstrip("/")
    path = reverse("rapid_response:alert_link", args=["TOKEN"])
    alert_table = Alert._meta.db_table
    outbox_table = OutboxMessage._meta.db_table
    alert_sql = (
        f"INSERT INTO {alert_table} (incident_id, responder_id, ring_id, kind, message_key, "  # noqa: S608
        "ack, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
    )
    columns = (
        "broadcast_id, owner_unit_id, person_id, email_id, phone_id, kind, channel, "
        "destination, destination_index, language, subject, body, urgent, state, attempts, "
        "next_attempt_at, reconcile, provider_id, delivery_status, error_code, "
        "idempotency_key, created_at"
    )
    outbox_sql = (
        f"INSERT INTO {outbox_table} ({columns}) VALUES ({', '.join(['%s'] * 22)}) "  # noqa: S608
        "ON CONFLICT DO NOTHING"
    )
    templates: dict[str, str] = {}
    for code in ("en", "es"):
        templates[code] = alert_text(incident=incident, language=code, link="{link}", kind="r")
    alerts: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    written = 0
    # Everything that is the same for every row, worked out once.
    incident_id, ring_id, unit_id = incident.pk, ring.pk, incident.owner_unit_id
    at = connection.ops.adapt_datetimefield_value(now)
    link_head, link_tail = (base + path).split("TOKEN")
    with connection.cursor() as cursor:
        for responder_id, person_id, language, _unit, phone_id, stored, index in targets:
            code = _language(language, fallback)
            token = sign(f"{incident_id}.{responder_id}.r")
            body = templates[code].replace("{link}", link_head + token + link_tail)
            key = f"rapid:{incident_id}:{responder_id}:respond"
            alerts.append(
                (incident_id, responder_id, ring_id, Alert.Kind.RESPOND, key, "pending", at)
            )
            messages.append(
                (
                    None,
                    unit_id,
                    person_id,
                    None,
                    phone_id,
                    OutboxMessage.Kind.DIRECT,
                    Channel.SMS,
                    stored,  # already encrypted, copied as stored
                    index,
                    code,
                    "",
                    crypto.encrypt(body),
                    True,
                    OutboxMessage.State.PENDING,
                    0,
                    at,
                    False,
                    "",
                    "",
                    "",
                    key,
                    at,
                )
            )
            if len(alerts) >= INSERT_BATCH:
                cursor.executemany(alert_sql, alerts)
                cursor.executemany(outbox_sql, messages)
                written += len(alerts)
                alerts, messages = [], []
                if _after_batch is not None:
                    _after_batch(written)
        if alerts:
            cursor.executemany(alert_sql, alerts)
            cursor.executemany(outbox_sql, messages)
            written += len(alerts)
    return written


def escalate_due(*, now: dt.datetime | None = None) -> list[Ring]:
    """For each confirmed incident whose latest ring has waited its minutes without enough
    "going" answers, start the next ring. Safe to run twice: a ring number exists once."""
    now = now or timezone.now()
    started: list[Ring] = []
    for incident in Incident.objects.filter(state=Incident.State.CONFIRMED).select_related(
        "owner_unit"
    ):
        latest = incident.rings.order_by("-number").first()
        if latest is None or latest.number >= MAX_RING:
            continue
        if latest.started_at > now - dt.timedelta(minutes=incident.escalate_minutes):
            continue
        going = incident.alerts.filter(kind=Alert.Kind.RESPOND, ack=Alert.Ack.GOING).count()
        if going >= incident.needed_acks:
            continue
        ring = ring_start(incident=incident, number=latest.number + 1, now=now)
        if ring is not None:
            started.append(ring)
    return started


@transaction.atomic
def alert_answer(*, token: str, answer: str, now: dt.datetime | None = None) -> Alert:
    """A responder's answer through their signed link: going or can't. The last answer
    counts."""
    now = now or timezone.now()
    read = alert_token_read(token)
    if read is None or answer not in (Alert.Ack.GOING, Alert.Ack.CANT):
        raise ValidationError(_("This link is not valid."))
    incident_id, responder_id, kind = read
    alert = (
        Alert.objects.select_for_update()
        .filter(incident_id=incident_id, responder_id=responder_id, kind=kind)
        .select_related("incident__owner_unit", "responder")
        .first()
    )
    if alert is None or not alert_link_usable(alert, now=now):
        raise ValidationError(_("This link is not valid."))
    if not alert.incident.is_open:
        raise ValidationError(_("This incident is closed. Thank you."))
    alert.ack, alert.ack_at = answer, now
    alert.save(update_fields=["ack", "ack_at"])
    audit_record(
        actor=None,
        actor_label=f"responder:{responder_id}",
        verb="rapid.acknowledged",
        obj=alert.incident,
        unit=alert.incident.owner_unit,
        detail={"alert": alert.pk, "ack": answer},
    )
    return alert


# What a responder may text back to an alert: 1 or a word for "going", 2 or one for "can't".
REPLY_GOING = frozenset({"1", "GOING", "YES", "OMW", "VOY", "SI", "YA VOY", "VOY EN CAMINO"})
REPLY_CANT = frozenset({"2", "CANT", "CAN T", "CANNOT", "NO", "NO PUEDO"})


def alert_answer_by_text(message: Any, *, now: dt.datetime | None = None) -> str:
    """A responder's text reply to an alert ("1", "VOY", "2", "NO PUEDO"...): the answer to
    their most recent alert to respond to an incident still open, sent in the last 12 hours.
    Returns "rapid.acknowledged" when it was one, "" otherwise (messaging then keeps it as an
    ordinary reply). The same text twice changes nothing more."""
    from leaven.messaging.keywords import fold

    if message.person_id is None:
        return ""
    word = fold(message.body or "")
    if word in REPLY_GOING:
        answer = Alert.Ack.GOING
    elif word in REPLY_CANT:
        answer = Alert.Ack.CANT
    else:
        return ""
    now = now or timezone.now()
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update()
            .filter(
                responder__person_id=message.person_id,
                responder__active=True,
                kind=Alert.Kind.RESPOND,
                created_at__gte=now - LINK_LIFETIME,
                incident__state__in=[
                    Incident.State.REPORTED,
                    Incident.State.VERIFYING,
                    Incident.State.CONFIRMED,
                ],
            )
            .select_related("incident__owner_unit")
            .order_by("-created_at", "-pk")
            .first()
        )
        if alert is None:
            return ""
        if alert.ack != answer:
            alert.ack, alert.ack_at = answer, now
            alert.save(update_fields=["ack", "ack_at"])
            audit_record(
                actor=None,
                actor_label=f"responder:{alert.responder_id}",
                verb="rapid.acknowledged",
                obj=alert.incident,
                unit=alert.incident.owner_unit,
                detail={"alert": alert.pk, "ack": answer, "by": "text"},
            )
    return "rapid.acknowledged"


@transaction.atomic
def verifier_decide(*, token: str, state: str, note: str = "") -> Incident:
    """A verifier's verdict through their signed link."""
    read = alert_token_read(token)
    if read is None or read[2] != Alert.Kind.VERIFY:
        raise ValidationError(_("This link is not valid."))
    incident_id, responder_id, _kind = read
    alert = (
        Alert.objects.select_for_update()
        .filter(incident_id=incident_id, responder_id=responder_id, kind=Alert.Kind.VERIFY)
        .select_related("incident", "responder")
        .first()
    )
    now = timezone.now()
    if alert is None or not alert_link_usable(alert, now=now):
        raise ValidationError(_("This link is not valid."))
    # A verifier answers once, and only while the incident waits for verification: an old
    # link cannot re-confirm an incident a dispatcher has settled.
    if alert.incident.state not in (Incident.State.REPORTED, Incident.State.VERIFYING):
        raise ValidationError(_("This incident is no longer waiting for verification."))
    if alert.ack_at is not None:
        raise ValidationError(_("You have already answered. Thank you."))
    alert.ack_at = now
    alert.save(update_fields=["ack_at"])
    return incident_set_state(
        actor=None, incident=alert.incident, state=state, note=note, responder=alert.responder
    )


# --------------------------------------------------------------------------- follow-up


@transaction.atomic
def followup_create(
    *, actor: Any, incident: Incident, owner: User, title: str, due: dt.date | None = None
) -> FollowUp:
    """Hand an incident off to a follow-up task with an owner who can see the incident."""
    _require_dispatch(actor, incident)
    title = title.strip()
    if not title:
        raise ValidationError({"title": _("Say what needs doing.")})
    if not access.can(owner, permissions.RAPID_VIEW, incident.owner_unit):
        raise ValidationError({"owner": _("The owner must be able to see this incident.")})
    follow_up = FollowUp.objects.create(incident=incident, owner=owner, title=title[:200], due=due)
    audit_record(
        actor=actor,
        verb="rapid.followup_created",
        obj=incident,
        unit=incident.owner_unit,
        detail={"followup": follow_up.pk, "owner": owner.pk},
    )
    return follow_up


@transaction.atomic
def followup_set_done(*, actor: Any, follow_up: FollowUp, done: bool = True) -> FollowUp:
    incident = follow_up.incident
    if actor != follow_up.owner:
        _require_dispatch(actor, incident)
    follow_up.done = done
    follow_up.save(update_fields=["done"])
    audit_record(
        actor=actor,
        verb="rapid.followup_done",
        obj=incident,
        unit=incident.owner_unit,
        detail={"followup": follow_up.pk, "done": done},
    )
    return follow_up


# --------------------------------------------------------------------------- responders


WEEKDAYS = range(7)


def _clean_windows(windows: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """On-call windows as stored: days 0 (Monday) to 6 (no days: every day) and "HH:MM"
    times; no windows means round the clock."""
    cleaned = []
    for window in windows or []:
        given = window.get("days") or list(WEEKDAYS)
        if any(not str(d).isdigit() for d in given):
            raise ValidationError({"days": _("Choose the days this responder is on call.")})
        days = sorted({int(d) for d in given})
        start, end = str(window.get("start", "")), str(window.get("end", ""))
        try:
            dt.time.fromisoformat(start)
            dt.time.fromisoformat(end)
        except ValueError:
            raise ValidationError({"start": _("Enter the on-call hours as HH:MM.")}) from None
        if not days or any(d not in WEEKDAYS for d in days):
            raise ValidationError({"days": _("Choose the days this responder is on call.")})
        if start == end:
            raise ValidationError({"end": _("The on-call hours must not start and end alike.")})
        cleaned.append({"days": days, "start": start[:5], "end": end[:5]})
    return cleaned


def precinct_centre(code: str) -> tuple[float, float]:
    """A point inside a precinct (on its boundary's interior), for its H3 cell."""
    import json

    from shapely.geometry import shape

    from leaven.geo.models import Jurisdiction

    precinct = Jurisdiction.objects.filter(kind=Jurisdiction.Kind.PRECINCT, code=code).first()
    if precinct is None:
        raise ValidationError({"precinct": _("Choose a precinct from the list.")})
    if precinct.boundary:
        point = shape(json.loads(precinct.boundary)).representative_point()
        return float(point.y), float(point.x)
    if None in (precinct.min_lat, precinct.max_lat, precinct.min_lon, precinct.max_lon):
        raise ValidationError({"precinct": _("This precinct has no boundary on the map.")})
    return (
        (float(precinct.min_lat or 0) + float(precinct.max_lat or 0)) / 2,
        (float(precinct.min_lon or 0) + float(precinct.max_lon or 0)) / 2,
    )


@transaction.atomic
def responder_save(
    *,
    actor: Any,
    person: Person,
    unit: OrgUnit,
    lat: float | None = None,
    lon: float | None = None,
    precinct: str = "",
    skills: list[str] | None = None,
    languages: list[str] | None = None,
    windows: list[dict[str, Any]] | None = None,
    active: bool = True,
) -> Responder:
    """Add a person of the unit (or a unit below it) to the unit's responder roster, or
    update them. The area is a home precinct or a point; either is reduced to its H3 cell and
    only the cell's centre is kept, never the exact point."""
    if not access.can(actor, permissions.RAPID_MANAGE_RESPONDERS, unit):
        raise ValidationError(_("You cannot manage responders of this unit."))
    from leaven.people.models import PersonUnit

    if not PersonUnit.objects.filter(person=person, unit__path__startswith=unit.path).exists():
        raise ValidationError({"person": _("This person does not belong to this unit.")})
    precinct = precinct.strip()
    if precinct:
        lat, lon = precinct_centre(precinct)
    if lat is None or lon is None:
        raise ValidationError({"precinct": _("Choose a home precinct or put a pin on the map.")})
    _check_point(lat, lon)
    skills = [s for s in (skills or []) if s in Skill.values]
    languages = [code for code in (languages or []) if code in ("en", "es")]
    if not languages:
        languages = [person.language if person.language in ("en", "es") else "en"]
    cleaned_windows = _clean_windows(windows)
    cell = cell_of(lat, lon)
    c_lat, c_lon = cell_centre(cell)
    responder, created = Responder.objects.update_or_create(
        person=person,
        owner_unit=unit,
        defaults={
            "skills": skills,
            "languages": languages,
            "windows": cleaned_windows,
            "active": active,
            "is_verifier": Skill.VERIFIER in skills,
            "cell": cell,
            "precinct": precinct,
            "lat": c_lat,
            "lon": c_lon,
        },
    )
    audit_record(
        actor=actor,
        verb="rapid.responder_saved",
        obj=responder,
        unit=unit,
        detail={"person": person.pk, "new": created},
    )
    return responder


@transaction.atomic
def responder_set_active(*, actor: Any, responder: Responder, active: bool) -> Responder:
    """Take a responder off the roster (no more alerts) or put them back; their history
    stays."""
    if not access.can(actor, permissions.RAPID_MANAGE_RESPONDERS, responder.owner_unit):
        raise ValidationError(_("You cannot manage responders of this unit."))
    Responder.objects.filter(pk=responder.pk).update(active=active)
    responder.active = active
    audit_record(
        actor=actor,
        verb="rapid.responder_active",
        obj=responder,
        unit=responder.owner_unit,
        detail={"active": active},
    )
    return responder


# --------------------------------------------------------------------------- retention


@dataclass(frozen=True)
class PurgeResult:
    contacts: int
    incidents: int


def purge_due(*, now: dt.datetime | None = None) -> PurgeResult:
    """Delete reporter contacts older than LEAVEN_RAPID_CONTACT_DAYS and reduce incidents
    older than LEAVEN_RAPID_INCIDENT_DAYS to their type, H3 cell and dates. Incidents under a
    legal hold are left alone. Settings are read at each call."""
    now = now or timezone.now()
    contact_days = int(getattr(settings, "LEAVEN_RAPID_CONTACT_DAYS", 30))
    incident_days = int(getattr(settings, "LEAVEN_RAPID_INCIDENT_DAYS", 90))
    with transaction.atomic():
        stale = IncidentReport.objects.filter(
            created_at__lt=now - dt.timedelta(days=contact_days), incident__legal_hold=False
        ).filter(~Q(reporter_contact="") | ~Q(sender_index=""))
        touched = set(stale.values_list("incident_id", flat=True))
        contacts = stale.update(reporter_contact="", sender_index="")
        Incident.objects.filter(pk__in=touched, contact_purged_at__isnull=True).update(
            contact_purged_at=now
        )
        old = list(
            Incident.objects.filter(
                created_at__lt=now - dt.timedelta(days=incident_days),
                legal_hold=False,
                reduced_at__isnull=True,
            ).values_list("pk", flat=True)
        )
        if old:
            IncidentReport.objects.filter(incident_id__in=old).delete()
            Alert.objects.filter(incident_id__in=old).delete()
            Ring.objects.filter(incident_id__in=old).delete()
            FollowUp.objects.filter(incident_id__in=old).delete()
            StateChange.objects.filter(incident_id__in=old).update(
                note="", actor=None, responder=None
            )
            Incident.objects.filter(pk__in=old).update(
                lat=None,
                lon=None,
                cross_streets="",
                description="",
                officers=None,
                reduced_at=now,
                contact_purged_at=now,
            )
        if contacts or old:
            audit_record(
                actor=None,
                actor_label="rapid.purge",
                verb="rapid.purged",
                detail={"contacts": contacts, "incidents": old},
            )
    return PurgeResult(contacts=contacts, incidents=len(old))

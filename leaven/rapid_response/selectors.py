"""Reads for rapid response, always scoped to the actor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from leaven.core import access, permissions
from leaven.core.audit import audit_record
from leaven.core.models import OrgUnit
from leaven.core.permissions import MATRIX
from leaven.core.selectors import deny, unit_list_for_actor
from leaven.geo.models import Jurisdiction
from leaven.people.models import Household, Person, PersonUnit, Phone
from leaven.people.selectors import person_get_for_actor
from leaven.rapid_response.models import Alert, Incident, IncidentReport, Responder


def incident_list_for_actor(*, actor: Any, open_only: bool = True) -> QuerySet[Incident]:
    """Incidents of the units where the actor holds rapid.view, with answer counts."""
    units = access.unit_ids_in_scope(actor, permissions.RAPID_VIEW)
    incidents = Incident.objects.filter(owner_unit_id__in=units)
    if open_only:
        incidents = incidents.filter(
            state__in=[Incident.State.REPORTED, Incident.State.VERIFYING, Incident.State.CONFIRMED]
        )
    return incidents.select_related("owner_unit").annotate(
        going=Count("alerts", filter=Q(alerts__ack=Alert.Ack.GOING, alerts__kind="respond")),
        cant=Count("alerts", filter=Q(alerts__ack=Alert.Ack.CANT, alerts__kind="respond")),
        alerted=Count("alerts", filter=Q(alerts__kind="respond")),
        report_count=Count("reports", distinct=True),
    )


def incident_get_for_actor(*, actor: Any, pk: int) -> Incident:
    """One incident; 404 (and an audited denial) when the actor may not see it."""
    incident = Incident.objects.select_related("owner_unit").filter(pk=pk).first()
    if incident is None:
        raise Http404
    if not access.can(actor, permissions.RAPID_VIEW, incident.owner_unit):
        raise deny(actor=actor, obj_type="incident", obj_id=pk, unit=incident.owner_unit)
    return incident


def incident_reports(*, actor: Any, incident: Incident) -> list[dict[str, Any]]:
    """The reports of an incident. The reporter's contact is shown only to dispatchers of
    the incident's unit (rapid.view_reporter), and each such read is audited."""
    access.require(actor, permissions.RAPID_VIEW, incident.owner_unit)
    may_read = access.can(actor, permissions.RAPID_VIEW_REPORTER, incident.owner_unit)
    rows = []
    shown = []
    for report in IncidentReport.objects.filter(incident=incident):
        contact = report.reporter_contact if may_read else ""
        if contact:
            shown.append(report.pk)
        rows.append(
            {
                "report": report,
                "contact": contact,
                "has_contact": bool(report.reporter_contact),
            }
        )
    if shown:
        audit_record(
            actor=actor,
            verb="rapid.reporter_viewed",
            obj=incident,
            unit=incident.owner_unit,
            detail={"reports": shown},
        )
    return rows


def incident_alerts(*, actor: Any, incident: Incident) -> QuerySet[Alert]:
    access.require(actor, permissions.RAPID_VIEW, incident.owner_unit)
    return (
        Alert.objects.filter(incident=incident)
        .select_related("responder__person", "ring")
        .order_by("kind", "ack", "id")
    )


def responder_list_for_actor(*, actor: Any) -> QuerySet[Responder]:
    units = access.unit_ids_in_scope(actor, permissions.RAPID_MANAGE_RESPONDERS)
    return Responder.objects.filter(owner_unit_id__in=units).select_related("person", "owner_unit")


class Consent:
    """Whether a responder's phones take round-the-clock urgent alerts, in a word."""

    READY = "ready"
    NO_URGENT = "no_urgent"
    OPTED_OUT = "opted_out"
    NO_CONSENT = "no_consent"
    NO_PHONE = "no_phone"


def consent_status(phones: list[Phone]) -> str:
    """The best state among a person's phones: ready when one takes texts and urgent alerts.
    An opt-out is shown as such, never changed here."""
    if not phones:
        return Consent.NO_PHONE
    texts = [p for p in phones if p.sms_status == Phone.SMSStatus.OPTED_IN]
    if any(p.urgent_alerts for p in texts):
        return Consent.READY
    if texts:
        return Consent.NO_URGENT
    if all(p.sms_status == Phone.SMSStatus.OPTED_OUT for p in phones):
        return Consent.OPTED_OUT
    return Consent.NO_CONSENT


@dataclass
class ResponderRow:
    responder: Responder
    consent: str
    precinct_name: str = ""


def responder_rows(*, actor: Any, unit: OrgUnit, active: bool = True) -> list[ResponderRow]:
    """The responders of a unit and the units below it, with the consent state of their
    phones. 404 (audited) when the actor may not manage the unit's responders."""
    if not access.can(actor, permissions.RAPID_MANAGE_RESPONDERS, unit):
        raise deny(actor=actor, obj_type="orgunit.responders", obj_id=unit.pk, unit=unit)
    responders = list(
        Responder.objects.filter(owner_unit__path__startswith=unit.path, active=active)
        .select_related("person", "owner_unit")
        .prefetch_related(Prefetch("person__phones", queryset=Phone.objects.order_by("pk")))
        .order_by("person__sort_name", "person__given_sort", "pk")
    )
    codes = {r.precinct for r in responders if r.precinct}
    names = dict(
        Jurisdiction.objects.filter(kind=Jurisdiction.Kind.PRECINCT, code__in=codes).values_list(
            "code", "name"
        )
    )
    return [
        ResponderRow(
            responder=r,
            consent=consent_status(list(r.person.phones.all())),
            precinct_name=names.get(r.precinct, r.precinct),
        )
        for r in responders
    ]


def responder_get_for_actor(*, actor: Any, pk: int) -> Responder:
    """One responder; 404 (and an audited denial) when the actor may not manage them."""
    responder = (
        Responder.objects.select_related("person", "owner_unit")
        .prefetch_related("person__phones")
        .filter(pk=pk)
        .first()
    )
    if responder is None:
        raise Http404
    if not access.can(actor, permissions.RAPID_MANAGE_RESPONDERS, responder.owner_unit):
        raise deny(actor=actor, obj_type="responder", obj_id=pk, unit=responder.owner_unit)
    return responder


def responder_candidates(*, actor: Any, unit: OrgUnit, q: str, limit: int = 20) -> list[Person]:
    """People of the unit (or a unit below it) the actor may see whose name starts with `q`,
    who are not on the unit's roster yet: the person picker."""
    from leaven.people.selectors import PersonFilters, person_list

    if not access.can(actor, permissions.RAPID_MANAGE_RESPONDERS, unit):
        raise deny(actor=actor, obj_type="orgunit.responders", obj_id=unit.pk, unit=unit)
    if not q.strip():
        return []
    page = person_list(
        actor=actor, filters=PersonFilters(q=q.strip(), unit=unit.pk), page_size=limit + 20
    )
    on_roster = set(
        Responder.objects.filter(
            owner_unit=unit, person_id__in=[p.pk for p in page.people]
        ).values_list("person_id", flat=True)
    )
    return [p for p in page.people if p.pk not in on_roster][:limit]


def responder_person_get(*, actor: Any, unit: OrgUnit, pk: int) -> Person:
    """A person picked for the roster: one the actor may see, in the unit or below; else 404."""
    person = person_get_for_actor(actor=actor, pk=pk)
    if not PersonUnit.objects.filter(person=person, unit__path__startswith=unit.path).exists():
        raise deny(actor=actor, obj_type="person", obj_id=pk, unit=unit)
    return person


def unit_precincts(*, unit: OrgUnit) -> list[tuple[str, str]]:
    """The precincts where people of the unit (and below) live, for a home-precinct select:
    (code, name)."""
    codes = (
        Household.objects.filter(
            residents__unit_links__unit__path__startswith=unit.path,
        )
        .exclude(precinct_code="")
        .values("precinct_code")
    )
    return list(
        Jurisdiction.objects.filter(kind=Jurisdiction.Kind.PRECINCT, code__in=codes)
        .order_by("code")
        .values_list("code", "name")
    )


def default_unit(*, actor: Any, permission: str, last: int | None = None) -> int | None:
    """The unit a form should start on: the last one used when the actor still holds the
    permission there, else the deepest unit the actor holds it on (their committee rather
    than the whole network)."""
    from leaven.core.models import OrgUnit

    units = list(unit_list_for_actor(actor=actor, permission=permission))
    if last is not None and any(u.pk == last for u in units):
        return last
    granted = {
        unit_id
        for role, _path, unit_id in access.roles_of(actor)
        if permission in MATRIX.get(role, frozenset())
    }
    held = [u for u in OrgUnit.objects.filter(pk__in=granted)]
    if not held:
        return units[0].pk if units else None
    return max(held, key=lambda u: (u.depth, -u.pk)).pk


def followup_owner_choices(*, incident: Incident) -> list[tuple[int, str]]:
    """Users who may see the incident (rapid.view on its unit or above), for a select."""
    from leaven.core.models import RoleAssignment

    roles = [role for role, allowed in MATRIX.items() if permissions.RAPID_VIEW in allowed]
    ids = [int(p) for p in incident.owner_unit.path.strip("/").split("/") if p]
    assignments = (
        RoleAssignment.objects.filter(unit_id__in=ids, role__in=roles)
        .select_related("user")
        .order_by("user__first_name", "user__email")
    )
    seen: dict[int, str] = {}
    for assignment in assignments:
        seen.setdefault(assignment.user_id, str(assignment.user))
    return list(seen.items())


def public_unit(*, slug: str) -> Any:
    """The unit a public report page belongs to: only one that takes public reports. A unit
    that does not answers 404 exactly like an unknown slug, so the page tells no one which
    units exist."""
    from leaven.core.models import OrgUnit

    unit = OrgUnit.objects.filter(slug=slug, takes_public_reports=True).first()
    if unit is None:
        raise Http404
    return unit


def alert_for_token(*, token: str) -> Alert:
    """The alert a signed link points at; 404 for a bad, unknown or expired link, or one
    sent to a responder no longer on the roster."""
    from leaven.rapid_response.services import alert_link_usable, alert_token_read

    read = alert_token_read(token)
    if read is None:
        raise Http404
    incident_id, responder_id, kind = read
    alert = (
        Alert.objects.filter(incident_id=incident_id, responder_id=responder_id, kind=kind)
        .select_related("incident__owner_unit", "responder")
        .first()
    )
    if alert is None or not alert_link_usable(alert):
        raise Http404
    return alert


def held_message_prefixes() -> list[str]:
    """The outbox key prefixes of the alerts about incidents under a legal hold: messaging
    keeps their texts for as long as the hold lasts."""
    held = Incident.objects.filter(legal_hold=True).values_list("pk", flat=True)
    return [f"rapid:{pk}:" for pk in held]


def held_answer_texts() -> Q:
    """The received texts that may answer an alert about an incident under a legal hold
    (from the alerted responder, while the alert could be answered): messaging keeps them
    for as long as the hold lasts."""
    from leaven.rapid_response.services import LINK_LIFETIME

    alerts = Alert.objects.filter(
        incident__legal_hold=True,
        kind=Alert.Kind.RESPOND,
        responder__person_id=OuterRef("person_id"),
        created_at__lte=OuterRef("received_at"),
        created_at__gte=OuterRef("received_at") - LINK_LIFETIME,
    )
    return Q(Exists(alerts))

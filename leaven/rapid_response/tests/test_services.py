"""Rapid-response services: intake and grouping, state changes and who may make them,
verifier requests, the fan-out to responders, answers, escalation rings and hand-off."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from leaven.core.models import AuditEvent
from leaven.messaging.models import OutboxMessage, SmsSuppression
from leaven.rapid_response import services
from leaven.rapid_response.models import Alert, Incident, IncidentReport, Ring

from .conftest import PILSEN

pytestmark = pytest.mark.django_db


def _token(message: OutboxMessage) -> str:
    return str(message.body).rsplit("/rapid/a/", 1)[1].strip("/")


def test_report_opens_an_incident_with_a_cell_and_a_timeline(report, tree):
    """A public report opens an incident in the unit with its H3 cell and a first step."""
    incident = report(contact="+13125550199", description="two vans")
    assert incident.owner_unit == tree.committee_a
    assert incident.state == Incident.State.REPORTED
    assert incident.cell == services.cell_of(*PILSEN)
    assert list(incident.changes.values_list("to_state", flat=True)) == ["reported"]
    stored = IncidentReport.objects.get(incident=incident)
    assert stored.reporter_contact == "+13125550199"
    raw = (
        IncidentReport.objects.filter(pk=stored.pk)
        .annotate(raw=Cast("reporter_contact", output_field=TextField()))
        .values_list("raw", flat=True)
    )
    assert "5550199" not in raw[0]


def test_reports_near_in_place_and_time_are_grouped(report):
    """A second report 200 m away an hour later joins the first incident; one 3 km away or
    three hours later opens another."""
    now = timezone.now()
    first = report(now=now)
    same = report(lat=PILSEN[0] + 0.0018, now=now + dt.timedelta(hours=1))
    far = report(lat=PILSEN[0] + 0.03, now=now + dt.timedelta(hours=1))
    later = report(now=now + dt.timedelta(hours=4))
    assert same.pk == first.pk
    assert far.pk != first.pk
    assert later.pk not in (first.pk, far.pk)
    assert first.reports.count() == 2


def test_cross_streets_group_without_a_pin(report):
    """Reports without a pin are grouped by the same cross streets, case and spaces aside."""
    one = report(lat=None, lon=None, cross_streets="18th & Blue Island")
    two = report(lat=None, lon=None, cross_streets="18TH  &  blue island")
    assert one.pk == two.pk


def test_report_needs_a_place_and_a_kind(report):
    """No pin and no cross streets, or an unknown kind, is refused with the field named."""
    with pytest.raises(ValidationError) as error:
        report(lat=None, lon=None)
    assert "cross_streets" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        report(type="party")
    assert "type" in error.value.message_dict


def test_public_reports_are_rate_limited_per_sender(tree):
    """The sixth report from one sender within ten minutes is refused."""
    now = timezone.now()
    data = services.ReportInput(
        type="sweep", seen_at=now, lat=None, lon=None, cross_streets="Cermak & Halsted"
    )
    for _ in range(services.RATE_LIMIT):
        services.report_submit(actor=None, unit=tree.committee_a, data=data, sender="1.2.3.4")
    with pytest.raises(ValidationError):
        services.report_submit(actor=None, unit=tree.committee_a, data=data, sender="1.2.3.4")
    services.report_submit(actor=None, unit=tree.committee_a, data=data, sender="5.6.7.8")
    # The limit is per committee: the same address can still report to another one.
    services.report_submit(actor=None, unit=tree.committee_b, data=data, sender="1.2.3.4")


def test_a_later_public_report_cannot_change_a_confirmed_incident(
    report, dispatcher, make_responder
):
    """Once verification has begun, a later report joins the incident but does not set its
    place, so text typed by the public afterwards never reaches the responders' alerts."""
    make_responder(0.5)
    incident = report()
    services.incident_set_state(actor=dispatcher, incident=incident, state="verifying")
    report(cross_streets="URGENT go to evil dot example, call them")
    incident.refresh_from_db()
    assert incident.reports.count() == 2
    assert incident.cross_streets == ""
    services.incident_set_state(actor=dispatcher, incident=incident, state="confirmed")
    body = OutboxMessage.objects.get(idempotency_key__endswith=":respond").body
    assert "evil" not in body and f"{PILSEN[0]:.4f}" in body


def test_links_and_numbers_never_reach_an_alert_text():
    """A place typed with a link or a phone number goes out without them."""
    incident = Incident(
        cross_streets="Cermak & Halsted https://evil.example/x www.bad.example.com "
        "bit.ly/abc +1 (312) 555-0000",
        lat=None,
        lon=None,
    )
    assert services._place(incident) == "Cermak & Halsted"


def test_hotline_needs_dispatch(tree, dispatcher, coordinator):
    """A dispatcher takes a hotline call for the unit; a coordinator cannot."""
    data = services.ReportInput(type="sweep", seen_at=timezone.now(), cross_streets="A & B")
    incident = services.report_submit(
        actor=dispatcher, unit=tree.committee_a, data=data, source="hotline"
    )
    assert incident.reports.get().taken_by == dispatcher
    with pytest.raises(ValidationError):
        services.report_submit(
            actor=coordinator, unit=tree.committee_a, data=data, source="hotline"
        )


def test_only_dispatchers_change_state(report, dispatcher, dispatcher_b, coordinator):
    """A dispatcher of the unit moves the incident, with who and a note in the timeline; a
    dispatcher of another committee and a coordinator cannot; a disallowed move is refused."""
    incident = report()
    for other in (dispatcher_b, coordinator):
        with pytest.raises(ValidationError):
            services.incident_set_state(actor=other, incident=incident, state="closed")
    services.incident_set_state(
        actor=dispatcher, incident=incident, state="false_alarm", note="a delivery truck"
    )
    step = incident.changes.last()
    assert (step.to_state, step.actor, step.note) == ("false_alarm", dispatcher, "a delivery truck")
    with pytest.raises(ValidationError):
        services.incident_set_state(actor=dispatcher, incident=incident, state="confirmed")


def test_nearest_verifiers_are_asked_by_text(report, dispatcher, make_responder):
    """The nearest on-call verifiers with urgent consent get a text with a signed link; a
    verifier without consent, one off call and one farther away are left out."""
    near = make_responder(0.5, skills=["verifier"], language="es")
    make_responder(1.0, skills=["verifier"], urgent=False)
    make_responder(
        0.2, skills=["verifier"], windows=[{"days": [], "start": "03:00", "end": "03:01"}]
    )
    farther = make_responder(2.0, skills=["verifier"])
    farthest = make_responder(9.0, skills=["verifier"])
    make_responder(0.1, skills=["driver"])
    incident = report()
    alerts = services.verifiers_request(actor=dispatcher, incident=incident, count=2)
    assert [a.responder_id for a in alerts] == [near.pk, farther.pk]
    incident.refresh_from_db()
    assert incident.state == Incident.State.VERIFYING
    message = OutboxMessage.objects.get(idempotency_key=alerts[0].message_key)
    assert message.urgent and message.language == "es"
    assert "verifique" in message.body
    # A double click moments later texts nobody more; a few minutes later the next ones.
    with pytest.raises(ValidationError):
        services.verifiers_request(actor=dispatcher, incident=incident, count=2)
    later = timezone.now() + dt.timedelta(minutes=4)
    again = services.verifiers_request(actor=dispatcher, incident=incident, count=2, now=later)
    assert [a.responder_id for a in again] == [farthest.pk]


def test_verifier_confirms_through_their_link_and_responders_are_alerted(
    report, dispatcher, make_responder
):
    """A verifier's link confirms the incident; on-call responders within the type's radius
    with urgent consent get one urgent text each in their language; nobody else."""
    verifier = make_responder(0.3, skills=["verifier"])
    es = make_responder(1.0, language="es")
    en = make_responder(2.0)
    make_responder(1.5, urgent=False)
    make_responder(30.0)
    opted_out = make_responder(1.2)
    SmsSuppression.objects.create(
        number_index=opted_out.person.phones.get().number_index, language="en"
    )
    incident = report(type="checkpoint")
    services.verifiers_request(actor=dispatcher, incident=incident)
    token = services.alert_token(incident_id=incident.pk, responder_id=verifier.pk, kind="verify")
    services.verifier_decide(token=token, state="confirmed", note="seen it")
    incident.refresh_from_db()
    assert incident.state == Incident.State.CONFIRMED
    assert incident.changes.last().responder == verifier
    alerted = set(
        Alert.objects.filter(incident=incident, kind="respond").values_list(
            "responder_id", flat=True
        )
    )
    assert alerted == {es.pk, en.pk, verifier.pk}
    ring = Ring.objects.get(incident=incident)
    assert (ring.number, ring.alerted, ring.radius_km) == (1, 3, 4.0)
    es_message = OutboxMessage.objects.get(idempotency_key=f"rapid:{incident.pk}:{es.pk}:respond")
    assert es_message.urgent and es_message.language == "es"
    assert "confirmado" in es_message.body
    assert es_message.destination == es.person.phones.get().number


def test_a_verifier_link_cannot_close_or_act_on_another_incident(
    report, dispatcher, make_responder
):
    """A verifier decides only a verdict, and only on the incident they were asked about."""
    verifier = make_responder(0.3, skills=["verifier"])
    incident = report()
    other = report(lat=PILSEN[0] + 0.2)
    services.verifiers_request(actor=dispatcher, incident=incident)
    token = services.alert_token(incident_id=incident.pk, responder_id=verifier.pk, kind="verify")
    with pytest.raises(ValidationError):
        services.verifier_decide(token=token, state="closed")
    forged = services.alert_token(incident_id=other.pk, responder_id=verifier.pk, kind="verify")
    with pytest.raises(ValidationError):
        services.verifier_decide(token=forged, state="confirmed")
    with pytest.raises(ValidationError):
        services.verifier_decide(token=token + "x", state="confirmed")


def test_answers_and_escalation(report, dispatcher, make_responder, tree):
    """Two answer "going" through their links; with three needed, the next ring starts only
    after the wait, reaches farther responders once, and running the job again adds nothing.
    The third ring reaches the parent unit's committees."""
    near = [make_responder(0.5 + i * 0.1) for i in range(3)]
    wider = make_responder(6.0)
    neighbour = make_responder(0.4, unit=tree.committee_b)
    incident = report(type="checkpoint")
    start = timezone.now()
    services.incident_set_state(actor=dispatcher, incident=incident, state="confirmed", now=start)
    messages = OutboxMessage.objects.filter(idempotency_key__startswith=f"rapid:{incident.pk}:")
    assert messages.count() == 3
    for responder in near[:2]:
        message = messages.get(idempotency_key=f"rapid:{incident.pk}:{responder.pk}:respond")
        services.alert_answer(token=_token(message), answer="going")
    services.alert_answer(token=_token(messages.get(person=near[2].person)), answer="cant")
    assert services.escalate_due(now=start + dt.timedelta(minutes=5)) == []
    rings = services.escalate_due(now=start + dt.timedelta(minutes=11))
    assert [r.number for r in rings] == [2]
    assert rings[0].alerted == 1
    assert Alert.objects.get(incident=incident, ring=rings[0]).responder == wider
    assert services.escalate_due(now=start + dt.timedelta(minutes=11)) == []
    third = services.escalate_due(now=start + dt.timedelta(minutes=22))
    assert third[0].unit == tree.region
    assert Alert.objects.get(incident=incident, ring=third[0]).responder == neighbour
    assert Alert.objects.filter(incident=incident).count() == 5
    assert messages.count() == 5


def test_enough_answers_stop_escalation(report, dispatcher, make_responder):
    """When as many say "going" as are needed, no next ring starts."""
    responders = [make_responder(0.5) for _ in range(3)]
    incident = report()
    start = timezone.now()
    services.incident_set_state(actor=dispatcher, incident=incident, state="confirmed", now=start)
    for responder in responders:
        message = OutboxMessage.objects.get(
            idempotency_key=f"rapid:{incident.pk}:{responder.pk}:respond"
        )
        services.alert_answer(token=_token(message), answer="going")
    assert services.escalate_due(now=start + dt.timedelta(hours=1)) == []


def test_answer_with_a_bad_link_is_refused(report):
    """A tampered link is refused."""
    with pytest.raises(ValidationError):
        services.alert_answer(token="1.2.r:nope", answer="going")


def test_followup_needs_an_owner_who_can_see_it(report, dispatcher, coordinator):
    """A dispatcher hands an incident to a follow-up owned by someone with rapid.view."""
    incident = report()
    follow_up = services.followup_create(
        actor=dispatcher, incident=incident, owner=dispatcher, title="Call the family"
    )
    assert follow_up.owner == dispatcher
    with pytest.raises(ValidationError):
        services.followup_create(actor=dispatcher, incident=incident, owner=coordinator, title="x")
    services.followup_set_done(actor=dispatcher, follow_up=follow_up)
    follow_up.refresh_from_db()
    assert follow_up.done


def test_responder_keeps_only_a_coarse_cell(make_responder):
    """A responder's point is reduced to its H3 cell centre."""
    responder = make_responder(0.123)
    assert services.cell_centre(responder.cell) == (responder.lat, responder.lon)


def test_on_call_windows_run_past_midnight():
    """A 22:00-06:00 window covers 23:00 that day and 05:00 the next morning."""
    window = [{"days": [4], "start": "22:00", "end": "06:00"}]
    friday_night = dt.datetime(2026, 11, 20, 23, 0, tzinfo=dt.UTC)
    saturday_morning = dt.datetime(2026, 11, 21, 5, 0, tzinfo=dt.UTC)
    saturday_noon = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
    assert services.on_call(window, friday_night)
    assert services.on_call(window, saturday_morning)
    assert not services.on_call(window, saturday_noon)


# --------------------------------------------------------------------------- the roster


def test_responder_save_by_precinct_keeps_the_cell_of_a_point_inside_it(
    make_person, tree, dispatcher, pilsen_precinct
):
    """A home precinct becomes the H3 cell of a point inside it; the code is kept."""
    import json

    from shapely.geometry import shape

    precinct, household = pilsen_precinct
    person = make_person(given_name="Lucía", household=household)
    responder = services.responder_save(
        actor=dispatcher,
        person=person,
        unit=tree.committee_a,
        precinct=precinct.code,
        skills=["driver", "bogus"],
        languages=["es"],
    )
    assert responder.precinct == "25-007"
    assert responder.skills == ["driver"]
    assert services.cell_centre(responder.cell) == (responder.lat, responder.lon)
    inside = shape(json.loads(precinct.boundary)).representative_point()
    assert responder.cell == services.cell_of(inside.y, inside.x)


def test_responder_save_needs_an_area_and_a_person_of_the_unit(make_person, tree, dispatcher):
    """No precinct and no point is refused; so is a person of another committee."""
    person = make_person()
    with pytest.raises(ValidationError) as exc:
        services.responder_save(actor=dispatcher, person=person, unit=tree.committee_a)
    assert "precinct" in exc.value.message_dict
    stranger = make_person(tree.committee_b)
    with pytest.raises(ValidationError) as exc:
        services.responder_save(
            actor=dispatcher, person=stranger, unit=tree.committee_a, lat=PILSEN[0], lon=PILSEN[1]
        )
    assert "person" in exc.value.message_dict


def test_responder_save_checks_windows_and_permission(make_person, tree, dispatcher, dispatcher_b):
    """Windows need days and HH:MM times; a dispatcher of another committee is refused."""
    person = make_person()
    point: dict[str, Any] = {"lat": PILSEN[0], "lon": PILSEN[1]}
    with pytest.raises(ValidationError):
        services.responder_save(
            actor=dispatcher,
            person=person,
            unit=tree.committee_a,
            windows=[{"days": [9], "start": "08:00", "end": "17:00"}],
            **point,
        )
    with pytest.raises(ValidationError):
        services.responder_save(
            actor=dispatcher,
            person=person,
            unit=tree.committee_a,
            windows=[{"days": [1], "start": "8am", "end": "17:00"}],
            **point,
        )
    with pytest.raises(ValidationError):
        services.responder_save(actor=dispatcher_b, person=person, unit=tree.committee_a, **point)
    responder = services.responder_save(
        actor=dispatcher,
        person=person,
        unit=tree.committee_a,
        windows=[{"days": ["5", 6], "start": "22:00", "end": "06:00"}],
        **point,
    )
    assert responder.windows == [{"days": [5, 6], "start": "22:00", "end": "06:00"}]
    assert responder.languages == [person.language]


def test_deactivated_responder_gets_no_alert(report, dispatcher, make_responder):
    """Deactivating takes a responder out of the fan-out, with an audit event."""
    from leaven.core.models import AuditEvent

    kept, dropped = make_responder(0.3), make_responder(0.4)
    services.responder_set_active(actor=dispatcher, responder=dropped, active=False)
    assert AuditEvent.objects.filter(verb="rapid.responder_active").exists()
    incident = report()
    services.incident_set_state(actor=dispatcher, incident=incident, state="confirmed")
    assert set(Alert.objects.values_list("responder_id", flat=True)) == {kept.pk}


def test_dispatcher_of_another_committee_cannot_deactivate(dispatcher_b, make_responder):
    """Only those who manage the unit's responders take one off the roster."""
    responder = make_responder(0.3)
    with pytest.raises(ValidationError):
        services.responder_set_active(actor=dispatcher_b, responder=responder, active=False)
    responder.refresh_from_db()
    assert responder.active


def test_radius_query_is_exact_at_any_latitude_and_ring(tree):
    """The SQL radius condition returns exactly the points a haversine check over every row
    keeps, for first rings and the widest, in the south and far north, including points
    placed right at the edge."""
    import math
    import random

    from django.db import connection

    rng = random.Random(7)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE rapid_points "
            "(id INTEGER PRIMARY KEY, lat DOUBLE PRECISION, lon DOUBLE PRECISION)"
        )
        for centre_lat, centre_lon, km in (
            (25.76, -80.19, 2.0),
            (41.8565, -87.6594, 4.0),
            (47.6, -122.3, 32.0),
            (61.2, -149.9, 16.0),
        ):
            cursor.execute("DELETE FROM rapid_points")
            rows = []
            for i in range(3000):
                # Half spread over twice the radius, half within 0.5% of the edge.
                d = rng.uniform(0, 2 * km) if i % 2 else km * rng.uniform(0.995, 1.005)
                bearing = rng.uniform(0, 2 * math.pi)
                lat = centre_lat + d * math.cos(bearing) / 111.2
                lon = centre_lon + d * math.sin(bearing) / (111.2 * math.cos(math.radians(lat)))
                rows.append((i + 1, lat, lon))
            cursor.executemany("INSERT INTO rapid_points (id, lat, lon) VALUES (%s, %s, %s)", rows)
            sql, params = services.radius_condition(
                lat=centre_lat, lon=centre_lon, km=km, table="rapid_points"
            )
            cursor.execute(f"SELECT id FROM rapid_points WHERE {sql}", params)  # noqa: S608
            found = sorted(r[0] for r in cursor.fetchall())
            brute = sorted(
                i
                for i, lat, lon in rows
                if services.haversine_km(centre_lat, centre_lon, lat, lon) <= km
            )
            assert found == brute, (centre_lat, km)
            assert 0 < len(found) < len(rows)
        cursor.execute("DROP TABLE rapid_points")


def test_alert_goes_in_a_language_the_responder_speaks(
    report, dispatcher, make_responder, make_person, tree
):
    """The person's language when the responder speaks it, else one they do speak."""
    from leaven.people.models import Person

    bilingual = make_responder(0.2, language="es")
    services.responder_save(
        actor=dispatcher,
        person=bilingual.person,
        unit=tree.committee_a,
        lat=bilingual.lat,
        lon=bilingual.lon,
        languages=["en", "es"],
    )
    english_only = make_responder(0.3, language="es")
    services.responder_save(
        actor=dispatcher,
        person=english_only.person,
        unit=tree.committee_a,
        lat=english_only.lat,
        lon=english_only.lon,
        languages=["en"],
    )
    assert Person.objects.get(pk=english_only.person_id).language == "es"
    incident = report()
    services.incident_set_state(actor=dispatcher, incident=incident, state="confirmed")
    by_person = {m.person_id: m.language for m in OutboxMessage.objects.all()}
    assert by_person == {bilingual.person_id: "es", english_only.person_id: "en"}
    english = OutboxMessage.objects.get(person=english_only.person)
    assert "Can you go?" in str(english.body)
    assert services.alert_language("es", [], "en") == "es"
    assert services.alert_language("fr", [], "es") == "es"


def test_responders_answer_by_texting_1_or_2(report, dispatcher, make_responder):
    """A responder who texts back "1" (or "voy") is going, "2" can't; the text names the
    codes; a repeat changes nothing, and other texts stay ordinary replies."""
    from leaven.messaging.models import InboundMessage
    from leaven.messaging.services import inbound_receive

    going, cant, chatty = (make_responder(0.5 + i * 0.1) for i in range(3))
    incident = report()
    services.incident_set_state(actor=dispatcher, incident=incident, state="confirmed")
    alert_text = OutboxMessage.objects.get(
        idempotency_key=f"rapid:{incident.pk}:{going.pk}:respond"
    ).body
    assert "Reply 1 if you are going, 2 if you can't" in alert_text

    inbound_receive(message_sid="SM1", from_number="+13125550001", body=" Voy! ")
    inbound_receive(message_sid="SM2", from_number="+13125550002", body="2")
    inbound_receive(message_sid="SM3", from_number="+13125550003", body="on my way, 5 min")
    inbound_receive(message_sid="SM4", from_number="+13125550001", body="1")

    acks = dict(Alert.objects.filter(incident=incident).values_list("responder_id", "ack"))
    assert acks == {going.pk: "going", cant.pk: "cant", chatty.pk: "pending"}
    assert AuditEvent.objects.filter(verb="rapid.acknowledged").count() == 2
    assert InboundMessage.objects.get(message_sid="SM3").kind == InboundMessage.Kind.REPLY
    # The answers need no answer from anyone: handled as they arrive.
    for sid in ("SM1", "SM2", "SM4"):
        message = InboundMessage.objects.get(message_sid=sid)
        assert message.kind == InboundMessage.Kind.ANSWER and message.handled_at is not None
    assert AuditEvent.objects.filter(verb="sms.answer").count() == 3
    assert AuditEvent.objects.filter(verb="sms.reply").count() == 1


def test_a_text_answer_needs_an_open_recent_alert(report, dispatcher, make_responder):
    """A "1" after the incident is closed, or with no alert, is an ordinary reply."""
    from leaven.messaging.services import inbound_receive

    responder = make_responder(0.5)
    incident = report()
    services.incident_set_state(actor=dispatcher, incident=incident, state="confirmed")
    services.incident_set_state(actor=dispatcher, incident=incident, state="closed")
    inbound_receive(message_sid="SM9", from_number="+13125550001", body="1")
    assert Alert.objects.get(incident=incident, responder=responder).ack == "pending"


def test_a_verifier_link_answers_once_and_only_while_verification_waits(
    report, dispatcher, make_responder
):
    """A verifier's link gives one verdict; once a dispatcher has settled the incident an old
    link cannot confirm it (and so cannot alert anyone)."""
    verifier = make_responder(0.3, skills=["verifier"])
    make_responder(0.6)
    incident = report()
    services.verifiers_request(actor=dispatcher, incident=incident)
    token = services.alert_token(incident_id=incident.pk, responder_id=verifier.pk, kind="verify")
    services.verifier_decide(token=token, state="unconfirmed")
    with pytest.raises(ValidationError):
        services.verifier_decide(token=token, state="confirmed")
    incident.refresh_from_db()
    assert incident.state == Incident.State.UNCONFIRMED
    assert not Alert.objects.filter(incident=incident, kind="respond").exists()


def test_links_expire_and_stop_with_the_responder(report, dispatcher, make_responder):
    """An alert link works for 12 hours and only while the responder is on the roster."""
    from django.http import Http404

    from leaven.rapid_response import selectors

    kept, removed = make_responder(0.5), make_responder(0.6)
    incident = report()
    services.incident_set_state(actor=dispatcher, incident=incident, state="confirmed")
    kept_token = services.alert_token(incident_id=incident.pk, responder_id=kept.pk, kind="r")
    gone_token = services.alert_token(incident_id=incident.pk, responder_id=removed.pk, kind="r")
    services.responder_set_active(actor=dispatcher, responder=removed, active=False)
    with pytest.raises(ValidationError):
        services.alert_answer(token=gone_token, answer="going")
    with pytest.raises(Http404):
        selectors.alert_for_token(token=gone_token)
    later = timezone.now() + dt.timedelta(hours=13)
    with pytest.raises(ValidationError):
        services.alert_answer(token=kept_token, answer="going", now=later)
    assert services.alert_answer(token=kept_token, answer="going").ack == "going"

"""The messaging pages: segments with a live count, broadcast compose/preview/test/send,
status, inbox, review; every record of another committee is a 404."""

from __future__ import annotations

import pytest
from django.core import mail

from leaven.messaging import services
from leaven.messaging.models import Broadcast, InboundMessage, OutboxMessage, Segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment(organizer, tree):
    return services.segment_create(
        actor=organizer,
        owner_unit=tree.committee_a,
        name="Spanish speakers",
        conditions={"kind": "language", "value": ["es"]},
    )


@pytest.fixture
def broadcast(organizer, segment):
    return services.broadcast_create(
        actor=organizer,
        segment=segment,
        channel="email",
        name="Assembly",
        templates={
            "en": {"subject": "Assembly", "body": "Hi {first_name}"},
            "es": {"subject": "Asamblea", "body": "Hola {first_name}"},
        },
    )


@pytest.fixture
def inbound(add_person):
    person = add_person(phone="+13125550123")
    return services.inbound_receive(
        message_sid="SM1", from_number="+13125550123", body="See you Saturday"
    ).message, person


def _segment_post(tree, **extra):
    data = {
        "name": "Volunteers",
        "owner_unit": tree.committee_a.pk,
        "match": "and",
        "stages": ["volunteer"],
        "consent": "email",
    }
    data.update(extra)
    return data


def test_segment_live_count(client_for, organizer, tree, add_person):
    add_person(email="a@example.org", stage="volunteer")
    add_person(email="b@example.org", stage="leader")
    add_person(stage="volunteer")  # no email: fails the consent condition
    response = client_for(organizer).post("/messaging/segments/count/", _segment_post(tree))
    assert response.status_code == 200
    assert "1 person matches now." in response.content.decode()


def test_segment_create_and_edit(client_for, organizer, tree):
    c = client_for(organizer)
    response = c.post("/messaging/segments/new/", _segment_post(tree, precincts="12, 14"))
    assert response.status_code == 302
    segment = Segment.objects.get()
    assert {"kind": "precinct", "value": ["12", "14"]} in segment.conditions["children"][0][
        "children"
    ]
    page = c.get(f"/messaging/segments/{segment.pk}/").content.decode()
    assert 'value="12, 14"' in page


def test_segment_without_name_keeps_the_input(client_for, organizer, tree):
    response = client_for(organizer).post(
        "/messaging/segments/new/", _segment_post(tree, name="", wards="25")
    )
    assert response.status_code == 200
    assert 'value="25"' in response.content.decode()
    assert Segment.objects.count() == 0


def test_compose_preview_test_send_and_send(client_for, organizer, tree, segment, add_person):
    add_person(email="ana@example.org", language="es", given_name="Ana")
    c = client_for(organizer)
    response = c.post(
        "/messaging/broadcasts/new/",
        {
            "name": "Assembly",
            "segment": segment.pk,
            "channel": "email",
            "subject_en": "Assembly",
            "body_en": "Hi {first_name}",
            "subject_es": "Asamblea",
            "body_es": "Hola {first_name}",
        },
    )
    broadcast = Broadcast.objects.get()
    assert response.status_code == 302
    preview = c.get(f"/messaging/broadcasts/{broadcast.pk}/preview/?language=es").content.decode()
    assert "Asamblea" in preview and "Hola María" in preview
    c.post(f"/messaging/broadcasts/{broadcast.pk}/test/", {"language": "es"})
    assert OutboxMessage.objects.get(kind="test").destination == "organizer@example.org"
    response = c.post(f"/messaging/broadcasts/{broadcast.pk}/send/")
    assert response.status_code == 302
    services.outbox_drain(channel="email")
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.org", "organizer@example.org"]
    status = c.get(f"/messaging/broadcasts/{broadcast.pk}/").content.decode()
    assert 'id="count-sent">1<' in status


def test_email_without_subject_is_refused_and_keeps_the_text(client_for, organizer, segment):
    response = client_for(organizer).post(
        "/messaging/broadcasts/new/",
        {
            "name": "Assembly",
            "segment": segment.pk,
            "channel": "email",
            "body_en": "Hi there",
        },
    )
    assert response.status_code == 200
    assert "Every email needs a subject." in response.content.decode()
    assert "Hi there" in response.content.decode()


def test_schedule_in_the_past_is_refused(client_for, organizer, broadcast):
    response = client_for(organizer).post(
        f"/messaging/broadcasts/{broadcast.pk}/schedule/", {"scheduled_at": "2001-01-01T10:00"}
    )
    assert response.status_code == 400
    broadcast.refresh_from_db()
    assert broadcast.state == "draft"


def test_inbox_reply_and_review(client_for, organizer, inbound, settings):
    message, person = inbound
    c = client_for(organizer)
    assert "See you Saturday" in c.get("/messaging/inbox/").content.decode()
    response = c.post(f"/messaging/inbox/{message.pk}/", {"body": "Great, see you!"})
    assert response.status_code == 302
    reply = OutboxMessage.objects.get(kind="direct")
    assert reply.body == "Great, see you!" and reply.person == person
    review = services.inbound_receive(
        message_sid="SM2", from_number="+13125550123", body="we must STOP the raids"
    ).message
    assert "we must STOP the raids" in c.get("/messaging/review/").content.decode()
    c.post(f"/messaging/review/{review.pk}/", {"decision": "opt_out"})
    review.refresh_from_db()
    assert review.review == InboundMessage.Review.OPTED_OUT
    assert person.phones.get().sms_status == "opted_out"


@pytest.mark.parametrize(
    ("language", "label", "not_answered"),
    [
        ("en", "Answer to an alert", ">not answered<"),
        ("es", "Respuesta a una alerta", ">sin respuesta<"),
    ],
)
def test_inbox_shows_an_answer_to_an_alert_as_handled(
    client_for, organizer, inbound, language, label, not_answered
):
    """A text that another part of Leaven acted on when it arrived (a responder's "1" to an
    alert) is labelled as such in the inbox, in the reader's language, with no "not
    answered" badge asking someone to reply."""
    message, _person = inbound
    InboundMessage.objects.filter(pk=message.pk).update(
        kind=InboundMessage.Kind.ANSWER, handled_at=message.received_at
    )
    c = client_for(organizer)
    c.cookies["django_language"] = language
    inbox = c.get("/messaging/inbox/").content.decode()
    assert label in inbox and "See you Saturday" in inbox
    assert not_answered not in inbox


def test_viewer_has_no_messaging(client_for, viewer, broadcast):
    c = client_for(viewer)
    assert c.get("/messaging/").status_code == 404
    assert c.get(f"/messaging/broadcasts/{broadcast.pk}/").status_code == 404


def test_outsider_gets_404_everywhere(client_for, outsider, segment, broadcast, inbound):
    message, _person = inbound
    c = client_for(outsider)
    for url in (
        f"/messaging/segments/{segment.pk}/",
        f"/messaging/broadcasts/{broadcast.pk}/",
        f"/messaging/broadcasts/{broadcast.pk}/preview/?language=es",
        f"/messaging/inbox/{message.pk}/",
    ):
        assert c.get(url).status_code == 404, url
    for url in (
        f"/messaging/broadcasts/{broadcast.pk}/send/",
        f"/messaging/broadcasts/{broadcast.pk}/test/",
        f"/messaging/review/{message.pk}/",
        f"/messaging/broadcasts/{broadcast.pk}/cancel/",
    ):
        assert c.post(url).status_code == 404, url
    assert c.get(f"/messaging/broadcasts/{broadcast.pk}/cancel/").status_code == 404
    assert "Spanish speakers" not in c.get("/messaging/segments/").content.decode()
    assert "Assembly" not in c.get("/messaging/").content.decode()
    assert "Saturday" not in c.get("/messaging/inbox/").content.decode()
    assert OutboxMessage.objects.count() == 0
    # Counting with the other committee's unit gives nothing away.
    response = c.post("/messaging/segments/count/", {"owner_unit": segment.owner_unit_id})
    assert "match" not in response.content.decode()


def test_texts_show_on_the_persons_page(client_for, organizer, inbound):
    _message, person = inbound
    page = client_for(organizer).get(f"/people/{person.pk}/").content.decode()
    assert "Texts from this person" in page and "See you Saturday" in page


def test_cancel_page_explains_then_cancels(client_for, organizer, broadcast, add_person):
    """The page says what will be withdrawn and what stays sent; confirming cancels."""
    for i in range(3):
        add_person(email=f"p{i}@example.org", language="es")
    services.broadcast_queue(actor=organizer, broadcast=broadcast)
    services.outbox_process(channel="email", limit=1)
    c = client_for(organizer)
    detail = c.get(f"/messaging/broadcasts/{broadcast.pk}/").content.decode()
    assert f"/messaging/broadcasts/{broadcast.pk}/cancel/" in detail
    page = c.get(f"/messaging/broadcasts/{broadcast.pk}/cancel/").content.decode()
    assert "2 messages have not been sent yet and will be withdrawn." in page
    assert "1 message was already sent and stays sent." in page
    response = c.post(f"/messaging/broadcasts/{broadcast.pk}/cancel/", follow=True)
    assert "2 messages were withdrawn; 1 already sent stay sent." in response.content.decode()
    assert 'id="count-withdrawn">2<' in response.content.decode()
    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.CANCELLED
    # Again: refused with a clear message, nothing changes.
    again = c.post(f"/messaging/broadcasts/{broadcast.pk}/cancel/")
    assert again.status_code == 400
    assert "Only a scheduled broadcast" in again.content.decode()


def test_cancel_page_in_spanish(client_for, organizer, broadcast, add_person):
    from datetime import timedelta

    from django.utils import timezone

    services.broadcast_schedule(
        actor=organizer, broadcast=broadcast, at=timezone.now() + timedelta(days=1)
    )
    c = client_for(organizer)
    c.cookies["django_language"] = "es"
    page = c.get(f"/messaging/broadcasts/{broadcast.pk}/cancel/").content.decode()
    assert "Cancelar el envío" in page or "Cancelar este envío" in page


def test_compose_with_an_event_link(client_for, organizer, tree, segment):
    from datetime import timedelta

    from django.utils import timezone

    from leaven.events.models import Event

    start = timezone.now() + timedelta(days=2)
    event = Event.objects.create(
        owner_unit=tree.committee_a,
        slug="asamblea-pilsen",
        title_en="Assembly",
        title_es="Asamblea",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
    )
    c = client_for(organizer)
    form = c.get("/messaging/broadcasts/new/").content.decode()
    assert f'value="{event.pk}"' in form
    post = {
        "name": "Assembly",
        "segment": segment.pk,
        "channel": "email",
        "subject_es": "Asamblea",
        "body_es": "Confirme aquí: {event_link}",
    }
    missing = c.post("/messaging/broadcasts/new/", post)
    assert missing.status_code == 200
    assert "Choose the event that {event_link} points to." in missing.content.decode()
    assert "Confirme aquí: {event_link}" in missing.content.decode()
    response = c.post("/messaging/broadcasts/new/", {**post, "event": event.pk})
    broadcast = Broadcast.objects.get()
    assert response.status_code == 302 and broadcast.event == event
    preview = c.get(f"/messaging/broadcasts/{broadcast.pk}/preview/?language=es").content.decode()
    assert "Confirme aquí: http://testserver/e/asamblea-pilsen/" in preview


def test_segment_form_with_membership_and_events(client_for, organizer, tree, add_person):
    """Membership and attendance conditions are saved, shown again, and counted live."""
    from datetime import timedelta

    from django.utils import timezone

    from leaven.events.models import RSVP, Event
    from leaven.membership.models import Membership, Tier

    ana = add_person(email="ana@example.org", given_name="Ana")
    add_person(email="bo@example.org", given_name="Bo")
    tier = Tier.objects.create(
        owner_unit=tree.committee_a, name_en="Standard", name_es="Normal", amount_cents=2000
    )
    Membership.objects.create(
        person=ana, owner_unit=tree.committee_a, tier=tier, amount_cents=2000, status="active"
    )
    start = timezone.now() - timedelta(days=5)
    event = Event.objects.create(
        owner_unit=tree.committee_a,
        slug="junta",
        title_en="Meeting",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    RSVP.objects.create(event=event, person=ana, attendance="attended")
    c = client_for(organizer)
    form = c.get("/messaging/segments/new/").content.decode()
    assert "Membership status" in form and "Standard" in form and "Meeting" in form
    data = {
        "name": "Active members who came",
        "owner_unit": tree.committee_a.pk,
        "match": "and",
        "membership_status": ["active"],
        "tiers": [tier.pk],
        "attended_events": [event.pk],
        "attended_within_days": "30",
    }
    count = c.post("/messaging/segments/count/", data).content.decode()
    assert "1 person matches now." in count
    assert c.post("/messaging/segments/new/", data).status_code == 302
    segment = Segment.objects.get()
    page = c.get(f"/messaging/segments/{segment.pk}/").content.decode()
    assert 'value="30"' in page and "1 person matches now." in page
    bad = c.post("/messaging/segments/count/", {**data, "attended_within_days": "0"})
    assert "match" not in bad.content.decode()

"""Retention of message texts: the daily purge clears the words and addresses of finished
messages past their time, keeps the rows (and so the counts), leaves waiting messages alone,
clears texts nobody answered after a shorter bound of their own, respects legal holds, and
is safe to run twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from leaven.core.models import AuditEvent
from leaven.messaging import services
from leaven.messaging.models import InboundMessage, OutboxMessage, SmsSuppression
from leaven.messaging.services_retention import messages_purge
from leaven.messaging.tasks import messages_purge as messages_purge_task

pytestmark = pytest.mark.django_db


def _row(person, *, key, state="sent", urgent=False, kind="broadcast", age_days=0, channel="sms"):
    row = services.outbox_enqueue(
        actor=None, person=person, channel=channel, subject="", body=f"Texto {key}",
        idempotency_key=key, urgent=urgent,
    )  # fmt: skip
    assert row is not None
    OutboxMessage.objects.filter(pk=row.pk).update(
        state=state, kind=kind, created_at=timezone.now() - timedelta(days=age_days)
    )
    row.refresh_from_db()
    return row


def _cleared(row) -> bool:
    row.refresh_from_db()
    return bool(row.body == "" and row.destination == "" and row.subject == "")


def test_each_kind_of_message_is_cleared_after_its_own_time(add_person):
    """Alerts after 7 days, broadcasts after 30, one-to-one texts after 365."""
    person = add_person(phone="+13125550101", urgent=True)
    alert_old = _row(person, key="a1", urgent=True, kind="notice", age_days=8)
    alert_new = _row(person, key="a2", urgent=True, kind="notice", age_days=6)
    broadcast_old = _row(person, key="b1", age_days=31)
    broadcast_new = _row(person, key="b2", age_days=29)
    direct_old = _row(person, key="d1", kind="direct", age_days=366)
    direct_mid = _row(person, key="d2", kind="direct", age_days=200)

    result = messages_purge()

    assert (result.urgent, result.outgoing, result.conversations) == (1, 1, 1)
    assert _cleared(alert_old) and _cleared(broadcast_old) and _cleared(direct_old)
    assert not _cleared(alert_new) and not _cleared(broadcast_new) and not _cleared(direct_mid)
    # The rows stay, with their state and the blind index of the address.
    alert_old.refresh_from_db()
    assert alert_old.state == "sent" and alert_old.destination_index
    assert OutboxMessage.objects.count() == 6


def test_waiting_messages_keep_their_text(add_person):
    """A message still pending, held for quiet hours or being sent is never cleared."""
    person = add_person(phone="+13125550102")
    rows = [_row(person, key=f"w{state}", state=state, age_days=400)
            for state in ("pending", "held", "sending")]  # fmt: skip
    assert messages_purge().total == 0
    assert not any(_cleared(row) for row in rows)


def test_received_texts_are_cleared_once_dealt_with(add_person, organizer):
    """Received texts dealt with lose their words and number after a year; texts still
    waiting for an answer or a review within their own bound keep theirs; an old text can
    then no longer be answered from."""
    add_person(phone="+13125550103")
    answered = services.inbound_receive(
        message_sid="SM1", from_number="+13125550103", body="Gracias"
    ).message
    services.inbound_reply(actor=organizer, message=answered, body="De nada")
    waiting = services.inbound_receive(
        message_sid="SM2", from_number="+13125550103", body="¿Hay junta?"
    ).message
    review = services.inbound_receive(
        message_sid="SM3", from_number="+13125550103", body="we have to STOP this bill"
    ).message
    assert review.review == InboundMessage.Review.OPEN
    InboundMessage.objects.filter(pk=answered.pk).update(
        received_at=timezone.now() - timedelta(days=400)
    )
    InboundMessage.objects.exclude(pk=answered.pk).update(
        received_at=timezone.now() - timedelta(days=60)
    )

    assert messages_purge().incoming == 1

    for message in (answered, waiting, review):
        message.refresh_from_db()
    assert answered.body == "" and answered.from_number == "" and answered.from_index
    assert waiting.body == "¿Hay junta?" and review.body == "we have to STOP this bill"
    with pytest.raises(ValidationError):
        services.inbound_reply(actor=organizer, message=answered, body="Hola otra vez")


def _received(sid, number, body, *, age_days):
    message = services.inbound_receive(message_sid=sid, from_number=number, body=body).message
    InboundMessage.objects.filter(pk=message.pk).update(
        received_at=timezone.now() - timedelta(days=age_days)
    )
    return message


def _kept(message) -> bool:
    message.refresh_from_db()
    return bool(message.body and message.from_number)


def test_texts_nobody_dealt_with_are_cleared_after_their_own_bound(add_person, organizer):
    """A text waiting for an answer or a review past LEAVEN_UNANSWERED_KEEP_DAYS (90) loses
    its words and number like a handled one, and stays waiting; a younger one keeps them,
    and so does a text answered within the year."""
    add_person(phone="+13125550111")
    unanswered = _received("SM11", "+13125550111", "¿Hay junta?", age_days=91)
    unreviewed = _received("SM12", "+13125550111", "we have to STOP this bill", age_days=91)
    recent = _received("SM13", "+13125550111", "¿A qué hora?", age_days=89)
    answered = _received("SM14", "+13125550111", "Gracias", age_days=200)
    services.inbound_reply(actor=organizer, message=answered, body="De nada")

    result = messages_purge()

    assert (result.unanswered, result.incoming) == (2, 0)
    assert not _kept(unanswered) and not _kept(unreviewed)
    assert _kept(recent) and _kept(answered)
    assert unanswered.from_index and unanswered.handled_at is None
    assert unreviewed.review == InboundMessage.Review.OPEN
    assert messages_purge().total == 0


def test_the_waiting_bound_follows_the_settings_and_never_exceeds_conversations(
    add_person, settings
):
    """The bound is read at each run, and a text waiting for a person is never kept longer
    than a conversation."""
    add_person(phone="+13125550112")
    settings.LEAVEN_UNANSWERED_KEEP_DAYS = 10
    older = _received("SM21", "+13125550112", "Hola", age_days=11)
    younger = _received("SM22", "+13125550112", "Hola otra vez", age_days=9)
    assert messages_purge().unanswered == 1
    assert not _kept(older) and _kept(younger)
    settings.LEAVEN_UNANSWERED_KEEP_DAYS = 500
    settings.LEAVEN_CONVERSATION_KEEP_DAYS = 5
    assert messages_purge().unanswered == 1
    assert not _kept(younger)


def test_an_answer_to_an_alert_under_legal_hold_is_kept(add_person, tree):
    """A responder's texted answer to an alert about an incident under a legal hold keeps its
    words and number past the bound while the hold lasts; another text of theirs, sent
    outside the alert's answer window, is cleared; the answer goes once the hold is lifted."""
    from leaven.rapid_response.models import Alert, Incident, Responder

    incident = Incident.objects.create(
        owner_unit=tree.committee_a, type="checkpoint", seen_at=timezone.now(), legal_hold=True
    )
    person = add_person(phone="+13125550113", urgent=True)
    responder = Responder.objects.create(
        person=person, owner_unit=tree.committee_a, cell="x", lat=0, lon=0
    )
    alert = Alert.objects.create(incident=incident, responder=responder)
    answer = services.inbound_receive(
        message_sid="SM31", from_number="+13125550113", body="1"
    ).message
    alert.refresh_from_db()
    assert alert.ack == Alert.Ack.GOING
    then = timezone.now() - timedelta(days=100)
    Alert.objects.filter(pk=alert.pk).update(created_at=then)
    InboundMessage.objects.filter(pk=answer.pk).update(received_at=then + timedelta(minutes=5))
    other = _received("SM32", "+13125550113", "¿Y mañana?", age_days=98)

    assert messages_purge().unanswered == 1
    assert _kept(answer) and not _kept(other)

    Incident.objects.filter(pk=incident.pk).update(legal_hold=False)
    assert messages_purge().answers == 1
    assert not _kept(answer)


def test_an_answer_to_an_alert_is_kept_as_long_as_the_alert(add_person, tree):
    """A responder's texted answer to an alert is handled when it arrives (nobody is asked
    to answer it) and keeps its words and number as long as an alert does (7 days), not a
    conversation's year; a "1" that answers no alert is an ordinary reply."""
    from leaven.rapid_response.models import Alert, Incident, Responder

    incident = Incident.objects.create(
        owner_unit=tree.committee_a, type="checkpoint", seen_at=timezone.now()
    )
    person = add_person(phone="+13125550116", urgent=True)
    responder = Responder.objects.create(
        person=person, owner_unit=tree.committee_a, cell="x", lat=0, lon=0
    )
    Alert.objects.create(incident=incident, responder=responder)
    old = services.inbound_receive(message_sid="SM61", from_number="+13125550116", body="1")
    recent = services.inbound_receive(message_sid="SM62", from_number="+13125550116", body="2")
    add_person(phone="+13125550117")
    stray = services.inbound_receive(message_sid="SM63", from_number="+13125550117", body="1")
    assert old.message.kind == recent.message.kind == InboundMessage.Kind.ANSWER
    assert old.message.handled_at is not None
    assert stray.message.kind == InboundMessage.Kind.REPLY and stray.message.handled_at is None
    eight_days = timezone.now() - timedelta(days=8)
    InboundMessage.objects.filter(pk__in=[old.message.pk, stray.message.pk]).update(
        received_at=eight_days
    )
    InboundMessage.objects.filter(pk=recent.message.pk).update(
        received_at=timezone.now() - timedelta(days=6)
    )

    result = messages_purge()

    assert (result.answers, result.unanswered, result.incoming) == (1, 0, 0)
    assert not _kept(old.message) and _kept(recent.message) and _kept(stray.message)


def test_a_cleared_text_can_still_be_reviewed(add_person, organizer):
    """Treating a cleared text as an opt-out stops texts to its number by the blind index
    kept with it, and queues no confirmation to a number that is gone."""
    person = add_person(phone="+13125550114")
    review = _received("SM41", "+13125550114", "we have to STOP this bill", age_days=91)
    messages_purge()
    review.refresh_from_db()
    assert review.from_number == ""

    services.inbound_review_resolve(actor=organizer, message=review, opt_out=True)

    assert SmsSuppression.objects.filter(number_index=review.from_index).exists()
    assert person.phones.get().sms_status == "opted_out"
    assert not OutboxMessage.objects.filter(idempotency_key=f"optout:{review.pk}").exists()


@pytest.mark.parametrize(
    ("language", "removed", "badge", "not_answered", "no_reply"),
    [
        (
            "en",
            "Text removed: past its retention period.",
            "removed without an answer",
            ">not answered<",
            "This text is past its retention period: answer a newer text from this person.",
        ),
        (
            "es",
            "Texto eliminado: superó su plazo de conservación.",
            "eliminado sin respuesta",
            ">sin respuesta<",
            "Este mensaje ya superó su plazo de conservación",
        ),
    ],
)
def test_pages_show_a_text_cleared_while_waiting(
    add_person, organizer, client_for, language, removed, badge, not_answered, no_reply
):
    """The inbox, the review queue and the conversation say a waiting text was removed, in
    the reader's language: no empty snippet, no "not answered" badge inviting an answer
    that can no longer go, no reply form."""
    add_person(phone="+13125550115")
    waiting = _received("SM51", "+13125550115", "¿Hay junta?", age_days=91)
    _received("SM52", "+13125550115", "we have to STOP this bill", age_days=91)
    assert messages_purge().unanswered == 2
    client = client_for(organizer)
    client.cookies["django_language"] = language

    inbox = client.get("/messaging/inbox/").content.decode()
    assert removed in inbox and badge in inbox
    assert not_answered not in inbox
    review = client.get("/messaging/review/").content.decode()
    assert removed in review
    detail = client.get(f"/messaging/inbox/{waiting.pk}/").content.decode()
    assert removed in detail and no_reply in detail and 'name="body"' not in detail


def test_purge_is_audited_once_and_safe_to_run_twice(add_person):
    """The task clears, writes one audit event with counts only, and a second run finds
    nothing more to do."""
    person = add_person(phone="+13125550104")
    _row(person, key="b1", age_days=31)
    assert messages_purge_task.enqueue().return_value == 1
    assert messages_purge_task.enqueue().return_value == 0
    events = AuditEvent.objects.filter(verb="messaging.purged")
    assert events.count() == 1
    assert events.get().detail == {
        "urgent": 0, "outgoing": 1, "conversations": 0, "incoming": 0, "unanswered": 0,
        "answers": 0,
    }  # fmt: skip


def test_retention_follows_the_settings(add_person, settings):
    """The number of days is read at each run."""
    person = add_person(phone="+13125550105")
    row = _row(person, key="b1", age_days=3)
    settings.LEAVEN_OUTBOX_KEEP_DAYS = 2
    assert messages_purge().outgoing == 1
    assert _cleared(row)


def test_conversation_page_says_a_text_was_removed(add_person, organizer, client_for):
    """The conversation shows that an old text was removed, not an empty bubble."""
    add_person(phone="+13125550106")
    inbound = services.inbound_receive(
        message_sid="SM9", from_number="+13125550106", body="Hola"
    ).message
    services.inbound_reply(actor=organizer, message=inbound, body="Hola, ¿cómo está?")
    InboundMessage.objects.update(received_at=timezone.now() - timedelta(days=400))
    OutboxMessage.objects.update(state="sent", created_at=timezone.now() - timedelta(days=400))
    messages_purge()
    response = client_for(organizer).get(f"/messaging/inbox/{inbound.pk}/")
    assert response.status_code == 200
    assert response.content.decode().count("Text removed: past its retention period.") == 2


def test_alerts_about_an_incident_under_legal_hold_are_kept(add_person, tree):
    """An alert about an incident under a legal hold keeps its text while the hold lasts;
    other old alerts are cleared, and the held one goes once the hold is lifted."""
    from leaven.rapid_response.models import Incident

    held = Incident.objects.create(
        owner_unit=tree.committee_a, type="checkpoint", seen_at=timezone.now(), legal_hold=True
    )
    other = Incident.objects.create(
        owner_unit=tree.committee_a, type="checkpoint", seen_at=timezone.now()
    )
    person = add_person(phone="+13125550107", urgent=True)
    kept = _row(person, key=f"rapid:{held.pk}:1:respond", urgent=True, kind="notice", age_days=8)
    gone = _row(person, key=f"rapid:{other.pk}:1:respond", urgent=True, kind="notice", age_days=8)

    assert messages_purge().urgent == 1
    assert _cleared(gone) and not _cleared(kept)

    Incident.objects.filter(pk=held.pk).update(legal_hold=False)
    assert messages_purge().urgent == 1
    assert _cleared(kept)


def test_many_rows_are_cleared_in_chunks(add_person, monkeypatch):
    """Rows are cleared a chunk at a time until none is left, and each is counted once."""
    from leaven.messaging import services_retention

    monkeypatch.setattr(services_retention, "CHUNK", 3)
    person = add_person(phone="+13125550108")
    rows = [_row(person, key=f"c{i}", age_days=31) for i in range(7)]
    assert messages_purge().outgoing == 7
    assert all(_cleared(row) for row in rows)

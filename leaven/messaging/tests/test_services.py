"""The outbox and broadcasts: one transaction, one message per destination, consent checked
at send time, errors classified, reconciliation after a crash."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction

from leaven.core import crypto
from leaven.messaging import services
from leaven.messaging.models import Broadcast, OutboxMessage, SmsSuppression
from leaven.people.models import Email, Phone

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")


def _email_broadcast(actor, unit, conditions=None, templates=None):
    segment = services.segment_create(
        actor=actor, owner_unit=unit, name="Everyone", conditions=conditions or {}
    )
    return services.broadcast_create(
        actor=actor,
        segment=segment,
        channel="email",
        name="Assembly",
        templates=templates
        or {
            "en": {"subject": "Assembly, {first_name}", "body": "Hi {first_name} of {committee}"},
            "es": {"subject": "Asamblea, {first_name}", "body": "Hola {first_name} de {committee}"},
        },
    )


def _sms_broadcast(actor, unit, urgent=False):
    segment = services.segment_create(actor=actor, owner_unit=unit, name="Texts", conditions={})
    return services.broadcast_create(
        actor=actor,
        segment=segment,
        channel="sms",
        name="Rally",
        templates={
            "en": {"body": "Rally at 6, {first_name}"},
            "es": {"body": "Marcha, {first_name}"},
        },
        urgent=urgent,
    )


def test_broadcast_queues_one_row_per_recipient_in_their_language(organizer, tree, add_person):
    """Each person gets the template in their language, merged; no consent, no row."""
    add_person(email="ana@example.org", given_name="Ana", language="es")
    add_person(email="bo@example.org", given_name="Bo", language="en")
    add_person(email="gone@example.org", email_status="unsubscribed")
    add_person(phone="3125550111")  # no email at all
    broadcast = _email_broadcast(organizer, tree.committee_a)
    assert services.broadcast_queue(actor=organizer, broadcast=broadcast) == 2
    rows = {m.destination: m for m in OutboxMessage.objects.all()}
    assert rows["ana@example.org"].subject == "Asamblea, Ana"
    assert rows["ana@example.org"].body == "Hola Ana de Pilsen"
    assert rows["bo@example.org"].language == "en"
    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.QUEUED
    assert broadcast.recipient_count == 2


def test_destination_is_stored_encrypted(organizer, tree, add_person):
    """Neither the address nor the text is readable in the table."""
    from django.db import connection

    add_person(email="secret@example.org")
    services.broadcast_queue(
        actor=organizer, broadcast=_email_broadcast(organizer, tree.committee_a)
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT destination, body FROM messaging_outboxmessage")
        destination, body = cursor.fetchone()
    # Ciphertext, not text: a short word could turn up in random base64 by chance, so check
    # the format and that the whole plaintext is absent.
    assert destination.startswith("v1:") and body.startswith("v1:")
    assert "secret@example.org" not in destination
    assert crypto.decrypt(destination) == "secret@example.org"


def test_one_number_in_two_formats_gets_one_message(organizer, tree, add_person):
    """The same number entered for two people, in two formats, is texted once."""
    add_person(phone="(312) 555-0123")
    add_person(phone="+1 312 555 0123")
    broadcast = _sms_broadcast(organizer, tree.committee_a)
    assert services.broadcast_queue(actor=organizer, broadcast=broadcast) == 1


def test_fallback_to_the_units_first_language(organizer, tree, add_person):
    """A person whose language has no template gets the unit's first language."""
    tree.committee_a.languages = ["es", "en"]
    tree.committee_a.save()
    add_person(email="fr@example.org", language="fr")
    broadcast = _email_broadcast(organizer, tree.committee_a)
    services.broadcast_queue(actor=organizer, broadcast=broadcast)
    assert OutboxMessage.objects.get().language == "es"


def test_broadcast_cannot_be_queued_twice(organizer, tree, add_person):
    add_person(email="a@example.org")
    broadcast = _email_broadcast(organizer, tree.committee_a)
    services.broadcast_queue(actor=organizer, broadcast=broadcast)
    with pytest.raises(ValidationError):
        services.broadcast_queue(actor=organizer, broadcast=broadcast)
    assert OutboxMessage.objects.count() == 1


def test_outsider_cannot_create_a_broadcast_for_another_committee(outsider, tree):
    with pytest.raises(ValidationError):
        services.segment_create(
            actor=outsider, owner_unit=tree.committee_a, name="x", conditions={}
        )


def test_rolled_back_transaction_sends_nothing(organizer, tree, add_person, settings):
    """Rows written in a transaction that rolls back never reach the transport."""
    settings.LEAVEN_OUTBOX_DRAIN_ON_COMMIT = True
    person = add_person(email="a@example.org")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.outbox_enqueue(
            actor=organizer,
            person=person,
            channel="email",
            subject="s",
            body="b",
            idempotency_key="k1",
        )
        raise RuntimeError("the caller's transaction fails")
    services.outbox_drain(channel="email")
    assert OutboxMessage.objects.count() == 0
    assert mail.outbox == []


def test_enqueue_is_idempotent_and_sends_after_commit(
    organizer, tree, add_person, settings, django_capture_on_commit_callbacks
):
    """The same key twice is one row; delivery runs once the transaction commits."""
    settings.LEAVEN_OUTBOX_DRAIN_ON_COMMIT = True
    person = add_person(email="a@example.org", given_name="Ana")
    with django_capture_on_commit_callbacks(execute=True):
        first = services.outbox_enqueue(
            actor=None,
            person=person,
            channel="email",
            subject="Hi {first_name}",
            body="Reminder",
            idempotency_key="membership:renew:1",
        )
        second = services.outbox_enqueue(
            actor=None,
            person=person,
            channel="email",
            subject="Hi",
            body="again",
            idempotency_key="membership:renew:1",
        )
    assert first.pk == second.pk
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Hi Ana"


def test_email_carries_one_click_unsubscribe_and_postal_address(organizer, tree, add_person):
    add_person(email="a@example.org", language="es")
    services.broadcast_queue(
        actor=organizer, broadcast=_email_broadcast(organizer, tree.committee_a)
    )
    services.outbox_drain(channel="email")
    sent = mail.outbox[0]
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = sent.extra_headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://testserver/m/u/")
    assert "a@example.org" not in url
    assert url in sent.body
    assert "1900 S Carpenter St" in sent.body
    assert "Para dejar de recibir" in sent.body  # the footer in the person's language


def test_opt_out_is_checked_at_send_time(organizer, tree, add_person):
    """An address unsubscribed after queuing is suppressed, not sent."""
    person = add_person(email="a@example.org")
    services.broadcast_queue(
        actor=organizer, broadcast=_email_broadcast(organizer, tree.committee_a)
    )
    Email.objects.filter(person=person).update(status=Email.Status.UNSUBSCRIBED)
    result = services.outbox_drain(channel="email")
    assert result.suppressed == 1 and result.sent == 0
    assert mail.outbox == []
    assert OutboxMessage.objects.get().state == OutboxMessage.State.SUPPRESSED


def test_sms_suppression_checked_at_send_time(organizer, tree, add_person, settings):
    settings.LEAVEN_QUIET_END_HOUR, settings.LEAVEN_QUIET_START_HOUR = 0, 24
    person = add_person(phone="3125550123")
    services.broadcast_queue(actor=organizer, broadcast=_sms_broadcast(organizer, tree.committee_a))
    SmsSuppression.objects.create(number_index=person.phones.get().number_index)
    assert services.outbox_drain(channel="sms").suppressed == 1


def test_quiet_hours_hold_and_release_by_unit_time_zone(organizer, tree, add_person):
    """At 21:30 in Chicago a text is held until 9:00 Chicago; a Los Angeles unit at the same
    instant (19:30 there) sends."""
    tree.circle_a.time_zone = "America/Los_Angeles"
    tree.circle_a.save()
    add_person(phone="3125550123")
    add_person(tree.circle_a, phone="3125550124")
    services.broadcast_queue(actor=organizer, broadcast=_sms_broadcast(organizer, tree.committee_a))
    now = datetime(2027, 3, 10, 21, 30, tzinfo=ZoneInfo("America/Chicago"))
    result = services.outbox_process(channel="sms", now=now)
    assert (result.held, result.sent) == (1, 1)
    held = OutboxMessage.objects.get(state=OutboxMessage.State.HELD)
    assert held.next_attempt_at == datetime(2027, 3, 11, 9, 0, tzinfo=ZoneInfo("America/Chicago"))
    assert services.outbox_process(channel="sms", now=now.replace(hour=23)).handled == 0
    later = datetime(2027, 3, 11, 9, 0, 1, tzinfo=ZoneInfo("America/Chicago"))
    assert services.outbox_process(channel="sms", now=later).sent == 1


def test_quiet_hours_early_morning(tree):
    """At 6:00 local the release is 9:00 the same day."""
    now = datetime(2027, 3, 10, 6, 0, tzinfo=ZoneInfo("America/Chicago"))
    release = services.quiet_release_at(tree.committee_a, now)
    assert release == datetime(2027, 3, 10, 9, 0, tzinfo=ZoneInfo("America/Chicago"))
    noon = now.replace(hour=12)
    assert services.quiet_release_at(tree.committee_a, noon) is None


def test_urgent_goes_at_night_only_with_round_the_clock_consent(organizer, tree, add_person):
    add_person(phone="3125550123", urgent=True)
    add_person(phone="3125550124", urgent=False)
    broadcast = _sms_broadcast(organizer, tree.committee_a, urgent=True)
    assert services.broadcast_queue(actor=organizer, broadcast=broadcast) == 1
    # Consent withdrawn after queuing is checked again at send time.
    now = datetime(2027, 3, 10, 3, 0, tzinfo=ZoneInfo("America/Chicago"))
    assert services.outbox_process(channel="sms", now=now).sent == 1
    person = add_person(phone="3125550125", urgent=True)
    services.outbox_enqueue(
        actor=None,
        person=person,
        channel="sms",
        body="Alert",
        urgent=True,
        idempotency_key="rr:1",
    )
    Phone.objects.filter(person=person).update(urgent_alerts=False)
    assert services.outbox_process(channel="sms", now=now).suppressed == 1


def test_permanent_smtp_error_marks_bouncing_without_retry(
    organizer, tree, add_person, smtp_server
):
    add_person(email="nobody@example.org")
    add_person(email="ok@example.org")
    smtp_server.refuse.add("nobody@example.org")
    services.broadcast_queue(
        actor=organizer, broadcast=_email_broadcast(organizer, tree.committee_a)
    )
    result = services.outbox_drain(channel="email")
    assert (result.sent, result.failed, result.retried) == (1, 1, 0)
    assert Email.objects.get(status="bouncing").address == "nobody@example.org"
    failed = OutboxMessage.objects.get(state="failed")
    assert failed.error_code == "smtp_550"


def test_temporary_errors_back_off_then_dead_letter(organizer, tree, add_person, settings):
    """A transport that keeps failing temporarily: retried with growing delays, then failed."""
    from leaven.messaging.transports import SendError

    class Down:
        channel = "email"

        def open(self):
            return None

        def close(self):
            return None

        def send(self, message):
            raise SendError("smtp_421", permanent=False)

        def lookup(self, message):
            return None

    settings.LEAVEN_OUTBOX_MAX_ATTEMPTS = 3
    add_person(email="a@example.org")
    services.broadcast_queue(
        actor=organizer, broadcast=_email_broadcast(organizer, tree.committee_a)
    )
    now = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
    assert services.outbox_process(channel="email", now=now, transport=Down()).retried == 1
    row = OutboxMessage.objects.get()
    assert (row.state, row.attempts) == ("pending", 1)
    assert (row.next_attempt_at - now).total_seconds() == 30
    assert services.outbox_process(channel="email", now=now, transport=Down()).handled == 0
    later = row.next_attempt_at
    services.outbox_process(channel="email", now=later, transport=Down())
    row.refresh_from_db()
    assert (row.next_attempt_at - later).total_seconds() == 60
    services.outbox_process(channel="email", now=row.next_attempt_at, transport=Down())
    row.refresh_from_db()
    assert (row.state, row.attempts, row.error_code) == ("failed", 3, "smtp_421")


def test_claim_never_hands_a_row_to_two_workers(organizer, tree, add_person):
    for i in range(5):
        add_person(email=f"p{i}@example.org")
    services.broadcast_queue(
        actor=organizer, broadcast=_email_broadcast(organizer, tree.committee_a)
    )
    first = services.outbox_claim(channel="email", limit=3)
    second = services.outbox_claim(channel="email", limit=3)
    assert len(first) == 3 and len(second) == 2
    assert not set(first) & set(second)
    assert services.outbox_claim(channel="email", limit=3) == []


def test_scheduled_broadcast_is_queued_when_due(organizer, tree, add_person):
    """A scheduled broadcast is evaluated at its time, so people added meanwhile get it."""
    from datetime import timedelta

    from django.utils import timezone

    add_person(email="a@example.org")
    broadcast = _email_broadcast(organizer, tree.committee_a)
    at = timezone.now() + timedelta(hours=1)
    services.broadcast_schedule(actor=organizer, broadcast=broadcast, at=at)
    add_person(email="b@example.org")
    assert services.broadcast_queue_due(now=at - timedelta(minutes=1)) == 0
    assert services.broadcast_queue_due(now=at) == 2
    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.QUEUED


def test_several_connections_deliver_each_message_once_and_record_every_outcome(
    organizer, tree, add_person, smtp_server, settings
):
    """With LEAVEN_EMAIL_CONNECTIONS above one, a batch goes over that many SMTP connections
    at once: every message reaches the server once, with its own Message-ID, and each
    outcome (sent, refused) is recorded on its row."""
    settings.LEAVEN_EMAIL_CONNECTIONS = 3
    for i in range(12):
        add_person(email=f"p{i}@example.org")
    add_person(email="nobody@example.org")
    smtp_server.refuse.add("nobody@example.org")
    services.broadcast_queue(
        actor=organizer, broadcast=_email_broadcast(organizer, tree.committee_a)
    )
    result = services.outbox_process(channel="email")
    assert (result.sent, result.failed, result.retried) == (12, 1, 0)
    assert len(smtp_server.messages) == result.sent
    assert len(set(smtp_server.message_ids)) == result.sent
    assert OutboxMessage.objects.filter(state="sent").count() == result.sent
    assert not OutboxMessage.objects.filter(state="sending").exists()
    assert OutboxMessage.objects.get(state="failed").error_code == "smtp_550"


def test_each_connection_has_at_most_one_accepted_message_unrecorded(
    organizer, tree, add_person, smtp_server, settings, monkeypatch
):
    """Outcomes of several connections are recorded in one commit, but a connection never
    sends its next message before its previous one is recorded: a crash can leave at most
    one accepted-but-unrecorded message per connection."""
    from leaven.messaging import transports

    settings.LEAVEN_EMAIL_CONNECTIONS = 4
    for i in range(40):
        add_person(email=f"p{i}@example.org")
    services.broadcast_queue(
        actor=organizer, broadcast=_email_broadcast(organizer, tree.committee_a)
    )
    recorded: set[str] = set()
    commits: list[int] = []
    violations: list[str] = []
    real_finish = services._finish_sent_many

    def finish(sent):
        real_finish(sent)
        recorded.update(provider_id for _pk, _attempts, provider_id in sent)
        commits.append(len(sent))

    class Watched(transports.EmailTransport):
        last: str | None = None

        def send(self, message):
            if self.last is not None and self.last not in recorded:
                violations.append(self.last)
            self.last = super().send(message)
            return self.last

    monkeypatch.setattr(services, "_finish_sent_many", finish)
    monkeypatch.setattr(services, "transport_for", lambda channel: Watched())
    result = services.outbox_process(channel="email", transport=Watched())
    assert result.sent == 40
    assert violations == []
    assert sum(commits) == 40 and max(commits) <= 4
    assert len(set(smtp_server.message_ids)) == 40


def test_cancel_a_scheduled_broadcast_sends_nothing(organizer, tree, add_person):
    from datetime import timedelta

    from django.utils import timezone

    from leaven.core.models import AuditEvent

    add_person(email="a@example.org")
    broadcast = _email_broadcast(organizer, tree.committee_a)
    at = timezone.now() + timedelta(hours=1)
    services.broadcast_schedule(actor=organizer, broadcast=broadcast, at=at)
    result = services.broadcast_cancel(actor=organizer, broadcast=broadcast)
    assert (result.withdrawn, result.already_sent) == (0, 0)
    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.CANCELLED and broadcast.cancelled_at
    assert services.broadcast_queue_due(now=at + timedelta(minutes=1)) == 0
    assert not OutboxMessage.objects.exists()
    event = AuditEvent.objects.get(verb="broadcast.cancelled")
    assert event.detail == {"withdrawn": 0, "sent": 0}
    with pytest.raises(ValidationError):
        services.broadcast_queue(actor=organizer, broadcast=broadcast)


def test_cancel_mid_delivery_keeps_sent_and_withdraws_the_rest(organizer, tree, add_person):
    """Two of five went; cancelling withdraws the three still waiting (one held for quiet
    hours among them); nothing more is sent; a second cancel is refused."""
    for i in range(5):
        add_person(email=f"p{i}@example.org")
    broadcast = _email_broadcast(organizer, tree.committee_a)
    services.broadcast_queue(actor=organizer, broadcast=broadcast)
    assert services.outbox_process(channel="email", limit=2).sent == 2
    held = OutboxMessage.objects.filter(state="pending").order_by("pk").first()
    OutboxMessage.objects.filter(pk=held.pk).update(state="held")
    result = services.broadcast_cancel(actor=organizer, broadcast=broadcast)
    assert (result.withdrawn, result.already_sent) == (3, 2)
    assert OutboxMessage.objects.filter(state="withdrawn").count() == 3
    assert OutboxMessage.objects.filter(state="sent").count() == 2
    assert services.outbox_drain(channel="email").handled == 0
    assert len(mail.outbox) == 2
    with pytest.raises(ValidationError):
        services.broadcast_cancel(actor=organizer, broadcast=broadcast)


def test_cancel_leaves_a_message_in_flight_and_never_retries_it(organizer, tree, add_person):
    """A row a worker holds (`sending`) is not touched by the cancel; if that worker died,
    the row is withdrawn when its lease runs out instead of being sent again."""
    from datetime import timedelta

    from django.utils import timezone

    add_person(email="a@example.org")
    broadcast = _email_broadcast(organizer, tree.committee_a)
    services.broadcast_queue(actor=organizer, broadcast=broadcast)
    assert services.outbox_claim(channel="email", limit=10)
    assert services.broadcast_cancel(actor=organizer, broadcast=broadcast).withdrawn == 0
    assert OutboxMessage.objects.get().state == "sending"
    later = timezone.now() + timedelta(hours=1)
    assert services.outbox_process(channel="email", now=later).handled == 0
    row = OutboxMessage.objects.get()
    assert (row.state, row.error_code) == ("withdrawn", "cancelled")
    assert mail.outbox == []


def test_only_a_sender_of_the_unit_may_cancel(organizer, outsider, tree, add_person):
    broadcast = _email_broadcast(organizer, tree.committee_a)
    with pytest.raises(ValidationError):
        services.broadcast_cancel(actor=organizer, broadcast=broadcast)  # a draft
    services.broadcast_queue(actor=organizer, broadcast=broadcast)
    with pytest.raises(ValidationError):
        services.broadcast_cancel(actor=outsider, broadcast=broadcast)
    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.QUEUED


def _event(unit, slug="asamblea", visibility="public"):
    from datetime import timedelta

    from django.utils import timezone

    from leaven.events.models import Event

    start = timezone.now() + timedelta(days=3)
    return Event.objects.create(
        owner_unit=unit,
        slug=slug,
        title_en="Assembly",
        title_es="Asamblea",
        visibility=visibility,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
    )


def test_event_link_is_filled_in_in_both_languages(organizer, tree, add_person):
    add_person(email="ana@example.org", given_name="Ana", language="es")
    add_person(email="bo@example.org", given_name="Bo", language="en")
    event = _event(tree.committee_a)
    segment = services.segment_create(
        actor=organizer, owner_unit=tree.committee_a, name="All", conditions={}
    )
    broadcast = services.broadcast_create(
        actor=organizer,
        segment=segment,
        channel="email",
        name="Assembly",
        event=event,
        templates={
            "en": {"subject": "Assembly", "body": "Hi {first_name}, RSVP: {event_link}"},
            "es": {"subject": "Asamblea", "body": "Hola {first_name}, confirme: {event_link}"},
        },
    )
    link = "http://testserver/e/asamblea/"
    assert services.broadcast_preview(broadcast=broadcast, language="es")["body"] == (
        f"Hola María, confirme: {link}"
    )
    services.broadcast_queue(actor=organizer, broadcast=broadcast)
    bodies = {m.language: m.body for m in OutboxMessage.objects.all()}
    assert bodies == {"es": f"Hola Ana, confirme: {link}", "en": f"Hi Bo, RSVP: {link}"}
    services.outbox_drain(channel="email")
    assert all(link in m.body for m in mail.outbox) and len(mail.outbox) == 2


@pytest.mark.parametrize("problem", ["no_event", "unit_only", "other_committee"])
def test_event_link_needs_a_public_event_of_ones_own(organizer, tree, problem):
    event = {
        "no_event": None,
        "unit_only": _event(tree.committee_a, "interna", visibility="unit"),
        "other_committee": _event(tree.committee_b, "otra"),
    }[problem]
    segment = services.segment_create(
        actor=organizer, owner_unit=tree.committee_a, name="All", conditions={}
    )
    with pytest.raises(ValidationError) as caught:
        services.broadcast_create(
            actor=organizer,
            segment=segment,
            channel="email",
            name="Assembly",
            event=event,
            templates={"en": {"subject": "Assembly", "body": "RSVP: {event_link}"}},
        )
    assert "event" in caught.value.message_dict
    assert not Broadcast.objects.exists()


# --------------------------------------------------------------------------- texts in batches
# A transport whose lookup is authoritative (Twilio's) lets the outbox send a whole batch of
# texts, over several threads, and record the outcomes in one commit: a crash before that
# commit is reconciled with the provider after the lease, never sent again.


class Provider:
    """An SMS provider in memory: it keeps what it accepted by key and answers `lookup`
    honestly. `fail_at` (1-based) makes that send accept the text and then fail without an
    answer, as a dying connection would; `barrier` holds the first sends until that many
    run at once."""

    channel = "sms"
    reconciles = True

    def __init__(self, *, fail_at: int = 0, barrier: int = 0) -> None:
        import threading

        self.accepted: dict[str, str] = {}
        self.sends = 0
        self.threads: set[str] = set()
        self.lock = threading.Lock()
        self.fail_at = fail_at
        self.barrier = threading.Barrier(barrier) if barrier else None

    def open(self):
        return None

    def close(self):
        return None

    def fork(self):
        return self

    def send(self, message):
        import threading

        with self.lock:
            self.sends += 1
            number = self.sends
            self.accepted[message.key] = f"SM{number:032d}"
            self.threads.add(threading.current_thread().name)
        if self.barrier is not None and number <= self.barrier.parties:
            self.barrier.wait(timeout=30)
        if number == self.fail_at:
            raise ConnectionResetError("the connection dropped before the answer")
        return self.accepted[message.key]

    def lookup(self, message):
        return self.accepted.get(message.key)


def _urgent_texts(add_person, count):
    for i in range(count):
        person = add_person(phone=f"31255501{i:02d}", urgent=True)
        services.outbox_enqueue(
            actor=None,
            person=person,
            channel="sms",
            body=f"Alert {i}",
            urgent=True,
            idempotency_key=f"rr:{i}",
        )


def test_texts_go_over_several_threads_and_are_recorded_together(add_person, settings):
    """Three sends are under way at once (the provider holds them until all three are), and
    every text of the batch is recorded as sent with the provider's id."""
    settings.LEAVEN_SMS_CONNECTIONS = 3
    _urgent_texts(add_person, 9)
    provider = Provider(barrier=3)
    result = services.outbox_process(channel="sms", transport=provider)
    assert result.sent == 9
    assert len(provider.threads) == 3
    rows = OutboxMessage.objects.all()
    assert {row.state for row in rows} == {"sent"}
    assert {row.provider_id for row in rows} == set(provider.accepted.values())


def test_a_batch_is_recorded_in_one_commit(add_person, settings, monkeypatch):
    settings.LEAVEN_SMS_CONNECTIONS = 2
    _urgent_texts(add_person, 7)
    commits: list[int] = []
    real_finish = services._finish_sent_many

    def finish(sent):
        commits.append(len(sent))
        real_finish(sent)

    monkeypatch.setattr(services, "_finish_sent_many", finish)
    assert services.outbox_process(channel="sms", transport=Provider()).sent == 7
    assert commits == [7]


def test_crash_before_the_batch_is_recorded_is_reconciled_not_resent(add_person, settings):
    """The fourth send is taken by the provider but its answer never comes: the three before
    it are recorded, the one in flight stays `sending` under its lease, the rest go back to
    pending untouched. After the lease the one in flight is found at the provider and
    recorded; each text was handed over exactly once."""
    settings.LEAVEN_SMS_CONNECTIONS = 1
    _urgent_texts(add_person, 6)
    provider = Provider(fail_at=4)
    with pytest.raises(ConnectionResetError):
        services.outbox_process(channel="sms", transport=provider)
    states = dict(OutboxMessage.objects.values_list("idempotency_key", "state"))
    assert states == {
        "rr:0": "sent",
        "rr:1": "sent",
        "rr:2": "sent",
        "rr:3": "sending",
        "rr:4": "pending",
        "rr:5": "pending",
    }
    assert services.outbox_process(channel="sms", transport=provider).sent == 2
    in_flight = OutboxMessage.objects.get(idempotency_key="rr:3")
    assert in_flight.lease_until is not None
    later = in_flight.lease_until + timedelta(seconds=1)
    assert services.outbox_process(channel="sms", now=later, transport=provider).sent == 1
    assert provider.sends == 6
    in_flight.refresh_from_db()
    assert (in_flight.state, in_flight.provider_id) == ("sent", provider.accepted["rr:3"])
    assert not OutboxMessage.objects.exclude(state="sent").exists()


def test_no_text_is_handed_over_once_half_the_lease_is_gone(add_person, settings):
    """Another worker may take a row back when its lease runs out: with no time left, no
    text goes and the batch returns to pending as it was."""
    settings.LEAVEN_OUTBOX_LEASE_SECONDS = 0
    _urgent_texts(add_person, 3)
    provider = Provider()
    assert services.outbox_process(channel="sms", transport=provider).handled == 0
    assert provider.sends == 0
    assert set(OutboxMessage.objects.values_list("state", "lease_until", "reconcile")) == {
        ("pending", None, False)
    }


def test_a_provider_without_lookup_gets_one_text_recorded_at_a_time(add_person, monkeypatch):
    """Without an authoritative lookup, each text is recorded before the next one goes."""
    _urgent_texts(add_person, 3)
    commits: list[int] = []
    real_finish = services._finish_sent_many

    def finish(sent):
        commits.append(len(sent))
        real_finish(sent)

    class Console(Provider):
        reconciles = False

    monkeypatch.setattr(services, "_finish_sent_many", finish)
    assert services.outbox_process(channel="sms", transport=Console()).sent == 3
    assert commits == [1, 1, 1]


def test_urgent_texts_are_claimed_before_a_waiting_broadcast(organizer, tree, add_person):
    """An urgent alert queued after a broadcast goes first: the claim takes urgent rows
    before any other, whatever their age."""
    for i in range(5):
        add_person(phone=f"31255502{i:02d}")
    broadcast = _sms_broadcast(organizer, tree.committee_a)
    assert services.broadcast_queue(actor=organizer, broadcast=broadcast) == 5
    person = add_person(phone="3125550399", urgent=True)
    alert = services.outbox_enqueue(
        actor=None, person=person, channel="sms", body="Alert", urgent=True, idempotency_key="a"
    )
    assert services.outbox_claim(channel="sms", limit=1) == [alert.pk]
    assert len(services.outbox_claim(channel="sms", limit=10)) == 5


def test_a_held_text_come_due_is_claimed_before_a_waiting_broadcast(organizer, tree, add_person):
    """When quiet hours end behind a large broadcast, the text held overnight goes in the
    next claim, after urgent alerts and before the broadcast; a held text whose time has not
    come stays held."""
    from django.utils import timezone

    for i in range(6):
        add_person(phone=f"31255503{i:02d}")
    broadcast = _sms_broadcast(organizer, tree.committee_a)
    assert services.broadcast_queue(actor=organizer, broadcast=broadcast) == 6
    reminder = services.outbox_enqueue(
        actor=None, person=add_person(phone="3125550397"), channel="sms", body="Reminder",
        idempotency_key="r1", transactional=True,
    )  # fmt: skip
    later = services.outbox_enqueue(
        actor=None, person=add_person(phone="3125550398"), channel="sms", body="Later",
        idempotency_key="r2", transactional=True,
    )  # fmt: skip
    alert = services.outbox_enqueue(
        actor=None, person=add_person(phone="3125550399", urgent=True), channel="sms",
        body="Alert", urgent=True, idempotency_key="a",
    )  # fmt: skip
    now = timezone.now()
    OutboxMessage.objects.filter(pk=reminder.pk).update(
        state="held", next_attempt_at=now - timedelta(minutes=1)
    )
    OutboxMessage.objects.filter(pk=later.pk).update(
        state="held", next_attempt_at=now + timedelta(hours=1)
    )

    assert services.outbox_claim(channel="sms", limit=2, now=now) == sorted([alert.pk, reminder.pk])
    pending = set(broadcast.messages.values_list("pk", flat=True))
    second = services.outbox_claim(channel="sms", limit=2, now=now)
    third = services.outbox_claim(channel="sms", limit=10, now=now)
    assert len(second) == 2 and set(second) | set(third) == pending
    assert not set(second) & set(third)
    assert services.outbox_claim(channel="sms", limit=10, now=now) == []
    assert OutboxMessage.objects.get(pk=later.pk).state == "held"
    assert services.outbox_claim(channel="sms", limit=10, now=now + timedelta(hours=2)) == [
        later.pk
    ]


def test_claim_reads_the_index_in_order_and_never_sorts_the_backlog(db):
    """Each claim step is an ordered scan of the claim index: the database sorts nothing,
    so an urgent alert is claimed as fast behind 100,000 waiting texts as behind none."""
    from django.db import connection

    table = OutboxMessage._meta.db_table
    query = (
        f"SELECT id FROM {table} WHERE state = 'pending' AND channel = 'sms' "  # noqa: S608
        "AND urgent = %s AND next_attempt_at <= %s ORDER BY next_attempt_at, id LIMIT 200"
    )
    params: list[bool | str] = [True, "2030-01-01 00:00:00"]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + query, params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "outbox_claim_idx" in plan and "TEMP B-TREE" not in plan, plan
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + query, params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "outbox_claim_idx" in plan and "Sort" not in plan, plan

"""Pending confirmations and reminders go out through the messaging outbox: once, in the
person's language, on a channel the person has not closed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from leaven.events import services
from leaven.events.models import EventMessage
from leaven.events.services_messages import events_messages_send_due
from leaven.messaging.models import OutboxMessage
from leaven.messaging.services import outbox_drain
from leaven.people.models import Email, Phone
from leaven.people.services import EmailInput, PhoneInput

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _messaging_settings(settings):
    settings.LEAVEN_PUBLIC_URL = "http://testserver"
    settings.LEAVEN_EMAIL_TRANSPORT = "django"
    settings.LEAVEN_SMS_TRANSPORT = "console"
    settings.LEAVEN_OUTBOX_DRAIN_ON_COMMIT = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _person(make_person, *, language="en", email=None, email_status=None, phone=None, sms=None):
    emails = [EmailInput(address=email, status=email_status or Email.Status.SUBSCRIBED)]
    phones = [PhoneInput(number=phone, sms_status=sms or Phone.SMSStatus.OPTED_IN)]
    return make_person(
        given_name="Rosa",
        language=language,
        emails=emails if email else [],
        phones=phones if phone else [],
    )


def _confirmation(rsvp):
    return EventMessage.objects.get(rsvp=rsvp, kind=EventMessage.Kind.CONFIRMATION)


def test_a_due_confirmation_becomes_one_outbox_row_even_when_run_twice(
    admin, make_event, make_person
):
    """Two runs hand the confirmation over once; reminders for later stay pending."""
    event = make_event()
    person = _person(make_person, email="rosa@example.org")
    rsvp = services.rsvp_add_person(actor=admin, event=event, person=person)
    now = timezone.now()

    first = events_messages_send_due(now=now)
    second = events_messages_send_due(now=now)

    assert first == {"sent": 1}
    assert second == {}
    rows = OutboxMessage.objects.filter(idempotency_key=f"event-message:{_confirmation(rsvp).pk}")
    assert rows.count() == 1
    assert OutboxMessage.objects.count() == 1
    assert rows.get().channel == "email"
    assert "Know Your Rights training" in rows.get().subject
    assert _confirmation(rsvp).state == EventMessage.State.SENT
    reminders = EventMessage.objects.filter(rsvp=rsvp, kind=EventMessage.Kind.REMINDER)
    assert reminders.count() == 2
    assert set(reminders.values_list("state", flat=True)) == {EventMessage.State.PENDING}


def test_a_reminder_goes_when_its_time_comes(admin, make_event, make_person):
    """A reminder that is not due is left alone; at its time it goes, once."""
    event = make_event()
    person = _person(make_person, email="rosa@example.org")
    rsvp = services.rsvp_add_person(actor=admin, event=event, person=person)
    events_messages_send_due(now=timezone.now())
    early = EventMessage.objects.filter(rsvp=rsvp, kind=EventMessage.Kind.REMINDER).first()

    assert events_messages_send_due(now=early.due_at - timedelta(minutes=1)) == {}
    early.refresh_from_db()
    assert early.state == EventMessage.State.PENDING

    assert events_messages_send_due(now=early.due_at) == {"sent": 1}
    early.refresh_from_db()
    assert early.state == EventMessage.State.SENT
    message = OutboxMessage.objects.get(idempotency_key=f"event-message:{early.pk}")
    assert message.subject.startswith("Reminder:")


def test_the_spanish_speaker_gets_spanish_text(admin, make_event, make_person):
    """Subject, body, the title and the cancel link come in Spanish."""
    event = make_event(address="1900 S Carpenter St")
    person = _person(make_person, language="es", email="rosa@example.org")
    rsvp = services.rsvp_add_person(actor=admin, event=event, person=person)

    events_messages_send_due(now=timezone.now())

    message = OutboxMessage.objects.get()
    assert message.subject == "Tiene un lugar: Taller Conozca Sus Derechos"
    assert "Hola Rosa:" in message.body
    assert "Cuándo:" in message.body
    assert "Dónde: 1900 S Carpenter St" in message.body
    assert "http://testserver/e/cancel/" in message.body
    assert _confirmation(rsvp).language == "es"


def test_the_time_is_shown_in_the_events_time_zone(admin, make_event, make_person):
    """18:30 in Chicago reads 18:30, whatever the server's zone."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    starts = datetime(2030, 3, 5, 18, 30, tzinfo=ZoneInfo("America/Chicago"))
    event = make_event(starts_at=starts, time_zone="America/Chicago")
    person = _person(make_person, email="rosa@example.org")
    services.rsvp_add_person(actor=admin, event=event, person=person)

    events_messages_send_due(now=timezone.now())

    assert "18:30 (America/Chicago)" in OutboxMessage.objects.get().body


def test_an_unsubscribed_email_is_not_used_the_phone_is(admin, make_event, make_person):
    """With the email unsubscribed, the confirmation goes by text message."""
    event = make_event()
    person = _person(
        make_person,
        email="rosa@example.org",
        email_status=Email.Status.UNSUBSCRIBED,
        phone="+13125550111",
    )
    services.rsvp_add_person(actor=admin, event=event, person=person)

    events_messages_send_due(now=timezone.now())

    message = OutboxMessage.objects.get()
    assert message.channel == "sms"
    assert message.phone is not None


def test_no_usable_channel_is_marked_and_never_retried(admin, make_event, make_person):
    """An unsubscribed email and an opted-out phone: the row is marked, nothing is queued,
    and later runs leave it alone."""
    event = make_event()
    person = _person(
        make_person,
        email="rosa@example.org",
        email_status=Email.Status.UNSUBSCRIBED,
        phone="+13125550111",
        sms=Phone.SMSStatus.OPTED_OUT,
    )
    rsvp = services.rsvp_add_person(actor=admin, event=event, person=person)

    assert events_messages_send_due(now=timezone.now()) == {"no_channel": 1}
    assert events_messages_send_due(now=timezone.now()) == {}

    assert _confirmation(rsvp).state == EventMessage.State.NO_CHANNEL
    assert OutboxMessage.objects.count() == 0
    person.emails.get()
    assert person.emails.get().status == Email.Status.UNSUBSCRIBED
    assert person.phones.get().sms_status == Phone.SMSStatus.OPTED_OUT


def test_withdrawn_reminders_are_skipped(admin, make_event, make_person):
    """Cancelled before the run: the withdrawn reminders and the confirmation that no longer
    fits never go; the cancellation notice does."""
    event = make_event()
    person = _person(make_person, email="rosa@example.org")
    rsvp = services.rsvp_add_person(actor=admin, event=event, person=person)
    services.rsvp_cancel(rsvp=rsvp, actor=admin)

    events_messages_send_due(now=event.starts_at)

    kinds = set(
        EventMessage.objects.filter(rsvp=rsvp, state=EventMessage.State.SENT).values_list(
            "kind", flat=True
        )
    )
    assert kinds == {EventMessage.Kind.CANCELLED}
    assert _confirmation(rsvp).state == EventMessage.State.WITHDRAWN
    assert not EventMessage.objects.filter(
        kind=EventMessage.Kind.REMINDER, state=EventMessage.State.SENT
    ).exists()
    assert OutboxMessage.objects.get().subject.startswith("Your place is cancelled")


def test_the_email_arrives_after_the_outbox_drains(admin, make_event, make_person, client):
    """The message reaches the mail backend with a cancel link that opens the cancel page."""
    event = make_event()
    person = _person(make_person, email="rosa@example.org")
    services.rsvp_add_person(actor=admin, event=event, person=person)
    events_messages_send_due(now=timezone.now())
    assert mail.outbox == []

    outbox_drain(channel="email")

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["rosa@example.org"]
    assert sent.subject == "You have a place: Know Your Rights training"
    assert "Hello Rosa," in sent.body
    link = next(word for word in sent.body.split() if "/e/cancel/" in word)
    response = client.get(link.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert events_messages_send_due(now=timezone.now()) == {}
    outbox_drain(channel="email")
    assert len(mail.outbox) == 1


def test_confirmation_reaches_an_email_given_without_news_consent(admin, make_event, make_person):
    """Someone who RSVP'd without ticking the news box still gets the confirmation they
    asked for, by email; a text needs SMS consent, so a phone without it is not used."""
    event = make_event()
    person = _person(
        make_person,
        email="rosa@example.org",
        email_status=Email.Status.NONE,
        phone="312-555-0142",
        sms=Phone.SMSStatus.NONE,
    )
    rsvp = services.rsvp_add_person(actor=admin, event=event, person=person)
    events_messages_send_due(now=timezone.now())
    row = OutboxMessage.objects.get(idempotency_key=f"event-message:{_confirmation(rsvp).pk}")
    assert row.channel == "email" and row.kind == OutboxMessage.Kind.TRANSACTIONAL
    outbox_drain(channel="email")
    assert [m.to for m in mail.outbox] == [["rosa@example.org"]]
    assert person.emails.get().status == Email.Status.NONE  # no consent was created


def test_cancelling_the_event_tells_each_person_once(admin, make_event, make_person):
    """When an organizer cancels the event, each person with or awaiting a place gets one
    notice in their language with no cancel link; cancelling again sends nothing more, and
    their reminders are withdrawn."""
    event = make_event()
    rosa = _person(make_person, email="rosa@example.org")
    lupe = _person(make_person, language="es", email="lupe@example.org")
    services.rsvp_add_person(actor=admin, event=event, person=rosa)
    services.rsvp_add_person(actor=admin, event=event, person=lupe)
    events_messages_send_due(now=timezone.now())  # the confirmations
    OutboxMessage.objects.all().delete()

    services.event_set_status(actor=admin, event=event, status="cancelled")
    services.event_set_status(actor=admin, event=event, status="scheduled")
    services.event_set_status(actor=admin, event=event, status="cancelled")
    events_messages_send_due(now=timezone.now())

    subjects = sorted(OutboxMessage.objects.values_list("subject", flat=True))
    assert len(subjects) == 2
    assert any(s.startswith("Evento cancelado:") for s in subjects)
    assert any(s.startswith("Cancelled:") for s in subjects)
    assert all(
        "/e/cancel/" not in body for body in OutboxMessage.objects.values_list("body", flat=True)
    )
    assert not EventMessage.objects.filter(
        event=event, kind=EventMessage.Kind.REMINDER, state=EventMessage.State.PENDING
    ).exists()


def test_an_event_put_back_on_before_the_notice_goes_sends_none(admin, make_event, make_person):
    """Cancelled and put back on before the next run: the notice is withdrawn, not sent."""
    event = make_event()
    rosa = _person(make_person, email="rosa@example.org")
    services.rsvp_add_person(actor=admin, event=event, person=rosa)
    services.event_set_status(actor=admin, event=event, status="cancelled")
    services.event_set_status(actor=admin, event=event, status="scheduled")
    events_messages_send_due(now=timezone.now())
    notice = EventMessage.objects.get(kind=EventMessage.Kind.CALLED_OFF)
    assert notice.state == EventMessage.State.WITHDRAWN
    assert not OutboxMessage.objects.filter(subject__startswith="Cancelled").exists()

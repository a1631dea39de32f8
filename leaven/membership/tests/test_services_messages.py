"""Pending membership reminders go out through the messaging outbox: once, in the member's
language, with their status, dues and own link, on a channel the member has not closed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from leaven.membership.models import MembershipReminder
from leaven.membership.services import self_service_link_queue
from leaven.membership.services_messages import membership_reminders_send_due
from leaven.messaging.models import OutboxMessage
from leaven.messaging.services import outbox_drain
from leaven.people.models import Email, Phone
from leaven.people.services import EmailInput, PhoneInput

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 1, 10)


@pytest.fixture(autouse=True)
def _messaging_settings(settings):
    settings.LEAVEN_PUBLIC_URL = "http://testserver"
    settings.LEAVEN_EMAIL_TRANSPORT = "django"
    settings.LEAVEN_SMS_TRANSPORT = "console"
    settings.LEAVEN_OUTBOX_DRAIN_ON_COMMIT = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def member(make_membership):
    def make(*, language="en", email=None, email_status=None, phone=None, sms=None):
        emails = [EmailInput(address=email, status=email_status or Email.Status.SUBSCRIBED)]
        phones = [PhoneInput(number=phone, sms_status=sms or Phone.SMSStatus.OPTED_IN)]
        return make_membership(
            today=TODAY,
            given_name="Rosa",
            language=language,
            emails=emails if email else [],
            phones=phones if phone else [],
        )

    return make


def _link_row(admin, membership):
    self_service_link_queue(actor=admin, membership=membership, today=TODAY)
    return MembershipReminder.objects.get(
        membership=membership, kind=MembershipReminder.Kind.SELF_SERVICE_LINK
    )


def test_a_due_reminder_becomes_one_outbox_row_even_when_run_twice(admin, member):
    """Two runs hand the reminder over once, with the member's own link."""
    membership = member(email="rosa@example.org")
    row = _link_row(admin, membership)

    assert membership_reminders_send_due(today=TODAY) == {"sent": 1}
    assert membership_reminders_send_due(today=TODAY) == {}

    message = OutboxMessage.objects.get()
    assert message.idempotency_key == f"membership-reminder:{row.pk}"
    assert message.channel == "email"
    assert "http://testserver/membership/me/" in message.body
    assert "Dues: 10.00 USD" in message.body
    assert "Status: Pending" in message.body
    row.refresh_from_db()
    assert row.state == MembershipReminder.State.SENT


def test_a_reminder_for_a_later_day_is_left_alone(member):
    """A renewal due tomorrow stays pending today and goes tomorrow."""
    membership = member(email="rosa@example.org")
    row = MembershipReminder.objects.create(
        membership=membership,
        person=membership.person,
        kind=MembershipReminder.Kind.RENEWAL,
        due=TODAY + dt.timedelta(days=1),
    )

    assert membership_reminders_send_due(today=TODAY) == {}
    row.refresh_from_db()
    assert row.state == MembershipReminder.State.PENDING
    assert OutboxMessage.objects.count() == 0

    assert membership_reminders_send_due(today=TODAY + dt.timedelta(days=1)) == {"sent": 1}
    assert OutboxMessage.objects.get().subject.startswith("Your membership in")


def test_a_cancelled_reminder_is_skipped(member):
    membership = member(email="rosa@example.org")
    MembershipReminder.objects.create(
        membership=membership,
        person=membership.person,
        kind=MembershipReminder.Kind.GRACE,
        due=TODAY,
        state=MembershipReminder.State.CANCELLED,
    )

    assert membership_reminders_send_due(today=TODAY) == {}
    assert OutboxMessage.objects.count() == 0


def test_the_spanish_speaker_gets_spanish_text(admin, member):
    membership = member(language="es", email="rosa@example.org")
    _link_row(admin, membership)

    membership_reminders_send_due(today=TODAY)

    message = OutboxMessage.objects.get()
    assert message.subject == "Su página de membresía de Pilsen"
    assert "Hola Rosa:" in message.body
    assert "Estado: Pendiente" in message.body
    assert "Cuota: 10,00 USD" in message.body


def test_an_opted_out_phone_is_not_used(admin, member):
    """With the email bouncing and the phone opted in, the text goes to the phone; with the
    phone opted out too, nothing is queued."""
    membership = member(
        email="rosa@example.org", email_status=Email.Status.BOUNCING, phone="+13125550111"
    )
    _link_row(admin, membership)
    membership_reminders_send_due(today=TODAY)
    assert OutboxMessage.objects.get().channel == "sms"


def test_no_usable_channel_is_marked_and_never_retried(admin, member):
    membership = member(
        email="rosa@example.org",
        email_status=Email.Status.UNSUBSCRIBED,
        phone="+13125550111",
        sms=Phone.SMSStatus.OPTED_OUT,
    )
    row = _link_row(admin, membership)

    assert membership_reminders_send_due(today=TODAY) == {"no_channel": 1}
    assert membership_reminders_send_due(today=TODAY + dt.timedelta(days=1)) == {}

    row.refresh_from_db()
    assert row.state == MembershipReminder.State.NO_CHANNEL
    assert OutboxMessage.objects.count() == 0
    assert membership.person.emails.get().status == Email.Status.UNSUBSCRIBED
    assert membership.person.phones.get().sms_status == Phone.SMSStatus.OPTED_OUT


def test_the_email_arrives_after_the_outbox_drains(admin, member, client):
    """The message reaches the mail backend, and its link opens the member's page."""
    membership = member(email="rosa@example.org")
    _link_row(admin, membership)
    membership_reminders_send_due(today=TODAY)
    assert mail.outbox == []

    outbox_drain(channel="email")

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["rosa@example.org"]
    assert sent.subject == "Your membership page for Pilsen"
    link = next(word for word in sent.body.split() if "/membership/me/" in word)
    assert client.get(link.removeprefix("http://testserver")).status_code == 200

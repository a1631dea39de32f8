"""Transports against real servers: SMTP (aiosmtpd) and the twilio library talking to a
local HTTP server; errors classified; crashes between acceptance and the database update
reconciled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leaven.messaging import services
from leaven.messaging.models import OutboxMessage, SmsSuppression
from leaven.messaging.transports import TwilioTransport, message_id_for, transport_for
from leaven.people.models import Phone

pytestmark = pytest.mark.django_db

NUMBER = "+13125550123"


@pytest.fixture(autouse=True)
def _no_quiet_hours(settings):
    settings.LEAVEN_QUIET_END_HOUR, settings.LEAVEN_QUIET_START_HOUR = 0, 24


def test_sms_goes_through_the_twilio_library(add_person, fake_twilio):
    person = add_person(phone=NUMBER, given_name="Ana")
    services.outbox_enqueue(
        actor=None, person=person, channel="sms", body="Hola {first_name}", idempotency_key="k"
    )
    assert services.outbox_drain(channel="sms").sent == 1
    assert fake_twilio.created[0]["To"] == NUMBER
    assert fake_twilio.created[0]["Body"] == "Hola Ana"
    assert fake_twilio.created[0]["From"] == "+13125550100"
    assert fake_twilio.created[0]["StatusCallback"] == "http://testserver/m/twilio/status/"
    row = OutboxMessage.objects.get()
    assert row.provider_id == "SM" + "1".zfill(32)


def test_carrier_opt_out_error_is_permanent_and_suppresses(add_person, fake_twilio):
    person = add_person(phone=NUMBER)
    fake_twilio.errors[NUMBER] = (400, 21610)
    services.outbox_enqueue(actor=None, person=person, channel="sms", body="x", idempotency_key="k")
    result = services.outbox_drain(channel="sms")
    assert (result.failed, result.retried) == (1, 0)
    assert OutboxMessage.objects.get().error_code == "twilio_21610"
    assert Phone.objects.get().sms_status == "opted_out"
    assert SmsSuppression.objects.count() == 1


def test_invalid_number_is_permanent_without_suppression(add_person, fake_twilio):
    person = add_person(phone=NUMBER)
    fake_twilio.errors[NUMBER] = (400, 21211)
    services.outbox_enqueue(actor=None, person=person, channel="sms", body="x", idempotency_key="k")
    assert services.outbox_drain(channel="sms").failed == 1
    assert Phone.objects.get().sms_status == "opted_in"


def test_provider_outage_is_retried_later(add_person, fake_twilio):
    person = add_person(phone=NUMBER)
    fake_twilio.errors[NUMBER] = (503, 20500)
    services.outbox_enqueue(actor=None, person=person, channel="sms", body="x", idempotency_key="k")
    assert services.outbox_drain(channel="sms").retried == 1
    row = OutboxMessage.objects.get()
    assert row.state == "pending" and row.next_attempt_at > timezone.now()
    del fake_twilio.errors[NUMBER]
    later = row.next_attempt_at + timedelta(seconds=1)
    assert services.outbox_process(channel="sms", now=later).sent == 1


def _crash_after_acceptance(channel):
    """What a worker does up to the provider's acceptance, then dies: the row is claimed
    (sending, leased), the transport accepted the message, and the database never heard."""
    ids = services.outbox_claim(channel=channel, limit=10)
    assert len(ids) == 1
    row = OutboxMessage.objects.get(pk=ids[0])
    transport_for(channel).send(services._outgoing(row))
    return row


def test_sms_crash_between_acceptance_and_update_is_not_sent_again(add_person, fake_twilio):
    person = add_person(phone=NUMBER)
    services.outbox_enqueue(actor=None, person=person, channel="sms", body="x", idempotency_key="k")
    row = _crash_after_acceptance("sms")
    # While the lease holds, no other worker touches the row.
    assert services.outbox_process(channel="sms").handled == 0
    after_lease = row.lease_until + timedelta(seconds=1)
    result = services.outbox_process(channel="sms", now=after_lease)
    assert result.sent == 1
    assert len(fake_twilio.created) == 1  # reconciled with Twilio, not re-sent
    row.refresh_from_db()
    assert row.state == "sent" and row.provider_id == "SM" + "1".zfill(32)


def test_email_crash_between_acceptance_and_update_keeps_one_message_id(add_person, smtp_server):
    """SMTP cannot be asked what it accepted: the message goes again with the same
    Message-ID, so the receiving side holds one message."""
    person = add_person(email="ana@example.org")
    services.outbox_enqueue(
        actor=None, person=person, channel="email", subject="s", body="b", idempotency_key="k"
    )
    row = _crash_after_acceptance("email")
    services.outbox_process(channel="email", now=row.lease_until + timedelta(seconds=1))
    row.refresh_from_db()
    assert row.state == "sent"
    assert set(smtp_server.message_ids) == {message_id_for("k")}


def test_twilio_transport_uses_the_configured_base_url(fake_twilio):
    transport = TwilioTransport()
    assert transport.client.api.base_url == fake_twilio.url

"""Transports against real servers: SMTP (aiosmtpd), and the twilio library and anymail's
Postmark backend each talking to a local HTTP server; errors classified; crashes between
acceptance and the database update reconciled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leaven.messaging import services
from leaven.messaging.models import OutboxMessage, SmsSuppression
from leaven.messaging.transports import (
    AnymailTransport,
    TwilioTransport,
    message_id_for,
    transport_for,
)
from leaven.people.models import Email, Phone

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


# --------------------------------------------------------------------------- anymail
# anymail's real Postmark backend, talking to a local HTTP server standing in for Postmark's
# API: the request carries the server token and the unsubscribe headers; refused recipients
# are permanent and bounce; busy or failing servers are retried.


def _queue(add_person, address="ana@example.org", **fields):
    person = add_person(email=address, given_name="Ana", **fields)
    return services.outbox_enqueue(
        actor=None,
        person=person,
        channel="email",
        subject="Asamblea",
        body="Hola {first_name}",
        idempotency_key=f"k:{address}",
    )


def test_sends_through_the_provider_api_with_token_and_headers(add_person, fake_postmark):
    assert isinstance(transport_for("email"), AnymailTransport)
    row = _queue(add_person)
    assert services.outbox_drain(channel="email").sent == 1
    [request] = fake_postmark.requests
    assert request["path"] == "/email"
    assert request["headers"]["X-Postmark-Server-Token"] == "server-token-123"
    payload = request["json"]
    assert payload["To"] == "ana@example.org" and payload["Subject"] == "Asamblea"
    assert payload["TextBody"].startswith("Hola Ana")
    assert "/m/u/" in payload["TextBody"]
    headers = {h["Name"]: h["Value"] for h in payload["Headers"]}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<http://testserver/m/u/")
    row.refresh_from_db()
    assert (row.state, row.provider_id) == ("sent", "pm-0001")


def test_inactive_recipient_is_permanent_and_marks_the_address_bouncing(add_person, fake_postmark):
    fake_postmark.answers["gone@example.org"] = (
        422,
        {
            "ErrorCode": 406,
            "Message": "You tried to send to a recipient that has been marked as inactive.\n"
            "Found inactive addresses: gone@example.org.\n"
            "Inactive recipients are ones that have generated a hard bounce or a spam "
            "complaint. ",
        },
    )
    row = _queue(add_person, "gone@example.org")
    result = services.outbox_drain(channel="email")
    assert (result.sent, result.failed, result.retried) == (0, 1, 0)
    row.refresh_from_db()
    assert (row.state, row.error_code, row.attempts) == ("failed", "anymail_refused", 1)
    assert Email.objects.get().status == Email.Status.BOUNCING


@pytest.mark.parametrize(
    ("status", "code", "retried"),
    [
        (500, "anymail_500", True),
        (503, "anymail_503", True),
        (429, "anymail_429", True),
        (401, "anymail_401", True),
        (422, "anymail_422", False),
        (400, "anymail_400", False),
    ],
)
def test_provider_errors_are_classified(add_person, fake_postmark, status, code, retried):
    """Server errors, rate limits and a bad token are tried again with a delay; any other
    refusal of the request fails the message without retrying. The address stays as it
    was: nothing says it bounced."""
    fake_postmark.answers["ana@example.org"] = (
        status,
        {"ErrorCode": 300 if status == 422 else 0, "Message": "Invalid 'From' address: 'x'."},
    )
    row = _queue(add_person)
    started = timezone.now()
    result = services.outbox_drain(channel="email")
    row.refresh_from_db()
    assert row.error_code == code and row.attempts == 1
    if retried:
        assert (result.retried, row.state) == (1, "pending")
        assert row.next_attempt_at >= started + timedelta(seconds=30)
    else:
        assert (result.failed, row.state) == (1, "failed")
    assert Email.objects.get().status == Email.Status.SUBSCRIBED


def test_retry_after_a_server_error_then_sent(add_person, fake_postmark):
    fake_postmark.answers["ana@example.org"] = (500, {"ErrorCode": 0, "Message": "down"})
    row = _queue(add_person)
    services.outbox_drain(channel="email")
    del fake_postmark.answers["ana@example.org"]
    row.refresh_from_db()
    result = services.outbox_process(channel="email", now=row.next_attempt_at)
    assert result.sent == 1
    row.refresh_from_db()
    assert (row.state, row.attempts, row.provider_id) == ("sent", 2, "pm-0002")
    assert len(fake_postmark.requests) == 2


def test_unreachable_provider_is_a_temporary_error(add_person, fake_postmark, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_API_URL": "http://127.0.0.1:9/"}
    row = _queue(add_person)
    assert services.outbox_drain(channel="email").retried == 1
    row.refresh_from_db()
    assert (row.state, row.error_code) == ("pending", "anymail_connection")


def test_twilio_requests_leave_no_phone_number_in_the_logs(add_person, fake_twilio, caplog):
    """The twilio library logs each request at INFO, a lookup's query (the number) too: the
    transport keeps that logger quiet."""
    import logging

    caplog.set_level(logging.INFO)
    person = add_person(phone=NUMBER)
    services.outbox_enqueue(actor=None, person=person, channel="sms", body="x", idempotency_key="k")
    row = _crash_after_acceptance("sms")
    services.outbox_process(channel="sms", now=row.lease_until + timedelta(seconds=1))
    row.refresh_from_db()
    assert row.state == "sent"
    assert len(fake_twilio.created) == 1
    assert NUMBER not in caplog.text
    assert NUMBER[2:] not in caplog.text

"""Email providers' tracking reports through anymail's webhook views (Postmark's format):
the secret is checked by anymail and a request without it stores nothing; a hard bounce
marks the address bouncing; a spam complaint unsubscribes it and withdraws what waited for
it; a replay is applied once."""

from __future__ import annotations

import base64
import json

import pytest

from leaven.messaging import services
from leaven.messaging.models import OutboxMessage
from leaven.people.models import Email

pytestmark = pytest.mark.django_db


def _queue(add_person, address="ana@example.org"):
    person = add_person(email=address, given_name="Ana")
    return services.outbox_enqueue(
        actor=None,
        person=person,
        channel="email",
        subject="Asamblea",
        body="Hola {first_name}",
        idempotency_key=f"k:{address}",
    )


def _postmark_event(client, payload, auth="hook:secret"):
    headers = {}
    if auth:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return client.post(
        "/m/anymail/postmark/tracking/",
        data=json.dumps(payload),
        content_type="application/json",
        **headers,
    )


def test_tracking_webhook_bounce_complaint_and_replay(client, add_person, fake_postmark):
    """A hard bounce marks the address bouncing; a spam complaint unsubscribes it (and
    withdraws what was waiting for it); a replay changes nothing; without the secret,
    nothing is stored."""
    from leaven.core.models import AuditEvent
    from leaven.messaging.models import ProviderCallback

    row = _queue(add_person)
    services.outbox_drain(channel="email")
    bounce = {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "MessageID": "pm-0001",
        "Email": "Ana@Example.org",
        "BouncedAt": "2026-11-20T16:00:00Z",
        "Description": "The server was unable to deliver your message",
    }
    assert _postmark_event(client, bounce, auth="hook:wrong").status_code == 400
    assert _postmark_event(client, bounce, auth="").status_code == 400
    assert not ProviderCallback.objects.exists()
    assert _postmark_event(client, bounce).status_code == 200
    assert Email.objects.get().status == Email.Status.BOUNCING
    row.refresh_from_db()
    assert row.delivery_status == "bounced"
    assert _postmark_event(client, bounce).status_code == 200
    assert AuditEvent.objects.filter(verb="email.provider_event").count() == 1

    other = add_person(email="bo@example.org")
    waiting = services.outbox_enqueue(
        actor=None, person=other, channel="email", subject="S", body="B", idempotency_key="w"
    )
    complaint = {
        "RecordType": "SpamComplaint",
        "ID": 42,
        "Type": "SpamComplaint",
        "MessageID": "pm-0099",
        "Email": "bo@example.org",
        "BouncedAt": "2026-11-20T16:00:00Z",
    }
    assert _postmark_event(client, complaint).status_code == 200
    assert other.emails.get().status == Email.Status.UNSUBSCRIBED
    waiting.refresh_from_db()
    assert waiting.state == OutboxMessage.State.SUPPRESSED


@pytest.mark.parametrize("unset", ["transport", "secret"])
def test_tracking_webhook_is_closed_unless_configured(client, add_person, settings, unset):
    """Without email through anymail, or without a webhook secret, the tracking endpoint
    answers 404 and a forged complaint changes nothing."""
    settings.LEAVEN_EMAIL_TRANSPORT = "anymail" if unset == "secret" else "django"
    settings.ANYMAIL = {} if unset == "secret" else {"WEBHOOK_SECRET": "hook:secret"}
    person = add_person(email="ana@example.org", given_name="Ana")
    complaint = {"RecordType": "SpamComplaint", "ID": 1, "Email": "ana@example.org"}
    assert _postmark_event(client, complaint).status_code == 404
    assert _postmark_event(client, complaint, auth=None).status_code == 404
    assert person.emails.get().status == Email.Status.SUBSCRIBED

"""The Stripe webhook: payloads signed the way Stripe signs them (`t=<time>,v1=<HMAC-SHA256
of "t.payload">`) are POSTed to the endpoint. Genuine events apply once; anything else is
refused and leaves no trace. No call to Stripe is made."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import stripe
from django.urls import reverse
from django.utils import timezone

from leaven.membership.models import DuesPayment, ProviderEvent, Status
from leaven.membership.tests.conftest import WEBHOOK_SECRET

URL = "/membership/webhooks/stripe/"


def _event(event_id, kind, obj, created=None):
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "created": int(created if created is not None else time.time()),
            "data": {"object": obj},
        }
    )


def _post(client, payload, *, secret=WEBHOOK_SECRET, timestamp=None):
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    return client.post(
        URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def _paid(membership, event_id="evt_1", invoice="in_1", cents=1000, created=None):
    return _event(
        event_id,
        "invoice.paid",
        {
            "id": invoice,
            "object": "invoice",
            "amount_paid": cents,
            "currency": "usd",
            "customer": "cus_1",
            "metadata": {"leaven_reference": membership.reference},
        },
        created,
    )


def _failed(event_id, created, customer="cus_1"):
    return _event(
        event_id,
        "invoice.payment_failed",
        {
            "id": "in_fail_" + event_id,
            "object": "invoice",
            "amount_due": 1000,
            "customer": customer,
        },
        created,
    )


def test_url_is_where_the_readme_says():
    assert reverse("membership:stripe_webhook") == URL


def test_valid_event_applied_once_and_replay_ignored(client, make_membership):
    """A signed invoice.paid records one card payment and activates the member; the same
    event sent again is acknowledged but changes nothing."""
    membership = make_membership(today=timezone.localdate())
    payload = _paid(membership)
    first = _post(client, payload)
    assert (first.status_code, first.content) == (200, b"paid")
    second = _post(client, payload)
    assert (second.status_code, second.content) == (200, b"duplicate")
    membership.refresh_from_db()
    assert membership.status == Status.ACTIVE
    assert membership.provider_customer == "cus_1"
    payments = DuesPayment.objects.filter(membership=membership)
    assert [(p.amount_cents, p.method, p.provider_reference) for p in payments] == [
        (1000, "card", "in_1")
    ]
    assert ProviderEvent.objects.filter(event_id="evt_1").count() == 1


def test_bad_signature_rejected_with_nothing_stored(client, make_membership):
    membership = make_membership(today=timezone.localdate())
    response = _post(client, _paid(membership), secret="whsec_someone_else")
    assert response.status_code == 400
    missing = client.post(URL, data=_paid(membership), content_type="application/json")
    assert missing.status_code == 400
    assert not ProviderEvent.objects.exists()
    assert not DuesPayment.objects.exists()


def test_tampered_payload_rejected(client, make_membership):
    """A payload changed after signing (a bigger amount) fails the signature."""
    membership = make_membership(today=timezone.localdate())
    payload = _paid(membership)
    header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
    tampered = payload.replace('"amount_paid": 1000', '"amount_paid": 900000')
    response = client.post(
        URL, data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 400
    assert not DuesPayment.objects.exists()


def test_old_timestamp_refused(client, make_membership):
    """A correctly signed but old delivery (a replay from an hour ago) is refused."""
    membership = make_membership(today=timezone.localdate())
    response = _post(client, _paid(membership), timestamp=int(time.time()) - 3600)
    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()


def test_failed_payment_moves_to_grace_with_a_reminder(client, make_membership):
    """A failed recurring payment puts an active member in grace and queues a reminder; it
    never lapses them."""
    membership = make_membership(today=timezone.localdate())
    now = time.time()
    _post(client, _paid(membership, created=now - 86400 * 30))
    response = _post(client, _failed("evt_f", now))
    assert response.content == b"payment_failed"
    membership.refresh_from_db()
    assert membership.status == Status.GRACE
    assert membership.grace_until is not None and membership.grace_until > timezone.localdate()
    reminder = membership.reminders.get(kind="payment_failed")
    assert reminder.state == "pending"


def test_out_of_order_failure_does_not_downgrade(client, make_membership):
    """A payment_failed older than the latest success arrives late: recorded, not applied."""
    membership = make_membership(today=timezone.localdate())
    now = time.time()
    _post(client, _paid(membership, created=now))
    response = _post(client, _failed("evt_old", now - 3600))
    assert response.content == b"stale"
    membership.refresh_from_db()
    assert membership.status == Status.ACTIVE
    assert not membership.reminders.filter(kind="payment_failed").exists()
    assert ProviderEvent.objects.get(event_id="evt_old").outcome == "stale"


def test_out_of_order_success_still_counts(client, make_membership):
    """An older success arriving after a newer one is still money received."""
    membership = make_membership(today=timezone.localdate())
    now = time.time()
    _post(client, _paid(membership, event_id="evt_new", invoice="in_new", created=now))
    _post(client, _paid(membership, event_id="evt_old", invoice="in_old", created=now - 7200))
    membership.refresh_from_db()
    assert DuesPayment.objects.filter(membership=membership).count() == 2
    assert membership.provider_paid_at == dt.datetime.fromtimestamp(int(now), tz=dt.UTC)


def test_checkout_with_client_reference(client, make_membership):
    """A payment link checkout carries the membership's random reference."""
    membership = make_membership(today=timezone.localdate())
    payload = _event(
        "evt_c",
        "checkout.session.completed",
        {
            "id": "cs_1",
            "object": "checkout.session",
            "client_reference_id": membership.reference,
            "payment_status": "paid",
            "payment_intent": "pi_1",
            "amount_total": 1500,
            "customer": "cus_9",
        },
    )
    assert _post(client, payload).content == b"paid"
    assert DuesPayment.objects.get().provider_reference == "pi_1"


def test_unknown_member_and_other_types_are_recorded_not_applied(client, make_membership):
    make_membership(today=timezone.localdate())
    unmatched = _event("evt_u", "invoice.paid", {"id": "in_x", "amount_paid": 100, "customer": "c"})
    assert _post(client, unmatched).content == b"unmatched"
    other = _event("evt_o", "customer.created", {"id": "cus_2"})
    assert _post(client, other).content == b"ignored"
    assert not DuesPayment.objects.exists()


@pytest.mark.parametrize("method", ["get", "put"])
def test_only_post(client, method):
    assert getattr(client, method)(URL).status_code == 405

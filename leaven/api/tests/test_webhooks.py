"""Outgoing webhooks against a real local HTTP server: Action Network-shaped JSON arrays,
an HMAC signature, retries with back-off, one delivery per event, and switching off after
repeated failures."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.django_db


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                if 300 <= receiver.status < 400:
                    self.send_header("Location", "/elsewhere")
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, b""))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.LEAVEN_WEBHOOKS_ALLOW_HTTP_LOCAL = True
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def hook(tree, admin, receiver):
    from leaven.api.services import webhook_create

    return webhook_create(
        actor=admin,
        unit=tree.committee_a,
        url=receiver.url,
        topics=["person.created", "tagging"],
        api_base="https://leaven.example/api/v2",
    )


def test_person_created_is_delivered_signed_once(
    hook, receiver, make_person, django_capture_on_commit_callbacks
):
    """Creating a person sends one signed JSON array with `osdi:signup`; running the
    delivery again sends nothing more."""
    from leaven.api.models import WebhookDelivery
    from leaven.api.services import delivery_send

    with django_capture_on_commit_callbacks(execute=True):
        person = make_person(given_name="Ana")
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    expected = "sha256=" + hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-leaven-signature"] == expected
    payload = json.loads(body)
    assert isinstance(payload, list) and payload[0]["osdi:signup"]["given_name"] == "Ana"
    assert payload[0]["osdi:signup"]["_links"]["self"]["href"].startswith(
        "https://leaven.example/api/v2/people/"
    )
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == WebhookDelivery.State.DELIVERED and delivery.attempts == 1
    assert delivery_send(delivery_id=delivery.pk) == WebhookDelivery.State.DELIVERED
    assert len(receiver.requests) == 1
    assert delivery.object_id == person.pk


def test_same_event_id_is_recorded_once(hook, tree):
    from leaven.api.services import deliveries_create

    first = deliveries_create(
        unit=tree.committee_a,
        topic="tagging",
        event_id="audit:1",
        object_type="tagging",
        object_id=1,
    )
    again = deliveries_create(
        unit=tree.committee_a,
        topic="tagging",
        event_id="audit:1",
        object_type="tagging",
        object_id=1,
    )
    assert len(first) == 1 and again == []


def test_topics_not_chosen_and_other_units_are_not_sent(hook, tree, make_person):
    """A webhook of committee A hears nothing about committee B's people, nor about
    updates it did not ask for."""
    from leaven.api.models import WebhookDelivery

    make_person(tree.committee_b, given_name="Eve")
    assert not WebhookDelivery.objects.exists()


def test_failure_retries_with_backoff_then_switches_off(hook, receiver, tree):
    """A failing endpoint is retried later (back-off grows); after repeated failures the
    webhook switches itself off."""
    from datetime import timedelta

    from django.utils import timezone

    from leaven.api import services
    from leaven.api.models import Webhook, WebhookDelivery

    receiver.status = 500
    ids = services.deliveries_create(
        unit=tree.committee_a, topic="tagging", event_id="e1", object_type="tagging", object_id=1
    )
    before = timezone.now()
    assert services.delivery_send(delivery_id=ids[0]) == WebhookDelivery.State.PENDING
    first = WebhookDelivery.objects.get(pk=ids[0])
    assert first.attempts == 1 and first.last_status == 500
    assert first.next_attempt_at >= before + timedelta(seconds=55)
    assert services.deliveries_due() == []
    assert services.deliveries_due(now=timezone.now() + timedelta(minutes=2)) == [ids[0]]
    services.delivery_send(delivery_id=ids[0])
    second = WebhookDelivery.objects.get(pk=ids[0])
    assert second.next_attempt_at - timezone.now() > timedelta(minutes=1, seconds=50)
    for n in range(services.WEBHOOK_MAX_FAILURES):
        more = services.deliveries_create(
            unit=tree.committee_a,
            topic="tagging",
            event_id=f"x{n}",
            object_type="tagging",
            object_id=1,
        )
        if more:
            services.delivery_send(delivery_id=more[0])
    hook.refresh_from_db()
    assert not hook.is_active and hook.disabled_at is not None
    assert services.webhooks_for(tree.committee_a, "tagging") == []
    assert Webhook.objects.get().consecutive_failures >= services.WEBHOOK_MAX_FAILURES


def test_retry_task_sends_due_deliveries(hook, receiver, tree):
    from leaven.api import services
    from leaven.api.models import WebhookDelivery
    from leaven.api.tasks import deliver_due_webhooks

    ids = services.deliveries_create(
        unit=tree.committee_a, topic="tagging", event_id="e2", object_type="tagging", object_id=1
    )
    result = deliver_due_webhooks.enqueue()
    assert result.return_value == 1
    assert WebhookDelivery.objects.get(pk=ids[0]).state == WebhookDelivery.State.DELIVERED
    assert len(receiver.requests) == 1


def test_tagging_is_sent_as_osdi_tagging(
    hook, receiver, make_person, tree, django_capture_on_commit_callbacks
):
    """Tagging a person sends `osdi:tagging` with links to the tag and the person."""
    from leaven.api.models import WebhookDelivery
    from leaven.people.services import person_tag, tag_create

    person = make_person(given_name="Ana")
    receiver.requests.clear()
    with django_capture_on_commit_callbacks(execute=True):
        tag = tag_create(actor=_admin(tree), owner_unit=tree.committee_a, name="bus")
        person_tag(actor=_admin(tree), person=person, tag=tag)
    payload = json.loads(receiver.requests[-1][1])
    tagging = payload[0]["osdi:tagging"]
    assert tagging["_links"]["osdi:person"]["href"].startswith(
        "https://leaven.example/api/v2/people/"
    )
    assert "/tags/" in tagging["_links"]["osdi:tag"]["href"]
    assert WebhookDelivery.objects.filter(topic="tagging", state="delivered").count() == 1


def _admin(tree):
    from leaven.core.models import User

    return User.objects.get(email="fixture-maker@example.org")


def test_dues_payment_is_delivered_as_a_donation(
    tree, admin, receiver, make_person, django_capture_on_commit_callbacks
):
    """A webhook that asked for donations gets `osdi:donation` when dues are recorded."""
    import datetime as dt

    from leaven.api.services import webhook_create
    from leaven.membership.services import membership_create, payment_record, tier_create

    webhook_create(
        actor=admin,
        unit=tree.committee_a,
        url=receiver.url,
        topics=["donation"],
        api_base="https://leaven.example/api/v2",
    )
    today = dt.date(2026, 1, 10)
    tier = tier_create(
        actor=admin,
        owner_unit=tree.committee_a,
        name_en="Yearly",
        name_es="Anual",
        amount_cents=6000,
        interval="yearly",
    )
    membership = membership_create(
        actor=admin,
        person=make_person(given_name="Rosa"),
        unit=tree.committee_a,
        tier=tier,
        today=today,
    )
    with django_capture_on_commit_callbacks(execute=True):
        payment_record(
            actor=admin,
            membership=membership,
            amount_cents=6000,
            paid_on=today,
            method="check",
            today=today,
        )
    assert len(receiver.requests) == 1
    payload = json.loads(receiver.requests[0][1])
    donation = payload[0]["osdi:donation"]
    assert donation["amount"] == "60.00"
    assert donation["payment"]["method"] == "Check"
    assert donation["action_network:recurrence"] == {"recurring": True, "period": "Yearly"}
    assert donation["_links"]["osdi:person"]["href"].startswith(
        "https://leaven.example/api/v2/people/"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.8/hook",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://printer.local/hook",
    ],
)
def test_addresses_inside_a_private_network_are_refused(tree, admin, url):
    """A webhook may not point at this machine, a private network or cloud metadata."""
    from django.core.exceptions import ValidationError
    from django.utils import translation

    from leaven.api.services import webhook_create

    with translation.override("en"), pytest.raises(ValidationError) as caught:
        webhook_create(actor=admin, unit=tree.committee_a, url=url, topics=["tagging"])
    assert "private network" in str(caught.value.message_dict["url"])


def test_a_name_that_resolves_inside_a_private_network_is_not_posted_to():
    """At delivery the name is resolved again; a private address stops the post."""
    from leaven.api.services import _post

    with pytest.raises(PermissionError):
        _post("https://localhost.example.invalid./hook", b"[]", {})
    with pytest.raises(PermissionError):
        _post("https://localhost/hook", b"[]", {})


def test_a_redirect_is_not_followed(
    hook, receiver, make_person, django_capture_on_commit_callbacks
):
    """A receiver answering with a redirect gets no second post elsewhere; the attempt
    counts as failed (3xx is not delivered)."""
    from leaven.api.models import WebhookDelivery

    receiver.status = 302
    with django_capture_on_commit_callbacks(execute=True):
        make_person(given_name="Rosa")
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status == 302 and delivery.state == WebhookDelivery.State.PENDING
    assert len(receiver.requests) == 1

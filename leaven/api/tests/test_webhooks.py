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


class _Listener:
    """A plain TCP listener on this machine that counts every connection made to it."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


PUBLIC = "93.184.215.14"


def test_dns_rebinding_cannot_move_a_delivery_to_this_machine(tree, admin, monkeypatch):
    """The receiver's name resolves to a public address when it is checked and to
    127.0.0.1 afterwards: the post goes to the public address that was checked (here
    refused, the test has no outside network), never to a listener on this machine."""
    import socket

    from leaven.api import services
    from leaven.api.models import WebhookDelivery

    listener = _Listener()
    answers: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host != "hooks.example.org":
            return real_getaddrinfo(host, port, *args, **kwargs)
        address = PUBLIC if not answers else "127.0.0.1"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    real_connect = socket.create_connection
    tried: list[str] = []

    def no_outside_network(address, *args, **kwargs):
        tried.append(str(address[0]))
        if address[0] == PUBLIC:
            raise ConnectionRefusedError("no outside network in tests")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(socket, "create_connection", no_outside_network)
    try:
        hook = services.webhook_create(
            actor=admin,
            unit=tree.committee_a,
            url=f"https://hooks.example.org:{listener.port}/hook",
            topics=["tagging"],
        )
        ids = services.deliveries_create(
            unit=tree.committee_a,
            topic="tagging",
            event_id="r1",
            object_type="tagging",
            object_id=1,
        )
        assert services.delivery_send(delivery_id=ids[0]) == WebhookDelivery.State.PENDING
        answers.clear()
        with pytest.raises(ConnectionRefusedError):
            services._post(hook.url, b"[]", {})
        # Resolved once per post: the check's answer is the one connected to.
        assert answers == [PUBLIC]
    finally:
        listener.close()
    assert listener.connections == 0
    assert PUBLIC in tried and "127.0.0.1" not in tried
    delivery = WebhookDelivery.objects.get(pk=ids[0])
    assert delivery.last_error == "ConnectionRefusedError" and delivery.last_status is None


def _tls_server(name: str, tmp_path):
    """A local HTTPS receiver with a self-signed certificate for `name`; returns the server,
    the SSL context that trusts it, and what it saw (SNI, Host header, path)."""
    import datetime as dt
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    seen: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            seen["host"] = self.headers["Host"]
            seen["path"] = self.path
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)

    def sni(sock, server_name, context) -> None:
        seen["sni"] = server_name or ""

    server_context.sni_callback = sni
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client_context = ssl.create_default_context(cafile=str(cert_file))
    return server, client_context, seen


def test_https_to_the_vetted_address_verifies_the_certificate_for_the_name(tmp_path):
    """Connecting to the vetted address keeps HTTPS honest: SNI and the Host header carry
    the host name, the certificate is checked against that name, and a certificate for
    another name is refused."""
    import ssl

    from leaven.api.services import _PinnedHTTPSConnection

    server, context, seen = _tls_server("hooks.example.org", tmp_path)
    port = server.server_address[1]
    try:
        good = _PinnedHTTPSConnection(
            "hooks.example.org", port, addresses=["127.0.0.1"], timeout=5, context=context
        )
        good.request("POST", "/hook?x=1", body=b"[]", headers={"Content-Type": "application/json"})
        assert good.getresponse().status == 204
        good.close()
        assert seen == {
            "sni": "hooks.example.org",
            "host": f"hooks.example.org:{port}",
            "path": "/hook?x=1",
        }
        wrong = _PinnedHTTPSConnection(
            "other.example.org", port, addresses=["127.0.0.1"], timeout=5, context=context
        )
        with pytest.raises(ssl.SSLCertVerificationError):
            wrong.request("POST", "/hook", body=b"[]")
        wrong.close()
    finally:
        server.shutdown()
        server.server_close()


def test_each_vetted_address_is_tried_in_turn(monkeypatch):
    """A receiver with two public addresses (an unreachable IPv6 one first, say) is reached
    at the second; both were checked, and nothing else is connected to."""
    import socket

    from leaven.api import services

    second = "151.101.1.69"

    def two_addresses(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (second, port)),
        ]

    tried: list[str] = []

    def refuse(address, *args, **kwargs):
        tried.append(str(address[0]))
        raise ConnectionRefusedError("no outside network in tests")

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    monkeypatch.setattr(socket, "create_connection", refuse)
    with pytest.raises(ConnectionRefusedError):
        services._post("https://hooks.example.org/hook", b"[]", {})
    assert tried == [PUBLIC, second]

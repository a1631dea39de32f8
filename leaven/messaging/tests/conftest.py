"""Messaging fixtures: people with contact points, a real SMTP server (aiosmtpd) that counts
what it receives, and a local HTTP server that speaks the slice of Twilio's REST API the
transport uses, driven by the real `twilio` library."""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing a password properly takes a good fraction of a second; tests need not."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _messaging_settings(settings):
    settings.LEAVEN_PUBLIC_URL = "http://testserver"
    settings.LEAVEN_POSTAL_ADDRESS = "1900 S Carpenter St, Chicago IL 60608"
    settings.LEAVEN_ORG_NAME = "Red Solidaria"
    settings.LEAVEN_ORG_CONTACT = "info@example.org"
    settings.LEAVEN_SMS_TRANSPORT = "console"
    settings.LEAVEN_EMAIL_TRANSPORT = "django"
    settings.LEAVEN_OUTBOX_DRAIN_ON_COMMIT = False
    settings.TWILIO_AUTH_TOKEN = "test-auth-token"
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_FROM_NUMBER = "+13125550100"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def organizer(tree):
    from conftest import _user

    return _user("organizer@example.org", "organizer", tree.committee_a)


@pytest.fixture
def add_person(make_person):
    """A person with an email and/or a phone, with the consents given."""
    from leaven.people.services import EmailInput, PhoneInput

    counter = {"n": 0}

    def add(
        unit=None,
        *,
        email: str | None = None,
        phone: str | None = None,
        sms: str = "opted_in",
        urgent: bool = False,
        email_status: str = "subscribed",
        **fields,
    ):
        counter["n"] += 1
        fields.setdefault("given_name", f"Persona{counter['n']}")
        emails = [EmailInput(address=email, status=email_status)] if email else []
        phones = [PhoneInput(number=phone, sms_status=sms, urgent_alerts=urgent)] if phone else []
        return make_person(unit, emails=emails, phones=phones, **fields)

    return add


@dataclass
class SMTPServer:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)
    # When set, the Nth message (1-based) is held unanswered until `release` is set, then
    # refused with a 451 and not kept: the client never heard it was accepted.
    hold_at: int = 0
    # With hold_all, every message from the Nth on is held (until `release`), not only the Nth.
    hold_all: bool = False
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    refuse: set[str] = field(default_factory=set)
    # Recipients whose message is refused at the end of DATA (554), after RCPT was accepted.
    refuse_data: set[str] = field(default_factory=set)
    # Offer PIPELINING (RFC 2920) in the EHLO answer, as Postfix and Exim do.
    pipelining: bool = False
    # The envelope (sender, recipients) and raw bytes of each accepted message.
    envelopes: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    # How many sessions greeted the server (one per connection).
    greetings: int = 0
    seen: int = 0

    @property
    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


class _Handler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        session.host_name = hostname
        self.server.greetings += 1
        if self.server.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.server.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        import asyncio

        self.server.seen += 1
        hold = self.server.hold_at and (
            self.server.seen == self.server.hold_at
            or (
                self.server.hold_all
                and self.server.seen > self.server.hold_at
                and not self.server.release.is_set()
            )
        )
        if hold:
            self.server.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, self.server.release.wait)
            return "451 4.3.0 Aborted"
        if self.server.refuse_data & set(envelope.rcpt_tos):
            return "554 5.7.1 Message refused"
        self.server.envelopes.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        self.server.messages.append(
            message_from_bytes(envelope.original_content, policy=policy.default)
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a free port; Django's SMTP backend is pointed at it."""
    from aiosmtpd.controller import Controller

    state = SMTPServer("127.0.0.1", free_port())
    controller = Controller(_Handler(state), hostname=state.host, port=state.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = state.host, state.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield state
    state.release.set()
    controller.stop()


@dataclass
class FakeTwilio:
    url: str
    created: list[dict[str, str]] = field(default_factory=list)
    # Destination number -> (HTTP status, Twilio error code) to answer with.
    errors: dict[str, tuple[int, int]] = field(default_factory=dict)


def _twilio_handler(state: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _message(self, sid: str, item: dict[str, str]) -> dict[str, Any]:
            return {
                "sid": sid,
                "to": item["To"],
                "from": item.get("From", ""),
                "body": item.get("Body", ""),
                "status": "queued",
                "account_sid": "AC" + "0" * 32,
                "uri": f"/2010-04-01/Accounts/AC/Messages/{sid}.json",
            }

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            error = state.errors.get(form.get("To", ""))
            if error:
                status, code = error
                self._json(status, {"code": code, "message": "error", "status": status})
                return
            state.created.append(form)
            sid = f"SM{len(state.created):032d}"
            self._json(201, self._message(sid, form))

        def do_GET(self) -> None:  # noqa: N802
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            items = [
                self._message(f"SM{i + 1:032d}", item)
                for i, item in enumerate(state.created)
                if not query.get("To") or item["To"] == query["To"]
            ]
            self._json(
                200,
                {
                    "messages": items,
                    "end": len(items),
                    "first_page_uri": "",
                    "next_page_uri": None,
                    "page": 0,
                    "page_size": 50,
                    "previous_page_uri": None,
                    "start": 0,
                    "uri": self.path,
                },
            )

    return Handler


@pytest.fixture
def fake_twilio(settings):
    """A local HTTP server standing in for api.twilio.com; the real twilio client talks to
    it through TWILIO_API_BASE."""
    state = FakeTwilio("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _twilio_handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.LEAVEN_SMS_TRANSPORT = "twilio"
    settings.TWILIO_API_BASE = state.url
    yield state
    server.shutdown()
    server.server_close()


def twilio_signature(url: str, params: dict[str, str], token: str = "test-auth-token") -> str:  # noqa: S107
    from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

    return str(RequestValidator(token).compute_signature(url, params))


@dataclass
class FakePostmark:
    """What the stand-in for Postmark's API received, and how it should answer."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Recipient address -> (HTTP status, JSON answer) to give instead of success.
    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)


def _postmark_handler(state: FakePostmark) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length).decode())
            state.requests.append({"path": self.path, "headers": dict(self.headers), "json": body})
            to = body.get("To", "")
            status, answer = state.answers.get(
                to,
                (
                    200,
                    {
                        "To": to,
                        "ErrorCode": 0,
                        "Message": "OK",
                        "MessageID": f"pm-{len(state.requests):04d}",
                    },
                ),
            )
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def fake_postmark(settings):
    """A local HTTP server standing in for Postmark's API; anymail's real Postmark backend
    talks to it through ANYMAIL's POSTMARK_API_URL."""
    state = FakePostmark("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _postmark_handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.LEAVEN_EMAIL_TRANSPORT = "anymail"
    settings.LEAVEN_ANYMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "server-token-123",
        "POSTMARK_API_URL": state.url,
        "WEBHOOK_SECRET": "hook:secret",
    }
    yield state
    server.shutdown()
    server.server_close()

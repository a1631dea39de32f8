"""The plain-text SMTP fast path: what it writes parses to the same message as Django's
EmailMessage, and it speaks SMTP to a real server (aiosmtpd) with and without PIPELINING,
raising smtplib's own errors."""

from __future__ import annotations

import re
import smtplib
from email import message_from_bytes, policy

import pytest
from django.core.mail import EmailMultiAlternatives
from hypothesis import given, settings
from hypothesis import strategies as st

from leaven.messaging import services
from leaven.messaging.models import OutboxMessage
from leaven.messaging.smtp import compose, deliver
from leaven.messaging.transports import EmailTransport, Outgoing, SendError

FROM = "Comité Pilsen <noreply@example.org>"
HEADERS = {
    "Message-ID": "<0123456789abcdef@leaven.outbox>",
    "List-Unsubscribe": "<https://leaven.example.org/m/u/eyJlIjoyMzk5LCJsIjoiZXMifQ:1xUi/>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}
COMPARED = (
    "Subject",
    "From",
    "To",
    "Message-ID",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Content-Type",
    "Content-Transfer-Encoding",
    "MIME-Version",
)


def _django(subject: str, body: str, to: str = "ana@example.org") -> bytes:
    email = EmailMultiAlternatives(
        subject=subject, body=body, from_email=FROM, to=[to], headers=HEADERS
    )
    return bytes(email.message().as_bytes(linesep="\r\n"))


BARE_LINE_END = re.compile(rb"(?<!\r)\n|\r(?!\n)")


def _same_message(ours: bytes, django: bytes) -> None:
    """The same headers once parsed, the very same body bytes, and no line end other than
    CRLF anywhere (strict servers refuse a bare LF or CR)."""
    assert not BARE_LINE_END.search(ours), ours
    assert ours.split(b"\r\n\r\n", 1)[1] == django.split(b"\r\n\r\n", 1)[1]
    a = message_from_bytes(ours, policy=policy.default)
    b = message_from_bytes(django, policy=policy.default)
    for name in COMPARED:
        assert str(a[name]).strip() == str(b[name]).strip(), name
    assert a.get_content() == b.get_content()


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Asamblea el sábado", "Hola María Peña,\nnos vemos en Pilsen.\n\n--\nBaja: https://x/"),
        ("Assembly", "Hi Ana,\r\n.a line that starts with a dot\rand an old Mac line end\n"),
        ("Reunión: Nguyễn, O'Brien, Muñoz", "Xin chào Nguyễn Thị Ánh\n"),
        ("A" * 120, "long subject, folded the same way\n"),
        ("Alerta de respuesta rápida: actividad reportada cerca de la escuela", "Vayan.\n"),
        ("Long English subject " * 6, "folded several times\n"),
        ("", ""),
    ],
)
def test_composed_message_parses_like_djangos(subject, body):
    """Subject (encoded or folded), sender, recipient, ids, unsubscribe headers, content
    type, transfer encoding and the decoded body all match what Django writes."""
    composed = compose(from_email=FROM, to="ana@example.org", subject=subject, body=body,
                       headers=HEADERS)  # fmt: skip
    assert composed is not None
    sender, data = composed
    assert sender == "noreply@example.org"
    assert b"\n" not in data.replace(b"\r\n", b"")  # every line ends in CRLF
    _same_message(data, _django(subject, body))


@settings(max_examples=60, deadline=None)
@given(
    subject=st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=90),
    body=st.text(st.characters(exclude_categories=["Cs"]), max_size=400),
)
def test_any_subject_and_body_parse_like_djangos(subject, body):
    """For any printable subject and any body, the fast path writes what Django would, or
    declines (and Django's EmailMessage is used)."""
    composed = compose(from_email=FROM, to="ana@example.org", subject=subject, body=body,
                       headers=HEADERS)  # fmt: skip
    if composed is not None:
        _same_message(composed[1], _django(subject, body))


@pytest.mark.parametrize(
    ("to", "subject", "body", "headers"),
    [
        ("josé@example.org", "s", "b", HEADERS),  # non-ASCII local part
        ("ana@correo.méxico", "s", "b", HEADERS),  # internationalized domain
        ('"ana maria"@example.org', "s", "b", HEADERS),  # quoted local part
        ("ana@example.org", "s\r\nBcc: x@example.org", "b", HEADERS),  # header injection
        ("ana@example.org", "s", "x" * 999, HEADERS),  # a line longer than SMTP carries
        ("ana@example.org", "s", "b", {**HEADERS, "X-Note": "línea"}),  # non-ASCII header
        ("ana@example.org", "s", "b", {**HEADERS, "X-Note": "a\nBcc: x@example.org"}),
        ("ana@example.org", "s", "b", {"List-Unsubscribe": "<https://x/>"}),  # no Message-ID
        ("ana@example.org", "s", "b", {**HEADERS, "Bcc: x@example.org\r\nX": "y"}),  # bad name
    ],
)
def test_declines_what_it_does_not_write(to, subject, body, headers):
    """Anything outside the plain shape is left to Django's EmailMessage."""
    assert compose(from_email=FROM, to=to, subject=subject, body=body, headers=headers) is None


@pytest.fixture(params=[False, True], ids=["one-by-one", "pipelined"])
def server(request, smtp_server):
    smtp_server.pipelining = request.param
    return smtp_server


def _connect(server) -> smtplib.SMTP:
    smtp = smtplib.SMTP(server.host, server.port, timeout=10)
    smtp.ehlo()
    return smtp


def test_delivers_the_exact_bytes_with_dots_kept(server):
    """The server receives the message as composed: a line starting with a dot arrives
    intact (dot-stuffed on the wire), the envelope names the sender and the recipient."""
    sender, data = compose(from_email=FROM, to="ana@example.org", subject="s",
                           body="Hola\n.\n..dos\nfin", headers=HEADERS)  # type: ignore[misc]  # fmt: skip
    smtp = _connect(server)
    assert smtp.has_extn("pipelining") is server.pipelining
    deliver(smtp, sender, "ana@example.org", data)
    deliver(smtp, sender, "ana@example.org", data)
    smtp.quit()
    assert len(server.envelopes) == 2
    mail_from, rcpt_tos, content = server.envelopes[0]
    assert (mail_from, rcpt_tos) == ("noreply@example.org", ["ana@example.org"])
    assert content.rstrip(b"\r\n") == data
    assert server.messages[0].get_content().replace("\r\n", "\n") == "Hola\n.\n..dos\nfin\n"


def test_refused_recipient_raises_and_the_connection_goes_on(server):
    """A refused RCPT raises SMTPRecipientsRefused with the server's code; nothing is
    delivered for it, and the next message on the same connection goes through."""
    server.refuse.add("gone@example.org")
    sender, data = compose(from_email=FROM, to="gone@example.org", subject="s", body="b",
                           headers=HEADERS)  # type: ignore[misc]  # fmt: skip
    smtp = _connect(server)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as raised:
        deliver(smtp, sender, "gone@example.org", data)
    assert raised.value.recipients["gone@example.org"][0] == 550
    deliver(smtp, sender, "ana@example.org", data)
    smtp.quit()
    assert [rcpt for _, rcpt, _ in server.envelopes] == [["ana@example.org"]]


def test_refused_message_raises_data_error_and_the_connection_goes_on(server):
    """A message refused at the end of DATA raises SMTPDataError with the server's code."""
    server.refuse_data.add("spam@example.org")
    sender, data = compose(from_email=FROM, to="spam@example.org", subject="s", body="b",
                           headers=HEADERS)  # type: ignore[misc]  # fmt: skip
    smtp = _connect(server)
    with pytest.raises(smtplib.SMTPDataError) as raised:
        deliver(smtp, sender, "spam@example.org", data)
    assert raised.value.smtp_code == 554
    deliver(smtp, sender, "ana@example.org", data)
    smtp.quit()
    assert len(server.envelopes) == 1


def test_transport_classifies_fast_path_refusals(server, db):
    """Through the email transport: a refused address is a permanent error that marks it
    bouncing; a message sent after it on the same connection arrives."""
    server.refuse.add("gone@example.org")
    transport = EmailTransport()
    transport.open()
    try:
        with pytest.raises(SendError) as raised:
            transport.send(Outgoing(key="k1", channel="email", destination="gone@example.org",
                                    subject="s", body="b"))  # fmt: skip
        assert raised.value.permanent and raised.value.bouncing
        assert raised.value.code == "smtp_550"
        transport.send(Outgoing(key="k2", channel="email", destination="ana@example.org",
                                subject="s", body="b"))  # fmt: skip
    finally:
        transport.close()
    assert [m["To"] for m in server.messages] == ["ana@example.org"]


def test_unusual_address_still_goes_through_django(smtp_server, db):
    """An internationalized domain is not written by the fast path; Django's EmailMessage
    sends it, with the domain in punycode."""
    transport = EmailTransport()
    transport.open()
    try:
        transport.send(Outgoing(key="k", channel="email", destination="ana@correo.méxico",
                                subject="s", body="b"))  # fmt: skip
    finally:
        transport.close()
    assert smtp_server.envelopes[0][1] == ["ana@correo.xn--mxico-bsa"]


def test_broadcast_over_pipelined_connections_sends_each_once(add_person, server):
    """Through the outbox over three connections at once, with or without PIPELINING,
    every message arrives once, each with its own Message-ID and unsubscribe link."""
    for i in range(30):
        person = add_person(email=f"p{i}@example.org")
        services.outbox_enqueue(actor=None, person=person, channel="email", subject="Asamblea",
                                body=f"Hola {i}", idempotency_key=f"b-{i}")  # fmt: skip
    result = services.outbox_process(channel="email", limit=100, connections=3)
    assert result.sent == 30
    assert len(server.messages) == 30
    assert len(set(server.message_ids)) == 30
    assert len({m["List-Unsubscribe"] for m in server.messages}) == 30
    assert OutboxMessage.objects.filter(state="sent").count() == 30


def test_after_a_refusal_the_transport_opens_one_new_connection(server, db):
    """A refused message closes the connection; the messages after it share one new
    connection instead of opening one each."""
    server.refuse_data.add("spam@example.org")
    transport = EmailTransport()
    transport.open()
    try:
        for key, to in (("k1", "ana@example.org"), ("k2", "spam@example.org"),
                        ("k3", "luis@example.org"), ("k4", "rosa@example.org")):  # fmt: skip
            try:
                transport.send(Outgoing(key=key, channel="email", destination=to,
                                        subject="s", body="b"))  # fmt: skip
            except SendError as error:
                assert error.permanent and to == "spam@example.org"
    finally:
        transport.close()
    assert [m["To"] for m in server.messages] == [
        "ana@example.org",
        "luis@example.org",
        "rosa@example.org",
    ]
    assert server.greetings == 2

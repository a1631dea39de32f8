"""The fast path for plain-text email over SMTP.

Django's EmailMessage builds a whole MIME tree and folds every header through the standard
library's email package, and smtplib's `sendmail` parses each address again: together about
0.3 ms of Python per message, most of a worker's time in a broadcast. A broadcast message is
always the same shape (one plain-text part, one recipient, a few ASCII headers), so this
module writes that shape directly and speaks SMTP on the connection that Django's SMTP
backend opened (its host, port, TLS, login and timeout settings apply unchanged).

`compose` returns None for anything outside that shape (an HTML part, an address that is
not plain ASCII, a header with a line break, a body line longer than SMTP allows); the
caller then goes through Django's EmailMessage as before. A test checks that what this
writes parses to the same message as Django's.

`deliver` sends one message and raises the same smtplib exceptions as `sendmail`, so errors
are classified in one place. When the server offers PIPELINING (RFC 2920, as Postfix,
Exim and the large providers do), MAIL, RCPT and DATA go in one write and their answers are
read together: two round trips a message instead of four.
"""

from __future__ import annotations

import re
import smtplib
import time
from email.utils import formatdate
from functools import lru_cache

from django.core.mail.message import forbid_multi_line_headers

# An address that needs no encoding or quoting anywhere: ASCII local part of the common
# characters, ASCII host name. Anything else goes through Django's EmailMessage.
SIMPLE_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+\Z")
# The longest line SMTP carries (RFC 5321 4.5.3.1.6: 1,000 octets with CRLF).
LINE_LIMIT = 998
NEWLINES = re.compile(r"\r\n|\r|\n")
# A header field name (RFC 5322 2.2: printable ASCII but the colon).
HEADER_NAME = re.compile(r"[!-9;-~]+\Z")
LEADING_DOT = re.compile(rb"(?m)^\.")


@lru_cache(maxsize=256)
def _header_value(name: str, value: str) -> str:
    """A header value as Django writes it (RFC 2047 for non-ASCII, folded subject); the
    same few subjects and senders repeat across a whole broadcast. The standard library
    folds with a bare LF; on the wire every line ends in CRLF (a bare LF is refused by
    strict servers), as Django's generator writes it."""
    folded = str(forbid_multi_line_headers(name, value, "utf-8")[1])
    return NEWLINES.sub("\r\n", folded)


@lru_cache(maxsize=256)
def _sender(from_email: str) -> tuple[str, str] | None:
    """(From header, envelope address) for DEFAULT_FROM_EMAIL, or None if it is not simple."""
    from email.utils import parseaddr

    if "\r" in from_email or "\n" in from_email:
        return None
    name, address = parseaddr(from_email)
    if not SIMPLE_ADDRESS.match(address):
        return None
    return _header_value("From", from_email), address


_date_cache: tuple[int, str] = (0, "")


def _date(localtime: bool) -> str:
    """The Date header, formatted once a second."""
    global _date_cache  # noqa: PLW0603 - a one-entry cache shared by the sending threads
    second = int(time.time())
    cached = _date_cache
    if cached[0] == second:
        return cached[1]
    value = formatdate(second, localtime=localtime)
    _date_cache = (second, value)
    return value


def compose(
    *,
    from_email: str,
    to: str,
    subject: str,
    body: str,
    headers: dict[str, str],
    localtime: bool = False,
) -> tuple[str, bytes] | None:
    """(envelope sender, message bytes with CRLF line ends) for a plain-text message to one
    address, or None when the message is not of the simple shape this module writes."""
    if "Message-ID" not in headers:
        return None  # Django would make one up; every outbox message brings its own
    sender = _sender(from_email)
    if sender is None or not SIMPLE_ADDRESS.match(to):
        return None
    if "\r" in subject or "\n" in subject:
        return None
    lines = NEWLINES.split(body)
    encoded = [line.encode("utf-8", errors="surrogateescape") for line in lines]
    if any(len(line) > LINE_LIMIT for line in encoded):
        return None
    extra = []
    for name, value in headers.items():
        if not value.isascii() or "\r" in value or "\n" in value or not HEADER_NAME.match(name):
            return None
        if len(name) + len(value) + 2 > LINE_LIMIT:
            return None
        extra.append(f"{name}: {value}\r\n")
    ascii_body = body.isascii()
    head = (
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "MIME-Version: 1.0\r\n"
        f"Content-Transfer-Encoding: {'7bit' if ascii_body else '8bit'}\r\n"
        f"Subject: {_header_value('Subject', subject)}\r\n"
        f"From: {sender[0]}\r\n"
        f"To: {to}\r\n"
        f"Date: {_date(localtime)}\r\n"
        f"{''.join(extra)}"
        "\r\n"
    )
    return sender[1], head.encode("ascii") + b"\r\n".join(encoded)


def _abandon(smtp: smtplib.SMTP, code: int, message: bytes) -> None:
    """The server answered DATA with 354 although MAIL or RCPT failed: the transaction
    cannot be ended without sending something, so the connection is dropped."""
    smtp.close()
    raise smtplib.SMTPServerDisconnected(f"unexpected {code} {message!r} after a refusal")


def deliver(smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
    """Send one message on an open smtplib connection, as `sendmail` would, raising the same
    exceptions: SMTPSenderRefused, SMTPRecipientsRefused, SMTPDataError, and OSError or
    SMTPServerDisconnected for a broken connection."""
    smtp.ehlo_or_helo_if_needed()
    options = f" SIZE={len(data)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
    mail = f"MAIL FROM:<{sender}>{options}\r\n"
    rcpt = f"RCPT TO:<{recipient}>\r\n"
    if smtp.does_esmtp and smtp.has_extn("pipelining"):
        smtp.send(mail + rcpt + "DATA\r\n")
        mail_reply, rcpt_reply, data_reply = smtp.getreply(), smtp.getreply(), smtp.getreply()
    else:
        smtp.send(mail)
        mail_reply = smtp.getreply()
        rcpt_reply = data_reply = (0, b"")
        if mail_reply[0] == 250:
            smtp.send(rcpt)
            rcpt_reply = smtp.getreply()
            if rcpt_reply[0] in (250, 251):
                smtp.send("DATA\r\n")
                data_reply = smtp.getreply()
    if mail_reply[0] != 250:
        if data_reply[0] == 354:
            _abandon(smtp, *data_reply)
        _reset(smtp, mail_reply[0])
        raise smtplib.SMTPSenderRefused(mail_reply[0], mail_reply[1], sender)
    if rcpt_reply[0] not in (250, 251):
        if data_reply[0] == 354:
            _abandon(smtp, *data_reply)
        _reset(smtp, rcpt_reply[0])
        raise smtplib.SMTPRecipientsRefused({recipient: rcpt_reply})
    if data_reply[0] != 354:
        _reset(smtp, data_reply[0])
        raise smtplib.SMTPDataError(*data_reply)
    payload = LEADING_DOT.sub(b"..", data)
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    smtp.send(payload + b".\r\n")
    code, message = smtp.getreply()
    if code != 250:
        _reset(smtp, code)
        raise smtplib.SMTPDataError(code, message)


def _reset(smtp: smtplib.SMTP, code: int) -> None:
    """After a refusal, as smtplib does: RSET, or close on 421 (the server is leaving)."""
    if code == 421:
        smtp.close()
        return
    try:
        smtp.rset()
    except smtplib.SMTPServerDisconnected:
        pass

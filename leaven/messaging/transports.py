"""Transports: how a rendered message leaves Leaven. One interface for email and SMS.

A transport's `send` returns the provider's id for the message, or raises `SendError`
classified as permanent (no retry) or temporary (retried with backoff). `lookup` answers,
after a crash, whether the provider already accepted a message (None when it cannot tell).

A transport whose `lookup` is authoritative (it always finds a message the provider
accepted) sets `reconciles = True`: the outbox then sends a whole batch of texts before
recording the outcomes in one commit, because a crash in between is reconciled with the
provider instead of sent again. A transport that can be used from several threads at once
offers `fork()`, which returns a transport for another thread (itself when it is
thread-safe); the outbox then sends texts over LEAVEN_SMS_CONNECTIONS threads.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

from leaven.messaging import conf
from leaven.messaging.smtp import compose, deliver

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """What a transport needs to send one message."""

    key: str  # the row's idempotency key
    channel: str
    destination: str
    subject: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    html: str = ""


class SendError(Exception):
    def __init__(
        self,
        code: str,
        *,
        permanent: bool,
        opted_out: bool = False,
        bouncing: bool = False,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.permanent = permanent
        self.opted_out = opted_out
        self.bouncing = bouncing


class Transport(Protocol):
    channel: str
    # Optional: `reconciles: bool` (lookup is authoritative) and `fork() -> Transport`.

    def open(self) -> None: ...

    def close(self) -> None: ...

    def send(self, message: Outgoing) -> str: ...

    def lookup(self, message: Outgoing) -> str | None: ...


def message_id_for(key: str) -> str:
    """The email Message-ID for an idempotency key: the same row always gets the same id,
    so a re-send after a crash is recognized as the same message by receiving systems."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"<{digest}@leaven.outbox>"


class EmailTransport:
    """Email through Django's configured email backend (SMTP in production)."""

    channel = "email"

    def __init__(self, backend: str | None = None) -> None:
        self.connection: BaseEmailBackend = get_connection(backend)

    def open(self) -> None:
        try:
            self.connection.open()
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError("smtp_connect", permanent=False) from exc

    def close(self) -> None:
        try:
            self.connection.close()
        except (OSError, smtplib.SMTPException):
            logger.warning("email transport: closing the connection failed")

    def send(self, message: Outgoing) -> str:
        from django.conf import settings

        headers = {"Message-ID": message_id_for(message.key), **message.headers}
        smtp: smtplib.SMTP | None = getattr(self.connection, "connection", None)
        if type(self.connection) is SMTPBackend and (smtp is None or smtp.sock is None):
            # Closed after an error (or by the server): open it again, rather than letting
            # Django open and close one for each message from here on.
            self._reset()
            self.open()
            smtp = getattr(self.connection, "connection", None)
        composed = None
        # Only Django's own SMTP backend: a subclass may change the message (a DKIM
        # signature, say) in ways this path would skip.
        if type(self.connection) is SMTPBackend and smtp is not None and not message.html:
            composed = compose(
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=message.destination,
                subject=message.subject,
                body=message.body,
                headers=headers,
                localtime=settings.EMAIL_USE_LOCALTIME,
            )
        try:
            if composed is not None and smtp is not None:
                deliver(smtp, composed[0], message.destination, composed[1])
            else:
                email = EmailMultiAlternatives(
                    subject=message.subject,
                    body=message.body,
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=[message.destination],
                    headers=headers,
                    connection=self.connection,
                )
                if message.html:
                    email.attach_alternative(message.html, "text/html")
                email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            permanent = any(500 <= code < 600 for code in codes)
            raise SendError(
                f"smtp_{codes[0] if codes else 'refused'}",
                permanent=permanent,
                bouncing=permanent,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            self._reset()
            permanent = 500 <= exc.smtp_code < 600
            raise SendError(f"smtp_{exc.smtp_code}", permanent=permanent) from exc
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            self._reset()
            raise SendError("smtp_connection", permanent=False) from exc
        return message_id_for(message.key)

    def _reset(self) -> None:
        self.close()
        connection = getattr(self.connection, "connection", None)
        if connection is not None:
            self.connection.connection = None  # type: ignore[attr-defined]

    def lookup(self, message: Outgoing) -> str | None:
        # SMTP cannot be asked what it accepted. The reconciliation rule for email is to send
        # again with the same Message-ID, which receiving systems treat as one message.
        return None


class AnymailTransport:
    """Email through an email provider's HTTP API with django-anymail.

    LEAVEN_ANYMAIL_BACKEND names the anymail backend (for example
    "anymail.backends.postmark.EmailBackend"); its credentials and API address come from
    Django's ANYMAIL setting as anymail documents them. The provider's message id is kept
    as the row's provider id, so its delivery reports find the row."""

    channel = "email"

    def __init__(self, backend: str | None = None) -> None:
        self.connection: BaseEmailBackend = get_connection(
            backend or str(conf.get("LEAVEN_ANYMAIL_BACKEND")), fail_silently=False
        )

    def open(self) -> None:
        try:
            self.connection.open()
        except OSError as exc:
            raise SendError("anymail_connect", permanent=False) from exc

    def close(self) -> None:
        try:
            self.connection.close()
        except OSError:
            logger.warning("anymail transport: closing the connection failed")

    def send(self, message: Outgoing) -> str:
        from django.conf import settings

        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.destination],
            headers={"Message-ID": message_id_for(message.key), **message.headers},
            connection=self.connection,
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        try:
            email.send(fail_silently=False)
        except Exception as exc:  # noqa: BLE001 - classified below, never swallowed
            raise classify_anymail(exc) from exc
        status: Any = getattr(email, "anymail_status", None)
        provider_id = getattr(status, "message_id", None) if status is not None else None
        if isinstance(provider_id, set):  # one id per recipient; there is one recipient
            provider_id = next(iter(provider_id), None)
        return str(provider_id or message_id_for(message.key))

    def lookup(self, message: Outgoing) -> str | None:
        # Providers' APIs cannot be asked reliably by our key: sent again with the same
        # Message-ID (see EmailTransport.lookup).
        return None


# HTTP answers from a provider that are worth trying again: it was busy, down, or not
# configured yet (a wrong key is fixed by an operator, and the messages then go).
ANYMAIL_RETRYABLE_HTTP = {401, 403, 408, 409, 425, 429}


def classify_anymail(exc: BaseException) -> SendError:
    """An anymail exception as a SendError: refused recipients are permanent (and the
    address bounces); server errors, rate limits, timeouts and network errors are
    temporary; any other client error is permanent for this message."""
    from anymail.exceptions import (  # type: ignore[import-untyped]
        AnymailAPIError,
        AnymailError,
        AnymailRecipientsRefused,
    )

    if isinstance(exc, AnymailRecipientsRefused):
        return SendError("anymail_refused", permanent=True, bouncing=True)
    if isinstance(exc, AnymailAPIError):
        code = getattr(exc, "status_code", None)
        if code is None:
            return SendError("anymail_connection", permanent=False)
        if code >= 500 or code in ANYMAIL_RETRYABLE_HTTP:
            return SendError(f"anymail_{code}", permanent=False)
        return SendError(f"anymail_{code}", permanent=True)
    if isinstance(exc, AnymailError):
        return SendError("anymail_error", permanent=True)
    if isinstance(exc, OSError):
        return SendError("anymail_connection", permanent=False)
    raise exc


class ConsoleTransport:
    """For the demo: writes each message to the console, with the destination masked."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.sent: list[Outgoing] = []

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def send(self, message: Outgoing) -> str:
        masked = "…" + message.destination[-4:]
        logger.info("%s to %s: %s", self.channel, masked, message.subject or message.body[:60])
        self.sent.append(message)
        return "console-" + hashlib.sha256(message.key.encode()).hexdigest()[:24]

    def lookup(self, message: Outgoing) -> str | None:
        return None


# Twilio error codes that mean "do not try this number again".
TWILIO_OPTED_OUT = {"21610"}
TWILIO_PERMANENT = {
    "21211",  # invalid To number
    "21214",  # not a reachable number
    "21408",  # region not enabled
    "21610",  # the recipient replied STOP at the carrier
    "21612",  # not reachable from this sender
    "21614",  # not a mobile number
    "30003",  # unreachable handset
    "30004",  # message blocked
    "30005",  # unknown destination
    "30006",  # landline or unreachable carrier
    "30007",  # filtered as spam by the carrier
}


def classify_twilio(code: str, http_status: int | None = None) -> SendError:
    if code in TWILIO_PERMANENT:
        return SendError(f"twilio_{code}", permanent=True, opted_out=code in TWILIO_OPTED_OUT)
    if http_status is not None and 400 <= http_status < 500 and http_status != 429:
        return SendError(f"twilio_{code or http_status}", permanent=True)
    return SendError(f"twilio_{code or http_status or 'error'}", permanent=False)


class TwilioTransport:
    """SMS through Twilio's Python library. TWILIO_API_BASE points it elsewhere (tests run it
    against a local server)."""

    channel = "sms"
    # Twilio can be asked for the messages it holds to a number: see `lookup`.
    reconciles = True

    def __init__(self) -> None:
        from twilio.rest import Client  # type: ignore[import-untyped]

        # The library logs every request at INFO, a lookup's query (the phone number)
        # included: no personal data in logs.
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
        self.client = Client(conf.get("TWILIO_ACCOUNT_SID"), conf.get("TWILIO_AUTH_TOKEN"))
        self.client.api.base_url = str(conf.get("TWILIO_API_BASE")).rstrip("/")
        self.from_number = str(conf.get("TWILIO_FROM_NUMBER"))

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def fork(self) -> TwilioTransport:
        """A transport for another sending thread: its own client and HTTP session."""
        return TwilioTransport()

    def status_callback(self, key: str) -> str:
        from django.urls import reverse

        base = str(conf.get("LEAVEN_PUBLIC_URL")).rstrip("/")
        return f"{base}{reverse('messaging:twilio_status')}"

    def send(self, message: Outgoing) -> str:
        from twilio.base.exceptions import (  # type: ignore[import-untyped]
            TwilioException,
            TwilioRestException,
        )

        try:
            sent: Any = self.client.messages.create(
                to=message.destination,
                from_=self.from_number,
                body=message.body,
                status_callback=self.status_callback(message.key),
            )
        except TwilioRestException as exc:
            raise classify_twilio(str(exc.code or ""), exc.status) from exc
        except (TwilioException, OSError) as exc:
            raise SendError("twilio_connection", permanent=False) from exc
        return str(sent.sid)

    def lookup(self, message: Outgoing) -> str | None:
        """Ask Twilio whether it already holds this message (same number, same text)."""
        from twilio.base.exceptions import TwilioException

        try:
            found: Any = self.client.messages.list(to=message.destination, limit=50)
        except (TwilioException, OSError) as exc:
            raise SendError("twilio_lookup", permanent=False) from exc
        for item in found:
            if item.body == message.body:
                return str(item.sid)
        return None


def transport_for(channel: str) -> Transport:
    if channel == "email":
        if conf.get("LEAVEN_EMAIL_TRANSPORT") == "console":
            return ConsoleTransport("email")
        if conf.get("LEAVEN_EMAIL_TRANSPORT") == "anymail":
            return AnymailTransport()
        return EmailTransport()
    if conf.get("LEAVEN_SMS_TRANSPORT") == "twilio":
        return TwilioTransport()
    return ConsoleTransport("sms")

"""Messaging settings. Each one may be set in Django settings; otherwise it is read from the
environment (or the `.env` file), with the default shown."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Where links in messages point (unsubscribe pages, delivery callbacks).
    "LEAVEN_PUBLIC_URL": "http://127.0.0.1:8000",
    # The organization's postal address, printed in every email footer.
    "LEAVEN_POSTAL_ADDRESS": "",
    "LEAVEN_ORG_NAME": "Leaven",
    "LEAVEN_ORG_CONTACT": "",
    "LEAVEN_SMS_FREQUENCY": "",
    # email: "django" (settings.EMAIL_BACKEND), "anymail" or "console"; sms: "twilio" or "console".
    "LEAVEN_EMAIL_TRANSPORT": "django",
    # With LEAVEN_EMAIL_TRANSPORT "anymail": the anymail backend to send through.
    "LEAVEN_ANYMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
    "LEAVEN_SMS_TRANSPORT": "console",
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKEN": "",
    "TWILIO_FROM_NUMBER": "",
    "TWILIO_API_BASE": "https://api.twilio.com",
    # Messages per second per channel; 0 means no limit.
    "LEAVEN_EMAIL_RATE": 0,
    "LEAVEN_SMS_RATE": 10,
    # Email connections a worker keeps open and sends over at once.
    "LEAVEN_EMAIL_CONNECTIONS": 4,
    # Threads a worker sends texts over at once, with a transport that can be forked.
    "LEAVEN_SMS_CONNECTIONS": 4,
    "LEAVEN_OUTBOX_BATCH": 200,
    "LEAVEN_OUTBOX_LEASE_SECONDS": 120,
    "LEAVEN_OUTBOX_MAX_ATTEMPTS": 5,
    # Queue a drain task when messages are queued (off when a separate worker runs).
    "LEAVEN_OUTBOX_DRAIN_ON_COMMIT": True,
    # Days the text and address of a finished message are kept (see services_retention).
    "LEAVEN_OUTBOX_URGENT_KEEP_DAYS": 7,
    "LEAVEN_OUTBOX_KEEP_DAYS": 30,
    "LEAVEN_CONVERSATION_KEEP_DAYS": 365,
    # Days a received text waiting for an answer or a review keeps its words and number, at
    # most LEAVEN_CONVERSATION_KEEP_DAYS (see services_retention).
    "LEAVEN_UNANSWERED_KEEP_DAYS": 90,
    "LEAVEN_QUIET_START_HOUR": 20,
    "LEAVEN_QUIET_END_HOUR": 9,
}


def get(name: str) -> Any:
    default = DEFAULTS[name]
    if hasattr(settings, name):
        return getattr(settings, name)
    raw = os.environ.get(name)
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    return raw

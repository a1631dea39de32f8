"""Retention of message texts: what was said, and to which address, is kept only as long as
it is useful, then cleared by a daily job.

- Urgent alerts (rapid response) carry where an incident happened: their text and address
  are cleared LEAVEN_OUTBOX_URGENT_KEEP_DAYS (7) after they were queued.
- Broadcasts, notices, tests and opt-out or help replies: LEAVEN_OUTBOX_KEEP_DAYS (30).
- One-to-one conversations, both ways (texts an organizer sent and texts received, with the
  number they came from): LEAVEN_CONVERSATION_KEEP_DAYS (365).
- A responder's texted answer to an alert ("1", "VOY"), which the rapid-response app acts on
  when it arrives: LEAVEN_OUTBOX_URGENT_KEEP_DAYS (7), like the alert it answers. It ties a
  number to an incident, and the alert keeps the answer itself.
- A received text still waiting for an answer or a review: LEAVEN_UNANSWERED_KEEP_DAYS (90),
  never more than the conversation period. The long conversation period lets an organizer
  read back an exchange; a text nobody has answered or reviewed in three months is not part
  of one, and keeping it longer only keeps a person's number and words that no one acts on.
  Ninety days still spans a committee's quiet season. Once cleared it can no longer be
  answered; a text waiting for review stays in the review queue, shown as removed.

Only finished outgoing messages are cleared (sent, failed, suppressed, withdrawn): nothing
waiting to go loses its text. Messages another app holds are kept as long as the hold lasts:
an app registers a function with `retention_hold_register` that names the idempotency-key
prefixes of the outgoing messages it holds (the alerts about an incident under a legal
hold), and one with `inbound_hold_register` that gives a condition on the received texts it
holds (the answers to those alerts).

The rows themselves stay, with their state, dates, kind and unit, so a
broadcast's delivery counts and a person's history of contact keep adding up; the blind
index of the address stays too, so "never double-send" still holds. Settings are read at
each run, and rows are cleared a few thousand at a time, each chunk its own short
transaction, so a first run over years of messages never holds the database for long.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leaven.core.audit import audit_record
from leaven.messaging import conf
from leaven.messaging.models import InboundMessage, OutboxMessage

FINISHED = (
    OutboxMessage.State.SENT,
    OutboxMessage.State.FAILED,
    OutboxMessage.State.SUPPRESSED,
    OutboxMessage.State.WITHDRAWN,
)


@dataclass(frozen=True)
class PurgeResult:
    urgent: int
    outgoing: int
    conversations: int
    incoming: int
    # Received texts cleared while still waiting for an answer or a review.
    unanswered: int = 0
    # Responders' texted answers to alerts.
    answers: int = 0

    @property
    def total(self) -> int:
        return (
            self.urgent
            + self.outgoing
            + self.conversations
            + self.incoming
            + self.unanswered
            + self.answers
        )


# Functions that name the idempotency-key prefixes of messages to keep for now.
RetentionHold = Callable[[], list[str]]
_HOLDS: list[RetentionHold] = []
# Functions that give a condition on InboundMessage: the received texts to keep for now.
InboundHold = Callable[[], Q]
_INBOUND_HOLDS: list[InboundHold] = []
CHUNK = 2000


def retention_hold_register(hold: RetentionHold) -> None:
    if hold not in _HOLDS:
        _HOLDS.append(hold)


def inbound_hold_register(hold: InboundHold) -> None:
    if hold not in _INBOUND_HOLDS:
        _INBOUND_HOLDS.append(hold)


def _held() -> Q:
    """Rows some app holds: their key starts with a prefix it names."""
    held = Q(pk__in=[])
    for hold in _HOLDS:
        for prefix in hold():
            held |= Q(idempotency_key__startswith=prefix)
    return held


def _inbound_held() -> Q:
    """Received texts some app holds."""
    held = Q(pk__in=[])
    for hold in _INBOUND_HOLDS:
        held |= hold()
    return held


def _clear_in_chunks(rows: Any, **fields: str) -> int:
    """Set `fields` on `rows`, CHUNK rows per transaction, oldest first."""
    cleared = 0
    while True:
        with transaction.atomic():
            ids = list(rows.order_by("pk").values_list("pk", flat=True)[:CHUNK])
            if not ids:
                return cleared
            cleared += int(rows.model.objects.filter(pk__in=ids).update(**fields))


def _clear(rows: Any) -> int:
    return _clear_in_chunks(rows, subject="", body="", destination="")


def messages_purge(*, now: dt.datetime | None = None) -> PurgeResult:
    """Clear the texts and addresses of finished messages, and the words and numbers of
    received texts, past their retention (see the module's docstring); one audit event with
    the counts when anything was cleared."""
    now = now or timezone.now()
    urgent_days = int(conf.get("LEAVEN_OUTBOX_URGENT_KEEP_DAYS"))
    keep_days = int(conf.get("LEAVEN_OUTBOX_KEEP_DAYS"))
    conversation_days = int(conf.get("LEAVEN_CONVERSATION_KEEP_DAYS"))
    waiting_days = min(int(conf.get("LEAVEN_UNANSWERED_KEEP_DAYS")), conversation_days)
    # A row already cleared has an empty body; skipping it keeps the job cheap to repeat.
    finished = OutboxMessage.objects.filter(state__in=FINISHED).exclude(body="").exclude(_held())
    urgent = _clear(
        finished.filter(urgent=True, created_at__lt=now - dt.timedelta(days=urgent_days))
    )
    outgoing = _clear(
        finished.filter(urgent=False, created_at__lt=now - dt.timedelta(days=keep_days))
        .exclude(kind=OutboxMessage.Kind.DIRECT)
    )  # fmt: skip
    conversation_cutoff = now - dt.timedelta(days=conversation_days)
    conversations = _clear(
        finished.filter(
            urgent=False, kind=OutboxMessage.Kind.DIRECT, created_at__lt=conversation_cutoff
        )
    )
    # A text waiting for a person (unanswered, or in review) has a shorter bound of its own.
    waiting = Q(review=InboundMessage.Review.OPEN) | Q(
        kind=InboundMessage.Kind.REPLY, handled_at__isnull=True
    )
    received = InboundMessage.objects.exclude(body="").exclude(_inbound_held())
    answer = Q(kind=InboundMessage.Kind.ANSWER)
    answers = _clear_in_chunks(
        received.filter(answer, received_at__lt=now - dt.timedelta(days=urgent_days)),
        body="",
        from_number="",
    )
    incoming = _clear_in_chunks(
        received.filter(received_at__lt=conversation_cutoff).exclude(waiting).exclude(answer),
        body="",
        from_number="",
    )
    unanswered = _clear_in_chunks(
        received.filter(waiting, received_at__lt=now - dt.timedelta(days=waiting_days)),
        body="",
        from_number="",
    )
    result = PurgeResult(
        urgent=urgent,
        outgoing=outgoing,
        conversations=conversations,
        incoming=incoming,
        unanswered=unanswered,
        answers=answers,
    )
    if result.total:
        audit_record(
            actor=None,
            actor_label="messaging.purge",
            verb="messaging.purged",
            detail={
                "urgent": urgent,
                "outgoing": outgoing,
                "conversations": conversations,
                "incoming": incoming,
                "unanswered": unanswered,
                "answers": answers,
            },
        )
    return result

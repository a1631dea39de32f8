"""Segments, broadcasts, the outbox, inbound texts and the SMS suppression list.

Contact data (destinations, rendered bodies, inbound texts) is stored encrypted, with a blind
index beside the destination for exact lookups and de-duplication.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leaven.core.fields import EncryptedTextField
from leaven.core.models import OrgUnit
from leaven.people.models import Email, Person, Phone


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message (SMS)")


class Segment(models.Model):
    """A saved query over people: a condition tree evaluated whenever it is used."""

    owner_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="segments", verbose_name=_("unit")
    )
    name = models.CharField(_("name"), max_length=200)
    conditions = models.JSONField(_("conditions"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class Broadcast(models.Model):
    """One email or text to everyone in a segment, in each person's language."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        QUEUED = "queued", _("Queued")
        CANCELLED = "cancelled", _("Cancelled")

    owner_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="broadcasts", verbose_name=_("unit")
    )
    segment = models.ForeignKey(
        Segment, on_delete=models.PROTECT, related_name="broadcasts", verbose_name=_("segment")
    )
    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices)
    name = models.CharField(_("name"), max_length=200)
    # {"en": {"subject": "...", "body": "..."}, "es": {...}}
    templates = models.JSONField(_("templates"), default=dict)
    # The event whose public page {event_link} points to.
    event = models.ForeignKey(
        "events.Event",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("event"),
    )
    urgent = models.BooleanField(_("urgent alert"), default=False)
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    queued_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    recipient_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "scheduled_at"], name="broadcast_due_idx")]
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")

    def __str__(self) -> str:
        return self.name


class OutboxMessage(models.Model):
    """One message to one destination. The only way anything leaves Leaven."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Suppressed")
        HELD = "held", _("Held for quiet hours")
        # Withdrawn before it went: its broadcast was cancelled.
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Kind(models.TextChoices):
        BROADCAST = "broadcast", _("Broadcast")
        DIRECT = "direct", _("One-to-one")
        # Something the person asked for (an RSVP confirmation, a dues reminder): sent to
        # an email without news consent too, never to one unsubscribed or bouncing.
        TRANSACTIONAL = "notice", _("Transactional")
        COMPLIANCE = "compliance", _("Opt-out or help reply")
        TEST = "test", _("Test")

    broadcast = models.ForeignKey(
        Broadcast, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    owner_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox_messages"
    )
    email = models.ForeignKey(
        Email, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    phone = models.ForeignKey(
        Phone, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BROADCAST)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    destination = EncryptedTextField()
    destination_index = models.CharField(max_length=32)
    language = models.CharField(max_length=16, default="en")
    subject = EncryptedTextField(blank=True, default="")
    body = EncryptedTextField()
    urgent = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Set when a lease ran out while the row was `sending`: the outcome of that attempt is
    # unknown, so the next attempt reconciles with the provider before sending again.
    reconcile = models.BooleanField(default=False)
    provider_id = models.CharField(max_length=64, blank=True, db_index=True)
    delivery_status = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["broadcast", "destination_index"],
                condition=models.Q(broadcast__isnull=False),
                name="outbox_one_per_destination",
            )
        ]
        indexes = [
            # Claiming (services.outbox_claim) scans this in order, never sorting a backlog.
            models.Index(
                fields=["state", "channel", "urgent", "next_attempt_at", "id"],
                name="outbox_claim_idx",
            ),
            models.Index(fields=["destination_index", "state"], name="outbox_dest_idx"),
        ]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")

    def __str__(self) -> str:
        return f"outbox {self.pk} {self.state}"


class SmsSuppression(models.Model):
    """A number that texted an opt-out word: no text goes to it, organization-wide, until
    the same number texts START."""

    number_index = models.CharField(max_length=32, unique=True)
    language = models.CharField(max_length=16, default="en")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"suppression {self.pk}"


class InboundMessage(models.Model):
    """A text received from someone."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply")
        OPT_OUT = "opt_out", _("Opt-out")
        OPT_IN = "opt_in", _("Opt-in")
        HELP = "help", _("Help request")
        REVIEW = "review", _("Needs review")
        # A reply another app acted on (a responder's "1" to an alert): handled on arrival.
        ANSWER = "answer", _("Answer to an alert")

    class Review(models.TextChoices):
        NONE = "", _("No review needed")
        OPEN = "open", _("Waiting for review")
        OPTED_OUT = "opted_out", _("Treated as an opt-out")
        KEPT = "kept", _("Kept as a reply")

    message_sid = models.CharField(max_length=64, unique=True)
    from_number = EncryptedTextField()
    from_index = models.CharField(max_length=32, db_index=True)
    body = EncryptedTextField(blank=True, default="")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    owner_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.REPLY)
    review = models.CharField(max_length=10, choices=Review.choices, default="", blank=True)
    language = models.CharField(max_length=16, default="en")
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("incoming text")
        verbose_name_plural = _("incoming texts")

    def __str__(self) -> str:
        return f"inbound {self.pk}"


class ProviderCallback(models.Model):
    """A delivery status callback already applied: a replay of the same one is ignored."""

    key = models.CharField(max_length=120, unique=True)
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.key

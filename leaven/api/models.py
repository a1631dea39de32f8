"""API keys, the Action Network identifiers of exposed records, replayable POSTs and
outgoing webhooks."""

from __future__ import annotations

import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leaven.core.models import OrgUnit, User


class ApiKey(models.Model):
    """A key for the Action Network-compatible API. Acts as an admin of its unit and the
    units below it; only a hash of the token is stored."""

    unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("unit")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"apikey:{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiIdentifier(models.Model):
    """The stable Action Network identifier (`action_network:<uuid>`) of one record, and
    the foreign identifiers clients gave it."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    foreign = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"], name="unique_api_identifier"
            )
        ]

    def __str__(self) -> str:
        return f"action_network:{self.uuid}"


class IdempotentRequest(models.Model):
    """A POST that carried an Idempotency-Key: claimed (in progress) before it runs, then
    what it answered, replayed on repeats of the same request. Bound to the method, the
    path and a hash of the query string and the body, so the key cannot replay an answer to
    another request.

    The answer is kept as a reference (the kind and id of the record it showed), never as
    its contents: a repeat reads that record again through the key's scoped selectors and
    renders it as it is now. So a repeat shows nothing the key could not read with a fresh
    request now (a record it may no longer see, or one since deleted, is a 404), and
    deleting or erasing a person, or a contact detail, leaves no copy here."""

    class State(models.TextChoices):
        RUNNING = "running", _("In progress")
        DONE = "done", _("Done")

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=255)
    method = models.CharField(max_length=10, default="POST")
    path = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64, default="")
    state = models.CharField(max_length=10, choices=State.choices, default=State.DONE)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    object_type = models.CharField(max_length=20, blank=True, default="")
    object_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "idempotency_key"], name="unique_idempotency")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_age_idx")]

    def __str__(self) -> str:
        return f"idempotent {self.pk}"


class PeopleReadCount(models.Model):
    """How many person records one key has read through the API on one day (UTC)."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    people = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "day"], name="unique_people_read_day")
        ]

    def __str__(self) -> str:
        return f"people read {self.pk}"


class Webhook(models.Model):
    """An HTTPS endpoint of a unit that receives Action Network-shaped event payloads."""

    class Topic(models.TextChoices):
        PERSON_CREATED = "person.created", _("Person created")
        PERSON_UPDATED = "person.updated", _("Person updated")
        TAGGING = "tagging", _("Tagging")
        ATTENDANCE = "attendance", _("Attendance")
        SUBMISSION = "submission", _("Submission")
        SIGNATURE = "signature", _("Signature")
        DONATION = "donation", _("Donation")

    unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="webhooks", verbose_name=_("unit")
    )
    url = models.URLField(_("endpoint URL"), max_length=500)
    topics = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=64, editable=False)
    # The API's base URL when the webhook was made: payload links point there.
    api_base = models.CharField(max_length=300, editable=False, default="")
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return f"webhook {self.pk}"


class WebhookDelivery(models.Model):
    """One event for one webhook: its attempts, and the outcome. Unique per event id, so an
    event is never sent twice."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=80)
    topic = models.CharField(max_length=30)
    object_type = models.CharField(max_length=30)
    object_id = models.BigIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event_id"], name="unique_webhook_event")
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhook_due_idx")]

    def __str__(self) -> str:
        return f"delivery {self.pk}"

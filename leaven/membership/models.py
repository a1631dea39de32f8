"""Membership and dues: tiers, memberships with their status over time, append-only dues
payments, provider events applied once, pending reminders, and growth goals.

Money is integer cents with a currency code; never a float."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from leaven.core.models import OrgUnit
from leaven.people.models import Person

# Days a membership stays in grace after its paid-through date before it lapses.
GRACE_DAYS = 30
# Days before the paid-through date that a renewal reminder is queued.
RENEWAL_NOTICE_DAYS = 14


def new_reference() -> str:
    return secrets.token_hex(8)


class Interval(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    YEARLY = "yearly", _("Yearly")
    ONE_TIME = "one_time", _("One time")


INTERVAL_MONTHS = {Interval.MONTHLY: 1, Interval.YEARLY: 12, Interval.ONE_TIME: 0}


class Tier(models.Model):
    """A dues level of one organization or committee, with its names in both languages."""

    owner_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="tiers")
    name_en = models.CharField(_("name in English"), max_length=100)
    name_es = models.CharField(_("name in Spanish"), max_length=100)
    amount_cents = models.PositiveIntegerField(_("dues (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    interval = models.CharField(
        _("interval"), max_length=10, choices=Interval.choices, default=Interval.MONTHLY
    )
    # When set, a member chooses any amount from this minimum up (a sliding scale).
    sliding_min_cents = models.PositiveIntegerField(_("sliding-scale minimum (cents)"), null=True)
    benefits_en = models.TextField(_("benefits in English"), blank=True)
    benefits_es = models.TextField(_("benefits in Spanish"), blank=True)
    is_active = models.BooleanField(_("offered"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["owner_unit", "sort_order", "amount_cents", "id"]
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_es if (get_language() or "en").startswith("es") else self.name_en

    @property
    def benefits(self) -> str:
        return self.benefits_es if (get_language() or "en").startswith("es") else self.benefits_en

    @property
    def minimum_cents(self) -> int:
        return self.amount_cents if self.sliding_min_cents is None else self.sliding_min_cents


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active")
    GRACE = "grace", _("Grace period")
    LAPSED = "lapsed", _("Lapsed")
    CANCELLED = "cancelled", _("Cancelled")
    WAIVED = "waived", _("Dues waived")


# Members in good standing: they count as members on the growth dashboard.
GOOD_STANDING = frozenset({Status.ACTIVE, Status.GRACE, Status.WAIVED})


class PayWith(models.TextChoices):
    CARD = "card", _("Card, online")
    CASH = "cash", _("Cash to a captain")
    HARDSHIP = "hardship", _("I cannot pay right now (hardship)")


class Membership(models.Model):
    """A person's membership of one unit: a person may be a member of the national
    organization and of their local committee."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    owner_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("unit")
    )
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="memberships")
    amount_cents = models.PositiveIntegerField(_("dues (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    status_since = models.DateField(_("status since"), default=timezone.localdate)
    joined_on = models.DateField(_("joined"), default=timezone.localdate)
    paid_through = models.DateField(_("paid through"), null=True, blank=True)
    grace_until = models.DateField(_("grace period ends"), null=True, blank=True)
    waiver_review_on = models.DateField(_("waiver review date"), null=True, blank=True)
    pay_with = models.CharField(
        _("how they pay"), max_length=10, choices=PayWith.choices, default=PayWith.CASH
    )
    # A random reference the payment provider echoes back (never a name or an address).
    reference = models.CharField(max_length=32, unique=True, default=new_reference)
    provider_customer = models.CharField(max_length=100, blank=True, db_index=True)
    # When the latest successful provider payment happened (the provider's clock).
    provider_paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "owner_unit"], name="unique_membership")
        ]
        indexes = [
            models.Index(fields=["owner_unit", "status"], name="membership_unit_status_idx"),
            models.Index(fields=["status", "paid_through"], name="membership_rules_idx"),
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"membership {self.pk}"


# Reasons the rules and services write, shown in the reader's language.
REASON_LABELS = {
    "joined": _("joined"),
    "joined again": _("joined again"),
    "payment": _("dues paid"),
    "paid-through date passed": _("paid-through date passed"),
    "grace period ended": _("grace period ended"),
    "waiver review date reached": _("waiver review date reached"),
    "card payment failed": _("card payment failed"),
    "cancelled by the member": _("cancelled by the member"),
    "hardship waiver": _("hardship waiver"),
}


class StatusChange(models.Model):
    """One step of a membership's status over time: by rule, by payment or by hand."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Status.choices)
    on = models.DateField()
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-on", "-id"]
        indexes = [models.Index(fields=["membership", "on"], name="statuschange_member_idx")]

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status}"

    @property
    def reason_label(self) -> str:
        return str(REASON_LABELS.get(self.reason, self.reason))


class Method(models.TextChoices):
    CASH = "cash", _("Cash")
    CHECK = "check", _("Check")
    CARD = "card", _("Card")
    BANK = "bank", _("Bank transfer")
    PAYROLL = "payroll", _("Payroll deduction")


class DuesPayment(models.Model):
    """A dues payment. Append-only: a correction is a new entry reversing the original."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="payments")
    amount_cents = models.IntegerField(_("amount (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    paid_on = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    months_credited = models.SmallIntegerField(default=0)
    receipt_number = models.CharField(_("receipt number"), max_length=40, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_reference"],
                condition=~models.Q(provider_reference=""),
                name="unique_provider_payment",
            )
        ]
        indexes = [models.Index(fields=["paid_on"], name="duespayment_date_idx")]
        verbose_name = _("dues payment")
        verbose_name_plural = _("dues payments")

    def __str__(self) -> str:
        return f"payment {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Dues payments are append-only; record a reversal instead")
        super().save(*args, **kwargs)


class MembershipReminder(models.Model):
    """A message to a member. Pending rows whose day has come are handed to the messaging
    outbox (leaven.membership.services_messages)."""

    class Kind(models.TextChoices):
        RENEWAL = "renewal", _("Renewal coming up")
        GRACE = "grace", _("Dues overdue (grace period)")
        PAYMENT_FAILED = "payment_failed", _("Card payment failed")
        LAPSED = "lapsed", _("Membership lapsed")
        WAIVER_REVIEW = "waiver_review", _("Hardship waiver due for review")
        SELF_SERVICE_LINK = "self_service_link", _("Link to the member's own page")
        WELCOME = "welcome", _("Welcome")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")
        # No email or phone that may receive it: never retried.
        NO_CHANNEL = "no_channel", _("No way to reach the person")

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="reminders")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    language = models.CharField(max_length=16, default="en")
    due = models.DateField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-due", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "kind", "due"], name="unique_membership_reminder"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.due}"


class ProviderEvent(models.Model):
    """A payment provider's webhook event, kept so each is applied once."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=60)
    occurred_at = models.DateTimeField()
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=30)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="unique_provider_event")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class MembershipGoal(models.Model):
    """A growth goal: "double by December"."""

    owner_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    target_count = models.PositiveIntegerField(_("members to reach"))
    target_date = models.DateField(_("by"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"goal {self.target_count} by {self.target_date}"

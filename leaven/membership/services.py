"""Writes for membership and dues. Each takes the acting user (or a public form or payment
provider acting for the member), checks the rule, writes, and leaves an audit event."""

from __future__ import annotations

import calendar
import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from leaven.core import access, permissions
from leaven.core.audit import audit_record
from leaven.core.models import OrgUnit, Role
from leaven.people import normalize
from leaven.people.models import Email, Person, PersonUnit, Phone
from leaven.people.services import (
    EmailInput,
    PhoneInput,
    contact_consent_merge,
    person_create,
    person_find_by_contact,
    person_join_unit,
    person_update,
)

from .models import (
    GRACE_DAYS,
    INTERVAL_MONTHS,
    RENEWAL_NOTICE_DAYS,
    DuesPayment,
    Interval,
    Membership,
    MembershipGoal,
    MembershipReminder,
    Method,
    PayWith,
    ProviderEvent,
    Status,
    StatusChange,
    Tier,
)

SELF_SERVICE_SALT = "leaven.membership.self-service"
SELF_SERVICE_MAX_AGE = 14 * 24 * 3600
MAX_DUES_CENTS = 10_000_00
Reminder = MembershipReminder.Kind


class PublicActor:
    """Someone acting through a public page (the join page, a member's own page) or a
    payment provider's webhook: never signed in, holding one narrow role on the
    organization it acts in, for the length of one request."""

    is_authenticated = False
    is_active = True
    pk = None

    def __init__(self, *, unit: OrgUnit, label: str) -> None:
        root = organization_root(unit)
        self.granted_roles = [(Role.CAPTAIN.value, root.path, root.pk)]
        self.label = label

    def __str__(self) -> str:
        return self.label


def organization_root(unit: OrgUnit) -> OrgUnit:
    root_id = int(unit.path.strip("/").split("/")[0])
    return unit if unit.pk == root_id else OrgUnit.objects.get(pk=root_id)


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _require(actor: Any, permission: str, unit: OrgUnit, message: str) -> None:
    if not access.can(actor, permission, unit):
        raise ValidationError(message)


def _change_status(
    *, actor: Any, membership: Membership, to: str, on: dt.date, reason: str
) -> None:
    if membership.status == to:
        return
    StatusChange.objects.create(
        membership=membership,
        from_status=membership.status,
        to_status=to,
        on=on,
        reason=reason[:200],
        actor=_user(actor),
    )
    previous = membership.status
    membership.status = to
    membership.status_since = on
    if to != Status.GRACE:
        membership.grace_until = None
    if to != Status.WAIVED:
        membership.waiver_review_on = None
    membership.save(update_fields=["status", "status_since", "grace_until", "waiver_review_on"])
    audit_record(
        actor=actor,
        verb="membership.status_changed",
        obj=membership,
        unit=membership.owner_unit,
        detail={"from": previous, "to": to},
    )


def _lock(membership: Membership) -> None:
    """Lock the row and read it afresh, so concurrent writers see each other's changes."""
    Membership.objects.select_for_update().filter(pk=membership.pk).values_list("pk").first()
    membership.refresh_from_db()


def _remind(*, membership: Membership, kind: str, due: dt.date) -> bool:
    """Queue a pending message for the member in their language (the hourly send hands it
    to messaging). True if it is new."""
    _reminder, created = MembershipReminder.objects.get_or_create(
        membership=membership,
        kind=kind,
        due=due,
        defaults={"person_id": membership.person_id, "language": membership.person.language},
    )
    return created


def tiers_for_unit(*, unit: OrgUnit) -> list[Tier]:
    """The tiers a unit offers: its own, or else those of the nearest unit above it."""
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    tiers = list(Tier.objects.filter(owner_unit_id__in=ids, is_active=True))
    for unit_id in reversed(ids):
        own = [tier for tier in tiers if tier.owner_unit_id == unit_id]
        if own:
            return own
    return []


# ---------------------------------------------------------------------------------------
# Tiers and goals


@transaction.atomic
def tier_create(
    *,
    actor: Any,
    owner_unit: OrgUnit,
    name_en: str,
    name_es: str,
    amount_cents: int,
    interval: str = Interval.MONTHLY,
    sliding_min_cents: int | None = None,
    currency: str = "USD",
    benefits_en: str = "",
    benefits_es: str = "",
) -> Tier:
    _require(
        actor, permissions.MEMBERSHIP_MANAGE, owner_unit, _("You cannot add tiers to this unit.")
    )
    name_en, name_es = normalize.nfc(name_en), normalize.nfc(name_es)
    if not name_en or not name_es:
        raise ValidationError({"name_en": _("A tier needs a name in English and in Spanish.")})
    if interval not in Interval.values:
        raise ValidationError({"interval": _("Unknown interval.")})
    if not 0 <= amount_cents <= MAX_DUES_CENTS:
        raise ValidationError({"amount_cents": _("Enter an amount between 0 and 10,000.")})
    if sliding_min_cents is not None and not 0 <= sliding_min_cents <= amount_cents:
        raise ValidationError(
            {"sliding_min_cents": _("The sliding-scale minimum must not exceed the amount.")}
        )
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValidationError({"currency": _("Use a three-letter currency code such as USD.")})
    tier = Tier.objects.create(
        owner_unit=owner_unit,
        name_en=name_en,
        name_es=name_es,
        amount_cents=amount_cents,
        currency=currency,
        interval=interval,
        sliding_min_cents=sliding_min_cents,
        benefits_en=benefits_en.strip(),
        benefits_es=benefits_es.strip(),
        sort_order=Tier.objects.filter(owner_unit=owner_unit).count(),
    )
    audit_record(actor=actor, verb="tier.created", obj=tier, unit=owner_unit)
    return tier


@transaction.atomic
def goal_set(
    *, actor: Any, unit: OrgUnit, target_count: int, target_date: dt.date, today: dt.date
) -> MembershipGoal:
    _require(actor, permissions.MEMBERSHIP_MANAGE, unit, _("You cannot set goals for this unit."))
    if target_count < 1:
        raise ValidationError({"target_count": _("A goal needs at least one member.")})
    if target_date <= today:
        raise ValidationError({"target_date": _("Pick a date in the future.")})
    goal = MembershipGoal.objects.create(
        owner_unit=unit, target_count=target_count, target_date=target_date, created_by=_user(actor)
    )
    audit_record(
        actor=actor,
        verb="membership_goal.set",
        obj=goal,
        unit=unit,
        detail={"target_count": target_count},
    )
    return goal


# ---------------------------------------------------------------------------------------
# Memberships


def _check_amount(tier: Tier, amount_cents: int | None) -> int:
    if amount_cents is None:
        return tier.amount_cents
    if tier.sliding_min_cents is None:
        if amount_cents != tier.amount_cents:
            raise ValidationError({"amount": _("This tier has a fixed amount.")})
        return amount_cents
    if amount_cents < tier.sliding_min_cents or amount_cents > MAX_DUES_CENTS:
        raise ValidationError(
            {
                "amount": _("Choose an amount of at least %(minimum)s.")
                % {"minimum": money(tier.sliding_min_cents, tier.currency)}
            }
        )
    return amount_cents


def _check_tier(unit: OrgUnit, tier: Tier) -> None:
    if tier.pk not in {t.pk for t in tiers_for_unit(unit=unit)}:
        raise ValidationError({"tier": _("Choose one of this group's tiers.")})


def money(cents: int, currency: str = "USD") -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{sign}{symbol}{whole:,}.{part:02d}"


@transaction.atomic
def membership_create(
    *,
    actor: Any,
    person: Person,
    unit: OrgUnit,
    tier: Tier,
    amount_cents: int | None = None,
    pay_with: str = PayWith.CASH,
    today: dt.date,
) -> Membership:
    """Start a pending membership; it becomes active with its first payment or a waiver."""
    if not access.can(actor, permissions.MEMBERSHIP_MANAGE, unit) and not isinstance(
        actor, PublicActor
    ):
        raise ValidationError(_("You cannot add members to this unit."))
    _check_tier(unit, tier)
    amount = _check_amount(tier, amount_cents)
    if Membership.objects.filter(person=person, owner_unit=unit).exists():
        raise ValidationError(_("This person already has a membership here."))
    membership = Membership.objects.create(
        person=person,
        owner_unit=unit,
        tier=tier,
        amount_cents=amount,
        currency=tier.currency,
        status=Status.PENDING,
        status_since=today,
        joined_on=today,
        pay_with=pay_with,
    )
    StatusChange.objects.create(
        membership=membership,
        from_status="",
        to_status=Status.PENDING,
        on=today,
        reason="joined",
        actor=_user(actor),
    )
    audit_record(
        actor=actor,
        verb="membership.created",
        obj=membership,
        unit=unit,
        detail={"person": person.pk, "tier": tier.pk},
    )
    return membership


@transaction.atomic
def membership_set_status(
    *, actor: Any, membership: Membership, status: str, reason: str, today: dt.date
) -> Membership:
    """Change a status by hand, with a reason."""
    _lock(membership)
    _require(
        actor,
        permissions.MEMBERSHIP_MANAGE,
        membership.owner_unit,
        _("You cannot change this membership."),
    )
    if status not in Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the status changes.")})
    if status == Status.WAIVED:
        raise ValidationError({"status": _("Use the hardship waiver form to waive dues.")})
    if status == Status.GRACE:
        membership.grace_until = today + dt.timedelta(days=GRACE_DAYS)
        membership.save(update_fields=["grace_until"])
    _change_status(actor=actor, membership=membership, to=status, on=today, reason=reason.strip())
    return membership


@transaction.atomic
def membership_waive(
    *, actor: Any, membership: Membership, review_on: dt.date, reason: str, today: dt.date
) -> Membership:
    """Approve a hardship waiver: no dues until the review date."""
    _lock(membership)
    _require(
        actor,
        permissions.MEMBERSHIP_MANAGE,
        membership.owner_unit,
        _("You cannot approve waivers here."),
    )
    if review_on <= today:
        raise ValidationError({"review_on": _("The review date must be in the future.")})
    if review_on > today + dt.timedelta(days=366):
        raise ValidationError({"review_on": _("Review a waiver at least once a year.")})
    _change_status(
        actor=actor,
        membership=membership,
        to=Status.WAIVED,
        on=today,
        reason=reason.strip() or "hardship waiver",
    )
    membership.waiver_review_on = review_on
    membership.save(update_fields=["waiver_review_on"])
    audit_record(
        actor=actor,
        verb="membership.waiver_approved",
        obj=membership,
        unit=membership.owner_unit,
        detail={"review_on": review_on.isoformat()},
    )
    return membership


def receipt_number_new(*, today: dt.date) -> str:
    return f"R{today:%y%m%d}-{secrets.token_hex(3).upper()}"


def _apply_payment(
    *,
    actor: Any,
    membership: Membership,
    amount_cents: int,
    paid_on: dt.date,
    method: str,
    receipt_number: str = "",
    provider_reference: str = "",
    note: str = "",
) -> DuesPayment:
    _lock(membership)
    months = 0
    interval_months = INTERVAL_MONTHS[Interval(membership.tier.interval)]
    if membership.amount_cents > 0 and interval_months:
        months = (amount_cents // membership.amount_cents) * interval_months
    payment = DuesPayment.objects.create(
        membership=membership,
        amount_cents=amount_cents,
        currency=membership.currency,
        paid_on=paid_on,
        method=method,
        months_credited=months,
        receipt_number=receipt_number,
        provider_reference=provider_reference,
        note=note.strip()[:200],
        recorded_by=_user(actor),
    )
    if months:
        # In grace, dues continue from where they stopped; after a lapse, from today.
        start = membership.paid_through
        if start is None or (start < paid_on and membership.status != Status.GRACE):
            start = paid_on
        membership.paid_through = add_months(start, months)
        membership.save(update_fields=["paid_through"])
    covered = (interval_months == 0 and amount_cents >= membership.amount_cents) or bool(
        membership.paid_through and membership.paid_through >= paid_on
    )
    if covered and membership.status in {Status.PENDING, Status.GRACE, Status.LAPSED}:
        _change_status(
            actor=actor, membership=membership, to=Status.ACTIVE, on=paid_on, reason="payment"
        )
    audit_record(
        actor=actor,
        verb="dues.recorded",
        obj=membership,
        unit=membership.owner_unit,
        detail={"payment": payment.pk, "method": method, "amount_cents": amount_cents},
    )
    return payment


@transaction.atomic
def payment_record(
    *,
    actor: Any,
    membership: Membership,
    amount_cents: int,
    paid_on: dt.date,
    method: str,
    receipt_number: str = "",
    note: str = "",
    today: dt.date,
) -> DuesPayment:
    """Record dues paid by hand. A captain records cash (with a receipt number); other
    methods need someone who manages memberships."""
    if method not in Method.values:
        raise ValidationError({"method": _("Unknown payment method.")})
    permission = (
        permissions.MEMBERSHIP_RECORD_CASH
        if method == Method.CASH
        else permissions.MEMBERSHIP_MANAGE
    )
    _require(actor, permission, membership.owner_unit, _("You cannot record dues here."))
    if not 0 < amount_cents <= MAX_DUES_CENTS:
        raise ValidationError({"amount": _("Enter an amount between 0.01 and 10,000.")})
    if paid_on > today:
        raise ValidationError({"paid_on": _("The date cannot be in the future.")})
    if paid_on < today - dt.timedelta(days=366):
        raise ValidationError({"paid_on": _("The date is more than a year ago.")})
    if membership.status == Status.CANCELLED:
        raise ValidationError(_("This membership is cancelled; start a new one first."))
    receipt_number = receipt_number.strip()[:40]
    if method == Method.CASH and not receipt_number:
        receipt_number = receipt_number_new(today=today)
    return _apply_payment(
        actor=actor,
        membership=membership,
        amount_cents=amount_cents,
        paid_on=paid_on,
        method=method,
        receipt_number=receipt_number,
        note=note,
    )


@transaction.atomic
def payment_reverse(
    *, actor: Any, payment: DuesPayment, reason: str, today: dt.date
) -> DuesPayment:
    """Correct a payment with a new entry of the opposite amount; the original stays."""
    membership = payment.membership
    _require(
        actor,
        permissions.MEMBERSHIP_MANAGE,
        membership.owner_unit,
        _("You cannot correct dues here."),
    )
    if payment.reverses_id is not None or payment.amount_cents <= 0:
        raise ValidationError(_("A correction cannot itself be reversed."))
    if DuesPayment.objects.filter(reverses=payment).exists():
        raise ValidationError(_("This payment has already been reversed."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the payment is reversed.")})
    reversal = DuesPayment.objects.create(
        membership=membership,
        amount_cents=-payment.amount_cents,
        currency=payment.currency,
        paid_on=today,
        method=payment.method,
        months_credited=-payment.months_credited,
        reverses=payment,
        note=reason.strip()[:200],
        recorded_by=_user(actor),
    )
    if payment.months_credited and membership.paid_through:
        membership.paid_through = add_months(membership.paid_through, -payment.months_credited)
        membership.save(update_fields=["paid_through"])
    audit_record(
        actor=actor,
        verb="dues.reversed",
        obj=membership,
        unit=membership.owner_unit,
        detail={"payment": payment.pk, "reversal": reversal.pk},
    )
    return reversal


# ---------------------------------------------------------------------------------------
# The daily rules


@dataclass
class RulesResult:
    grace: int = 0
    lapsed: int = 0
    waiver_review: int = 0
    renewal_reminders: int = 0


@transaction.atomic
def membership_apply_rules(*, today: dt.date, actor: Any = "rules") -> RulesResult:
    """Move memberships by their dates: paid-through passed → grace (with a reminder);
    grace over → lapsed (with a reminder); a waiver at its review date → grace (with a
    reminder), and renewal reminders ahead of the paid-through date. Safe to run twice."""
    result = RulesResult()
    overdue = Membership.objects.filter(
        status=Status.ACTIVE, paid_through__lt=today
    ).select_related("person", "owner_unit")
    for membership in overdue:
        assert membership.paid_through is not None  # noqa: S101 (filtered above)
        membership.grace_until = membership.paid_through + dt.timedelta(days=GRACE_DAYS)
        membership.save(update_fields=["grace_until"])
        _change_status(
            actor=actor,
            membership=membership,
            to=Status.GRACE,
            on=membership.paid_through + dt.timedelta(days=1),
            reason="paid-through date passed",
        )
        _remind(membership=membership, kind=Reminder.GRACE, due=today)
        result.grace += 1
    ended = Membership.objects.filter(status=Status.GRACE, grace_until__lt=today).select_related(
        "person", "owner_unit"
    )
    for membership in ended:
        assert membership.grace_until is not None  # noqa: S101 (filtered above)
        _change_status(
            actor=actor,
            membership=membership,
            to=Status.LAPSED,
            on=membership.grace_until + dt.timedelta(days=1),
            reason="grace period ended",
        )
        _remind(membership=membership, kind=Reminder.LAPSED, due=today)
        result.lapsed += 1
    reviews = Membership.objects.filter(
        status=Status.WAIVED, waiver_review_on__lte=today
    ).select_related("person", "owner_unit")
    for membership in reviews:
        _change_status(
            actor=actor,
            membership=membership,
            to=Status.GRACE,
            on=today,
            reason="waiver review date reached",
        )
        membership.grace_until = today + dt.timedelta(days=GRACE_DAYS)
        membership.save(update_fields=["grace_until"])
        _remind(membership=membership, kind=Reminder.WAIVER_REVIEW, due=today)
        result.waiver_review += 1
    upcoming = Membership.objects.filter(
        status=Status.ACTIVE,
        paid_through__gte=today,
        paid_through__lte=today + dt.timedelta(days=RENEWAL_NOTICE_DAYS),
    ).select_related("person")
    for membership in upcoming:
        assert membership.paid_through is not None  # noqa: S101 (filtered above)
        due = membership.paid_through - dt.timedelta(days=RENEWAL_NOTICE_DAYS)
        if _remind(membership=membership, kind=Reminder.RENEWAL, due=due):
            result.renewal_reminders += 1
    return result


# ---------------------------------------------------------------------------------------
# Payment provider webhooks (Stripe)


class WebhookRejected(Exception):
    """The request is not a genuine, fresh event from the provider."""


def _event_membership(obj: dict[str, Any]) -> Membership | None:
    reference = obj.get("client_reference_id") or ""
    for source in (obj.get("metadata"), (obj.get("subscription_details") or {}).get("metadata")):
        if not reference and isinstance(source, dict):
            reference = source.get("leaven_reference") or ""
    membership = None
    if reference:
        membership = Membership.objects.filter(reference=str(reference)).first()
    customer = obj.get("customer") or ""
    if membership is None and customer:
        membership = Membership.objects.filter(provider_customer=str(customer)).first()
    if membership is not None and customer and not membership.provider_customer:
        membership.provider_customer = str(customer)[:100]
        membership.save(update_fields=["provider_customer"])
    return membership


def stripe_webhook_receive(*, payload: bytes, signature: str) -> str:
    """Verify a Stripe webhook and apply its event once. Returns what happened; raises
    WebhookRejected (and stores nothing) when the signature or timestamp is wrong."""
    secret = settings.LEAVEN_STRIPE_WEBHOOK_SECRET
    if not secret:
        raise WebhookRejected("no webhook secret configured")
    try:
        stripe.Webhook.construct_event(payload, signature, secret)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise WebhookRejected(str(exc)) from None
    data = json.loads(payload)
    return stripe_event_apply(event=data)


def stripe_event_apply(*, event: dict[str, Any]) -> str:
    """Apply one verified event. Replays (the same event id) are ignored."""
    event_id = str(event.get("id") or "")
    kind = str(event.get("type") or "")
    occurred = dt.datetime.fromtimestamp(int(event.get("created") or 0), tz=dt.UTC)
    obj: dict[str, Any] = (event.get("data") or {}).get("object") or {}
    if not event_id:
        return "ignored"
    try:
        with transaction.atomic():
            record = ProviderEvent.objects.create(
                provider="stripe",
                event_id=event_id[:100],
                kind=kind[:60],
                occurred_at=occurred,
                outcome="received",
            )
            outcome = _apply_stripe(kind=kind, obj=obj, occurred=occurred, record=record)
            record.outcome = outcome
            record.save(update_fields=["outcome", "membership"])
    except IntegrityError:
        return "duplicate"
    return outcome


def _apply_stripe(
    *, kind: str, obj: dict[str, Any], occurred: dt.datetime, record: ProviderEvent
) -> str:
    if kind not in {
        "checkout.session.completed",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
    }:
        return "ignored"
    membership = _event_membership(obj)
    if membership is None:
        return "unmatched"
    record.membership = membership
    _lock(membership)
    actor = PublicActor(unit=membership.owner_unit, label="stripe")
    event_day = timezone.localdate(occurred)
    if kind == "invoice.payment_failed":
        if membership.provider_paid_at and occurred <= membership.provider_paid_at:
            return "stale"
        today = timezone.localdate()
        if membership.status == Status.ACTIVE:
            grace_from = max(membership.paid_through or today, today)
            membership.grace_until = grace_from + dt.timedelta(days=GRACE_DAYS)
            membership.save(update_fields=["grace_until"])
            _change_status(
                actor=actor,
                membership=membership,
                to=Status.GRACE,
                on=today,
                reason="card payment failed",
            )
        _remind(membership=membership, kind=Reminder.PAYMENT_FAILED, due=today)
        return "payment_failed"
    if kind == "checkout.session.completed" and obj.get("payment_status") not in (None, "paid"):
        return "ignored"
    amount = int(obj.get("amount_paid") or obj.get("amount_total") or 0)
    if amount <= 0:
        return "ignored"
    reference = str(obj.get("payment_intent") or obj.get("id") or record.event_id)[:100]
    if DuesPayment.objects.filter(provider_reference=reference).exists():
        return "duplicate_payment"
    _apply_payment(
        actor=actor,
        membership=membership,
        amount_cents=amount,
        paid_on=event_day,
        method=Method.CARD,
        provider_reference=reference,
    )
    if membership.provider_paid_at is None or occurred > membership.provider_paid_at:
        membership.provider_paid_at = occurred
        membership.save(update_fields=["provider_paid_at"])
    return "paid"


# ---------------------------------------------------------------------------------------
# The public join page


@dataclass(frozen=True)
class JoinInput:
    given_name: str
    family_name: str
    email: str
    phone: str
    language: str
    tier_id: int
    amount_cents: int | None
    pay_with: str
    sms_consent: bool
    email_consent: bool


def _find_member(unit: OrgUnit, email: str, phone: str) -> Person | None:
    ids = person_find_by_contact(email=email, phone=phone)
    if not ids:
        return None
    root = organization_root(unit)
    match = (
        PersonUnit.objects.filter(person_id__in=ids, unit__path__startswith=root.path)
        .order_by("person_id")
        .values_list("person_id", flat=True)
        .first()
    )
    return Person.objects.filter(pk=match).first() if match else None


@transaction.atomic
def membership_join(*, unit: OrgUnit, data: JoinInput, today: dt.date) -> Membership:
    """Someone joins through the public page. An existing person (same email or phone in
    this organization) is updated, never duplicated; consent is recorded only when the box
    was ticked, and an opt-out is never lifted."""
    actor = PublicActor(unit=unit, label="join page")
    email = normalize.email_normalize(data.email) if data.email.strip() else ""
    phone = normalize.phone_normalize(data.phone) if data.phone.strip() else ""
    if not email and not phone:
        raise ValidationError({"email": _("Give an email address or a phone number.")})
    if data.pay_with not in PayWith.values:
        raise ValidationError({"pay_with": _("Choose how you will pay.")})
    if data.pay_with == PayWith.CARD and not settings.LEAVEN_STRIPE_PAYMENT_LINK:
        raise ValidationError({"pay_with": _("Card payments are not available here yet.")})
    tier = Tier.objects.filter(pk=data.tier_id, is_active=True).first()
    if tier is None:
        raise ValidationError({"tier": _("Choose one of this group's tiers.")})
    _check_tier(unit, tier)
    # A fixed tier ignores an amount typed for another (the form shows the field for all).
    chosen = data.amount_cents if tier.sliding_min_cents is not None else None
    amount = 0 if data.pay_with == PayWith.HARDSHIP else _check_amount(tier, chosen)
    language = data.language if data.language in ("en", "es") else "en"

    person = _find_member(unit, email, phone)
    if person is None:
        person = person_create(
            actor=actor,
            owner_unit=unit,
            given_name=data.given_name,
            family_name=data.family_name,
            language=language,
            source="join page",
            emails=[
                EmailInput(
                    address=email,
                    status=Email.Status.SUBSCRIBED if data.email_consent else Email.Status.NONE,
                    source="join page",
                )
            ]
            if email
            else [],
            phones=[
                PhoneInput(
                    number=phone,
                    sms_status=Phone.SMSStatus.OPTED_IN
                    if data.sms_consent
                    else Phone.SMSStatus.NONE,
                    source="join page",
                )
            ]
            if phone
            else [],
        )
    else:
        _update_contacts(
            actor=actor,
            person=person,
            email=email,
            phone=phone,
            email_consent=data.email_consent,
            sms_consent=data.sms_consent,
        )
        if not PersonUnit.objects.filter(person=person, unit=unit).exists():
            person_join_unit(actor=actor, person=person, unit=unit)

    membership = Membership.objects.filter(person=person, owner_unit=unit).first()
    if membership is None:
        membership = membership_create(
            actor=actor,
            person=person,
            unit=unit,
            tier=tier,
            amount_cents=amount if data.pay_with != PayWith.HARDSHIP else None,
            pay_with=data.pay_with,
            today=today,
        )
        if data.pay_with == PayWith.HARDSHIP:
            membership.amount_cents = 0
            membership.save(update_fields=["amount_cents"])
    elif membership.status in {Status.PENDING, Status.LAPSED, Status.CANCELLED}:
        membership.tier, membership.amount_cents = tier, amount
        membership.pay_with, membership.currency = data.pay_with, tier.currency
        membership.save(update_fields=["tier", "amount_cents", "pay_with", "currency"])
        _change_status(
            actor=actor, membership=membership, to=Status.PENDING, on=today, reason="joined again"
        )
    _remind(membership=membership, kind=Reminder.WELCOME, due=today)
    audit_record(
        actor=actor,
        verb="membership.join_form",
        obj=membership,
        unit=unit,
        detail={"tier": tier.pk, "pay_with": data.pay_with},
    )
    return membership


def _update_contacts(
    *,
    actor: Any,
    person: Person,
    email: str,
    phone: str,
    email_consent: bool,
    sms_consent: bool,
    add_new: bool = False,
) -> None:
    """Turn on consent the person just gave; add new contact points only where they proved
    who they are (`add_new`); never lift an opt-out or an unsubscribe."""
    contact_consent_merge(
        actor=actor,
        person=person,
        email=email,
        email_consent=email_consent,
        phone=phone,
        sms_consent=sms_consent,
        source="join page",
        add_new=add_new,
    )


# ---------------------------------------------------------------------------------------
# The member's own page, reached by a signed link


def self_service_token(*, membership: Membership) -> str:
    return signing.dumps({"m": membership.pk}, salt=SELF_SERVICE_SALT, compress=True)


def self_service_membership(*, token: str) -> Membership:
    """The membership a signed link opens; a tampered, expired or unknown link is a 404."""
    try:
        data = signing.loads(token, salt=SELF_SERVICE_SALT, max_age=SELF_SERVICE_MAX_AGE)
    except signing.BadSignature:
        raise Http404 from None
    pk = data.get("m") if isinstance(data, dict) else None
    if not isinstance(pk, int):
        raise Http404
    membership = (
        Membership.objects.select_related("person", "tier", "owner_unit").filter(pk=pk).first()
    )
    if membership is None:
        raise Http404
    return membership


@transaction.atomic
def self_service_link_queue(*, actor: Any, membership: Membership, today: dt.date) -> None:
    """Queue the message that carries a member's own link."""
    _require(
        actor,
        permissions.MEMBERSHIP_VIEW,
        membership.owner_unit,
        _("You cannot send links for this membership."),
    )
    _remind(membership=membership, kind=Reminder.SELF_SERVICE_LINK, due=today)
    audit_record(
        actor=actor, verb="membership.link_queued", obj=membership, unit=membership.owner_unit
    )


@transaction.atomic
def membership_self_update(
    *,
    membership: Membership,
    tier: Tier,
    amount_cents: int | None,
    language: str,
) -> Membership:
    """The member changes their tier, amount or language."""
    actor = PublicActor(unit=membership.owner_unit, label=f"member:{membership.pk}")
    if membership.status == Status.CANCELLED:
        raise ValidationError(_("This membership is cancelled."))
    _check_tier(membership.owner_unit, tier)
    amount = _check_amount(tier, amount_cents if tier.sliding_min_cents is not None else None)
    if language not in ("en", "es"):
        raise ValidationError({"language": _("Choose English or Spanish.")})
    changed = []
    if tier.pk != membership.tier_id or amount != membership.amount_cents:
        changed.append("tier")
        membership.tier, membership.amount_cents, membership.currency = tier, amount, tier.currency
        membership.save(update_fields=["tier", "amount_cents", "currency"])
    person = membership.person
    if person.language != language:
        changed.append("language")
        person_update(
            actor=actor,
            person=person,
            given_name=person.given_name,
            family_name=person.family_name,
            preferred_name=person.preferred_name,
            pronouns=person.pronouns,
            language=language,
        )
    audit_record(
        actor=actor,
        verb="membership.self_updated",
        obj=membership,
        unit=membership.owner_unit,
        detail={"fields": changed},
    )
    return membership


@transaction.atomic
def membership_self_contact(
    *, membership: Membership, email: str, phone: str, sms_consent: bool, email_consent: bool
) -> None:
    """The member adds an email or phone (the newest becomes the one we use)."""
    actor = PublicActor(unit=membership.owner_unit, label=f"member:{membership.pk}")
    email = normalize.email_normalize(email) if email.strip() else ""
    phone = normalize.phone_normalize(phone) if phone.strip() else ""
    if not email and not phone:
        raise ValidationError({"email": _("Give an email address or a phone number.")})
    _update_contacts(
        actor=actor,
        person=membership.person,
        email=email,
        phone=phone,
        email_consent=email_consent,
        sms_consent=sms_consent,
        add_new=True,
    )


@transaction.atomic
def membership_self_cancel(*, membership: Membership, today: dt.date) -> Membership:
    actor = PublicActor(unit=membership.owner_unit, label=f"member:{membership.pk}")
    _lock(membership)
    _change_status(
        actor=actor,
        membership=membership,
        to=Status.CANCELLED,
        on=today,
        reason="cancelled by the member",
    )
    return membership

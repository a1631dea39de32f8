"""Sending the reminders that the membership rules leave as pending rows (welcome, renewal,
grace, lapse, failed payment, waiver review, the member's own link): each row whose day has
come becomes one outbox message in the member's language, by email or else by text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from leaven.core.audit import audit_record
from leaven.membership.models import MembershipReminder, Status
from leaven.membership.services import self_service_token
from leaven.messaging import conf as messaging_conf
from leaven.messaging.services import outbox_enqueue

BATCH = 500
Kind = MembershipReminder.Kind


def base_url() -> str:
    """The site's public address, the same one messaging puts in unsubscribe links."""
    return str(messaging_conf.get("LEAVEN_PUBLIC_URL")).rstrip("/")


def _language(code: str) -> str:
    return "es" if code.startswith("es") else "en"


def _date(value: dt.date | None) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value else ""


def reminder_render(row: MembershipReminder) -> tuple[str, str]:
    """(subject, body) of a pending reminder in its language."""
    membership = row.membership
    language = _language(row.language)
    with translation.override(language):
        amount = formats.number_format(Decimal(membership.amount_cents) / 100, 2)
        unit = membership.owner_unit.name
        subjects: dict[str, str] = {
            Kind.WELCOME: _("Welcome to %(unit)s"),
            Kind.RENEWAL: _("Your membership in %(unit)s renews soon"),
            Kind.GRACE: _("Your dues for %(unit)s are overdue"),
            Kind.PAYMENT_FAILED: _("Your card payment to %(unit)s did not go through"),
            Kind.LAPSED: _("Your membership in %(unit)s has lapsed"),
            Kind.WAIVER_REVIEW: _("Your dues waiver with %(unit)s is up for review"),
            Kind.SELF_SERVICE_LINK: _("Your membership page for %(unit)s"),
        }
        openings: dict[str, str] = {
            Kind.WELCOME: _("Thank you for joining. You are now a member."),
            Kind.RENEWAL: _("Your membership is paid through %(date)s.")
            % {"date": _date(membership.paid_through)},
            Kind.GRACE: _("Your dues are overdue. You remain a member until %(date)s.")
            % {"date": _date(membership.grace_until)},
            Kind.PAYMENT_FAILED: _(
                "Your card payment did not go through. You can pay another way from your page."
            ),
            Kind.LAPSED: _("Your membership has lapsed. You can renew it from your page."),
            Kind.WAIVER_REVIEW: _(
                "Your dues waiver is up for review. Tell us if you still need it."
            ),
            Kind.SELF_SERVICE_LINK: _("Here is the link to your own membership page."),
        }
        link = base_url() + reverse(
            "membership:self_service", args=[self_service_token(membership=membership)]
        )
        lines = [
            _("Hello {first_name},"),
            openings.get(row.kind, ""),
            "",
            _("Status: %(status)s") % {"status": Status(membership.status).label},
        ]
        if membership.status != Status.WAIVED:
            lines.append(
                _("Dues: %(amount)s %(currency)s")
                % {"amount": amount, "currency": membership.currency}
            )
        lines += ["", _("Your membership page: %(link)s") % {"link": link}]
        subject = subjects.get(row.kind, _("Your membership in %(unit)s")) % {"unit": unit}
    return str(subject), "\n".join(str(line) for line in lines).strip() + "\n"


def reminder_send(*, row_id: int, today: dt.date) -> str:
    """Hand one due pending reminder to messaging, in one transaction with its new state.
    Returns the row's state afterwards; a row already handled is left as it is."""
    with transaction.atomic():
        row = (
            MembershipReminder.objects.select_for_update()
            .filter(pk=row_id, state=MembershipReminder.State.PENDING, due__lte=today)
            .first()
        )
        if row is None:
            current = MembershipReminder.objects.filter(pk=row_id).values_list("state", flat=True)
            return str(current.first() or "")
        row = MembershipReminder.objects.select_related(
            "membership__owner_unit", "membership__tier", "person__owner_unit"
        ).get(pk=row.pk)
        subject, body = reminder_render(row)
        unit = row.membership.owner_unit
        queued: Any = None
        channel = ""
        for channel in ("email", "sms"):
            queued = outbox_enqueue(
                actor=None,
                person=row.person,
                channel=channel,
                subject=subject,
                body=body,
                idempotency_key=f"membership-reminder:{row.pk}",
                transactional=True,
                owner_unit=unit,
            )
            if queued is not None:
                break
        state = (
            MembershipReminder.State.SENT
            if queued is not None
            else MembershipReminder.State.NO_CHANNEL
        )
        MembershipReminder.objects.filter(pk=row.pk).update(state=state)
        audit_record(
            actor=None,
            verb="membership_reminder.sent"
            if queued is not None
            else "membership_reminder.no_channel",
            obj=row,
            unit=unit,
            detail={
                "membership": row.membership_id,
                "kind": row.kind,
                "outbox": queued.pk if queued is not None else None,
                "channel": channel if queued is not None else "",
            },
        )
        return str(state)


def membership_reminders_send_due(*, today: dt.date | None = None) -> dict[str, int]:
    """Send every pending reminder whose day has come (run it every hour). Cancelled rows
    and rows for a later day are left alone. Safe to run twice and side by side: a row is
    handed over once, and its outbox key is unique."""
    today = today or timezone.localdate()
    ids = list(
        MembershipReminder.objects.filter(state=MembershipReminder.State.PENDING, due__lte=today)
        .order_by("due", "id")
        .values_list("pk", flat=True)[:BATCH]
    )
    counts: dict[str, int] = {}
    for pk in ids:
        state = reminder_send(row_id=pk, today=today)
        counts[state] = counts.get(state, 0) + 1
    return counts

"""Background work for membership: the daily status rules."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent

from . import services


@task()
def membership_apply_rules(today: str = "") -> dict[str, int]:
    """Run once a day: move memberships to grace or lapsed by their dates and queue the
    reminders. Safe to run twice on the same day."""
    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    with audit_source(AuditEvent.Source.TASK):
        result = services.membership_apply_rules(today=day)
    return {
        "grace": result.grace,
        "lapsed": result.lapsed,
        "waiver_review": result.waiver_review,
        "renewal_reminders": result.renewal_reminders,
    }


@task()
def membership_reminders_send_due(today: str = "") -> dict[str, int]:
    """Hand reminders whose day has come to the messaging outbox (run it every hour); a
    reminder goes out once however often it runs."""
    from .services_messages import membership_reminders_send_due as send_due

    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    with audit_source(AuditEvent.Source.TASK):
        return send_due(today=day)

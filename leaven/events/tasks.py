"""Background work for events: thin, safe to run twice."""

from __future__ import annotations

from django_tasks import task

from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent
from leaven.events import services


@task()
def release_due_seats() -> list[int]:
    """Release unused mobilization seats whose deadline has passed (run it every few
    minutes); an event is released once however often it runs."""
    with audit_source(AuditEvent.Source.TASK):
        return services.mobilization_release_due()


@task()
def send_due_messages() -> dict[str, int]:
    """Hand confirmations and reminders whose time has come to the messaging outbox (run it
    every minute); a row goes out once however often it runs."""
    from leaven.events.services_messages import events_messages_send_due

    with audit_source(AuditEvent.Source.TASK):
        return events_messages_send_due()

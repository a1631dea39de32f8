"""Background work for the API: thin, take ids, safe to run twice."""

from __future__ import annotations

from django_tasks import task

from leaven.api import services
from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent


@task()
def deliver_webhook(delivery_id: int) -> str:
    """Send one webhook delivery; a delivered one is not sent again."""
    with audit_source(AuditEvent.Source.TASK):
        return services.delivery_send(delivery_id=delivery_id)


@task()
def deliver_due_webhooks() -> int:
    """Retry deliveries whose back-off has passed (run every minute)."""
    with audit_source(AuditEvent.Source.TASK):
        due = services.deliveries_due()
        for delivery_id in due:
            services.delivery_send(delivery_id=delivery_id)
        return len(due)

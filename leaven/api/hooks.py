"""Outgoing webhooks follow the audit log: every write leaves an audit event, and the
events a webhook asked for become deliveries, sent by a task after the commit."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from leaven.api.models import Webhook
from leaven.core.models import AuditEvent

# audit verb -> (webhook topic, kind of record sent)
TOPICS: dict[str, tuple[str, str]] = {
    "person.created": (Webhook.Topic.PERSON_CREATED, "person"),
    "person.updated": (Webhook.Topic.PERSON_UPDATED, "person"),
    "person.stage_changed": (Webhook.Topic.PERSON_UPDATED, "person"),
    "person.tagged": (Webhook.Topic.TAGGING, "tagging"),
    "rsvp.added": (Webhook.Topic.ATTENDANCE, "rsvp"),
    "rsvp.submitted": (Webhook.Topic.ATTENDANCE, "rsvp"),
    "rsvp.walk_in": (Webhook.Topic.ATTENDANCE, "rsvp"),
    "dues.recorded": (Webhook.Topic.DONATION, "donation"),
}


def _object_id(event: AuditEvent, kind: str) -> int | None:
    if kind == "tagging":
        from leaven.people.models import Tagging

        tag_id = (event.detail or {}).get("tag")
        if not isinstance(tag_id, int):
            return None
        found = (
            Tagging.objects.filter(person_id=event.object_id, tag_id=tag_id)
            .values_list("pk", flat=True)
            .first()
        )
        return int(found) if found else None
    if kind == "donation":
        payment_id = (event.detail or {}).get("payment")
        return payment_id if isinstance(payment_id, int) else None
    try:
        return int(event.object_id)
    except (TypeError, ValueError):
        return None


def on_audit_event(sender: Any, instance: AuditEvent, created: bool, **kwargs: Any) -> None:
    if not created or instance.verb not in TOPICS or instance.unit_id is None:
        return
    if not Webhook.objects.filter(is_active=True).exists():
        return
    from leaven.api.services import deliveries_create

    topic, kind = TOPICS[instance.verb]
    object_id = _object_id(instance, kind)
    if object_id is None or instance.unit is None:
        return
    ids = deliveries_create(
        unit=instance.unit,
        topic=topic,
        event_id=f"audit:{instance.pk}",
        object_type=kind,
        object_id=object_id,
    )
    if ids:
        from leaven.api.tasks import deliver_webhook

        for delivery_id in ids:
            transaction.on_commit(_enqueue(deliver_webhook, delivery_id))


def _enqueue(task: Any, delivery_id: int) -> Any:
    def run() -> None:
        task.enqueue(delivery_id)

    return run

"""Tasks: thin, safe to run twice."""

from __future__ import annotations

from django_tasks import task

from leaven.messaging import services, services_retention


@task()
def outbox_drain(channel: str) -> int:
    """Deliver what is due on a channel (queued after a commit that wrote outbox rows)."""
    return services.outbox_drain(channel=channel).sent


@task()
def broadcasts_queue_due() -> int:
    """Queue scheduled broadcasts whose time has come."""
    return services.broadcast_queue_due()


@task()
def messages_purge() -> int:
    """Clear the texts of finished messages past their retention."""
    return services_retention.messages_purge().total

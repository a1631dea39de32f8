"""Periodic work: which tasks run how often. `leaven scheduler` (started by `leaven serve`)
enqueues each when it is due; the task workers run them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from leaven.core.models import ScheduledRun


@dataclass(frozen=True)
class Periodic:
    name: str
    every: dt.timedelta
    task: str  # "module.path:task_name"
    args: tuple[Any, ...] = ()


MINUTE = dt.timedelta(minutes=1)

PERIODIC: tuple[Periodic, ...] = (
    Periodic(
        "core.prune_task_results", dt.timedelta(days=1), "leaven.core.tasks:prune_task_results"
    ),
    Periodic(
        "membership.rules", dt.timedelta(hours=6), "leaven.membership.tasks:membership_apply_rules"
    ),
    Periodic("events.release_seats", 5 * MINUTE, "leaven.events.tasks:release_due_seats"),
    Periodic("events.send_messages", MINUTE, "leaven.events.tasks:send_due_messages"),
    Periodic(
        "membership.send_reminders",
        dt.timedelta(hours=1),
        "leaven.membership.tasks:membership_reminders_send_due",
    ),
    Periodic("messaging.scheduled", MINUTE, "leaven.messaging.tasks:broadcasts_queue_due"),
    Periodic("messaging.drain_email", MINUTE, "leaven.messaging.tasks:outbox_drain", ("email",)),
    Periodic("messaging.drain_sms", MINUTE, "leaven.messaging.tasks:outbox_drain", ("sms",)),
    Periodic("messaging.purge", dt.timedelta(days=1), "leaven.messaging.tasks:messages_purge"),
    Periodic("api.webhooks_retry", MINUTE, "leaven.api.tasks:deliver_due_webhooks"),
    Periodic("rapid.escalate", MINUTE, "leaven.rapid_response.tasks:rapid_escalate"),
    Periodic("rapid.purge", dt.timedelta(hours=1), "leaven.rapid_response.tasks:rapid_purge"),
)


def _claim(job: Periodic, now: dt.datetime) -> bool:
    """Take this run of `job` if it is due; True for exactly one caller per run."""
    due_before = now - job.every
    try:
        with transaction.atomic():
            _, created = ScheduledRun.objects.get_or_create(
                name=job.name, defaults={"last_run_at": now}
            )
    except IntegrityError:
        created = False
    if created:
        return True
    claimed = ScheduledRun.objects.filter(name=job.name, last_run_at__lte=due_before).update(
        last_run_at=now
    )
    return claimed == 1


def tick(*, now: dt.datetime | None = None, jobs: tuple[Periodic, ...] = PERIODIC) -> list[str]:
    """Enqueue every job that is due; return their names."""
    now = now or timezone.now()
    started = []
    for job in jobs:
        if _claim(job, now):
            module, name = job.task.split(":")
            getattr(import_module(module), name).enqueue(*job.args)
            started.append(job.name)
    return started

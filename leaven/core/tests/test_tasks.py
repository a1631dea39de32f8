"""Housekeeping: finished task rows are cleared after a week; waiting ones are kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from leaven.core.models import AuditEvent
from leaven.core.services import task_results_prune
from leaven.core.tasks import prune_task_results

pytestmark = pytest.mark.django_db


def _row(status: str, finished_days_ago: float | None) -> DBTaskResult[Any, Any]:
    now = timezone.now()
    finished = None if finished_days_ago is None else now - dt.timedelta(days=finished_days_ago)
    return DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="leaven.core.tasks.prune_task_results",
        backend_name="default",
        queue_name="default",
        run_after=now,
        finished_at=finished,
    )


def test_prune_deletes_old_finished_rows_only():
    """Successful and failed rows finished over 7 days ago go; recent and waiting rows stay."""
    old_ok = _row("SUCCESSFUL", 8)
    old_failed = _row("FAILED", 30)
    recent = _row("SUCCESSFUL", 1)
    waiting = _row("READY", None)
    assert task_results_prune() == 2
    left = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert left == {recent.pk, waiting.pk}
    assert old_ok.pk not in left and old_failed.pk not in left
    event = AuditEvent.objects.get(verb="tasks.pruned")
    assert event.detail == {"count": 2}


def test_prune_respects_the_setting(settings):
    """LEAVEN_TASK_RESULTS_DAYS sets how long finished rows are kept."""
    settings.LEAVEN_TASK_RESULTS_DAYS = 0
    _row("SUCCESSFUL", 0.01)
    assert task_results_prune() == 1


def test_nothing_to_prune_writes_no_event():
    """A run that deletes nothing leaves no audit noise."""
    _row("SUCCESSFUL", 1)
    assert prune_task_results.call() == 0
    assert not AuditEvent.objects.filter(verb="tasks.pruned").exists()

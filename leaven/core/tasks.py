"""Background work of the core: housekeeping."""

from __future__ import annotations

from django_tasks import task

from leaven.core.services import task_results_prune


@task()
def prune_task_results() -> int:
    return task_results_prune()

"""Tasks: thin, safe to run twice."""

from __future__ import annotations

from django_tasks import task

from leaven.rapid_response import services


@task()
def rapid_escalate() -> int:
    """Start the next ring for confirmed incidents with too few answers."""
    return len(services.escalate_due())


@task()
def rapid_purge() -> int:
    """Delete old reporter contacts and reduce old incidents (legal holds excepted)."""
    result = services.purge_due()
    return result.contacts + result.incidents

"""The release_seats command and task release unused seats once the deadline passed."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from leaven.events import services
from leaven.events.models import Quota
from leaven.events.tasks import release_due_seats


def _bus(make_event, admin, tree, release_at):
    event = make_event(capacity=4, is_mobilization=True, release_at=release_at)
    services.quota_add(actor=admin, event=event, unit=tree.circle_a, seats=3)
    return event


def test_command_releases_past_deadlines_only(make_event, admin, tree, capsys):
    due = _bus(make_event, admin, tree, timezone.now() - timedelta(minutes=5))
    later = _bus(make_event, admin, tree, timezone.now() + timedelta(days=1))
    call_command("release_seats")
    assert Quota.objects.get(event=due).held == 0
    assert Quota.objects.get(event=later).held == 3
    assert "1 events" in capsys.readouterr().out


def test_task_is_safe_to_run_twice(make_event, admin, tree):
    due = _bus(make_event, admin, tree, timezone.now() - timedelta(minutes=5))
    assert release_due_seats.call() == [due.pk]
    assert release_due_seats.call() == []

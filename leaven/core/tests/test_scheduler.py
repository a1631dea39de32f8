"""The scheduler starts each periodic job once per period, however many schedulers run."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

import pytest
from django.core.management import call_command

from leaven.core import scheduler
from leaven.core.models import ScheduledRun

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)


def test_every_job_names_a_real_task():
    """Each entry of the schedule points at a task that exists and can be enqueued."""
    for job in scheduler.PERIODIC:
        module, name = job.task.split(":")
        assert hasattr(getattr(import_module(module), name), "enqueue"), job.task


def test_a_job_runs_once_per_period():
    """Two ticks at the same moment (two schedulers) start every job once; after the period
    passes it starts again."""
    first = scheduler.tick(now=NOW)
    assert sorted(first) == sorted(job.name for job in scheduler.PERIODIC)
    assert scheduler.tick(now=NOW) == []
    assert scheduler.tick(now=NOW + dt.timedelta(seconds=30)) == []
    again = scheduler.tick(now=NOW + dt.timedelta(minutes=1))
    assert "messaging.scheduled" in again
    assert "membership.rules" not in again
    assert "membership.rules" in scheduler.tick(now=NOW + dt.timedelta(hours=6))
    assert ScheduledRun.objects.count() == len(scheduler.PERIODIC)


def test_command_once(capsys):
    """`leaven scheduler --once` enqueues what is due and exits."""
    call_command("scheduler", "--once")
    assert "enqueued membership.rules" in capsys.readouterr().out

"""`leaven membership rules --today DATE` and the daily task run the same rules."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from leaven.core.models import AuditEvent
from leaven.membership import services
from leaven.membership.models import Status


@pytest.fixture
def paid(make_membership, captain):
    membership = make_membership(today=dt.date(2026, 1, 10))
    services.payment_record(
        actor=captain,
        membership=membership,
        amount_cents=1000,
        paid_on=dt.date(2026, 1, 10),
        method="cash",
        today=dt.date(2026, 1, 10),
    )
    return membership


def test_command_moves_to_grace_with_a_given_date(paid):
    out = StringIO()
    call_command("membership", "rules", "--today", "2026-02-11", stdout=out)
    assert "grace 1" in out.getvalue()
    paid.refresh_from_db()
    assert paid.status == Status.GRACE
    assert AuditEvent.objects.filter(verb="membership.status_changed", source="command").exists()


def test_command_refuses_a_bad_date(paid):
    with pytest.raises(CommandError):
        call_command("membership", "rules", "--today", "tomorrow")


def test_task_runs_the_rules_twice_safely(paid):
    from leaven.membership.tasks import membership_apply_rules

    first = membership_apply_rules.enqueue(today="2026-03-20")
    second = membership_apply_rules.enqueue(today="2026-03-20")
    assert (first.return_value or {}).get("grace") == 1
    assert (first.return_value or {}).get("lapsed") == 1
    assert second.return_value == {
        "grace": 0,
        "lapsed": 0,
        "waiver_review": 0,
        "renewal_reminders": 0,
    }
    paid.refresh_from_db()
    assert paid.status == Status.LAPSED

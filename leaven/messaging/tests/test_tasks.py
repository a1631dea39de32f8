"""The drain task delivers what is due and is safe to run twice."""

from __future__ import annotations

import pytest
from django.core import mail

from leaven.messaging import services
from leaven.messaging.tasks import outbox_drain

pytestmark = pytest.mark.django_db


def test_drain_task_sends_once_even_when_run_twice(add_person):
    person = add_person(email="a@example.org")
    services.outbox_enqueue(
        actor=None, person=person, channel="email", subject="s", body="b", idempotency_key="k"
    )
    outbox_drain.enqueue(channel="email")
    outbox_drain.enqueue(channel="email")
    assert len(mail.outbox) == 1

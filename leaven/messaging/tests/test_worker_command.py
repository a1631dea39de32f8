"""`leaven messaging worker` as a real process: killed with SIGKILL in the middle of a
1,000-recipient email broadcast and started again, it delivers every message exactly once to
a real SMTP server; SIGTERM stops it cleanly.

The worker runs in its own process, so it works on its own database (a SQLite file, or a
PostgreSQL database of its own), set up by `migrate` and seeded through the services."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from leaven.core.tests import processes

RECIPIENTS = 1000
HOLD_AT = 500
HOLD_MID_BATCH = 480

SEED = f"""
import django; django.setup()
from leaven.core.models import OrgUnit, User
from leaven.core.services import unit_create, role_grant
from leaven.messaging import services
from leaven.people.services import EmailInput, person_create
unit = unit_create(actor=None, name="Pilsen", kind=OrgUnit.Kind.NETWORK, parent=None,
                   as_operator=True)
user = User.objects.create_user(email="organizer@example.org", password="x" * 12)
role_grant(actor=None, user=user, unit=unit, role="organizer", as_operator=True)
for i in range({RECIPIENTS}):
    person_create(actor=user, owner_unit=unit, given_name=f"P{{i}}",
                  emails=[EmailInput(address=f"p{{i}}@example.org")])
segment = services.segment_create(actor=user, owner_unit=unit, name="All", conditions={{}})
broadcast = services.broadcast_create(actor=user, segment=segment, channel="email", name="B",
    templates={{"en": {{"subject": "Hi {{first_name}}", "body": "Assembly"}}}})
print(services.broadcast_queue(actor=user, broadcast=broadcast))
"""

COUNTS = """
import django, json; django.setup()
from django.db.models import Count
from leaven.messaging.models import OutboxMessage
rows = OutboxMessage.objects.values("state").annotate(n=Count("id")).order_by()
print(json.dumps({r["state"]: r["n"] for r in rows}))
"""


def _env(database_url: str, smtp_server) -> dict[str, str]:
    return processes.child_env(
        database_url,
        LEAVEN_OUTBOX_LEASE_SECONDS="2",
        LEAVEN_OUTBOX_BATCH="50",
        LEAVEN_EMAIL_TRANSPORT="django",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=smtp_server.host,
        EMAIL_PORT=str(smtp_server.port),
    )


def _worker(env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "leaven.cli",
            "messaging",
            "worker",
            "--channel",
            "email",
            "--poll",
            "0.2",
            *extra,
        ],
        env=env,
        cwd=processes.ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def worker_db(tmp_path, smtp_server, db):
    url, drop = processes.own_database(tmp_path, "messaging_worker")
    env = _env(url, smtp_server)
    processes.migrate(env)
    yield env
    drop()


def test_sigkill_mid_broadcast_then_restart_delivers_each_message_once(worker_db, smtp_server):
    """A worker sending over one SMTP connection, killed while the server holds message 500,
    and started again: each message reaches the server exactly once."""
    env = {**worker_db, "LEAVEN_EMAIL_CONNECTIONS": "1"}
    assert processes.python(SEED, env) == str(RECIPIENTS)
    # The SMTP server holds message 500 unanswered: the worker is killed while it waits.
    smtp_server.hold_at = HOLD_AT
    first = _worker(env)
    try:
        assert smtp_server.reached.wait(timeout=300), "the worker never reached message 500"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    smtp_server.release.set()
    counts = json.loads(processes.python(COUNTS, env))
    assert counts.get("sent", 0) == HOLD_AT - 1
    assert counts.get("sending", 0) >= 1  # claimed by the dead worker, under lease

    second = _worker(env, "--until-idle")
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err[-3000:]

    counts = json.loads(processes.python(COUNTS, env))
    assert counts == {"sent": RECIPIENTS}
    ids = smtp_server.message_ids
    assert len(ids) == RECIPIENTS
    assert len(set(ids)) == RECIPIENTS
    recipients = [m["To"] for m in smtp_server.messages]
    assert len(set(recipients)) == RECIPIENTS


def test_sigkill_with_several_connections_then_restart_delivers_each_message_once(
    worker_db, smtp_server
):
    """A worker sending over four SMTP connections at once, killed while every connection
    waits on the server, and started again: each message reaches the server exactly once."""
    env = {**worker_db, "LEAVEN_EMAIL_CONNECTIONS": "4"}
    assert processes.python(SEED, env) == str(RECIPIENTS)
    # From message 480 on (the middle of a claimed batch) the server answers nothing, so
    # every connection ends up waiting.
    smtp_server.hold_at = HOLD_MID_BATCH
    smtp_server.hold_all = True
    first = _worker(env)
    try:
        assert smtp_server.reached.wait(timeout=300), "the worker never reached message 480"
        # Every message the server accepted is recorded before the worker is killed.
        for _check in range(200):
            counts = json.loads(processes.python(COUNTS, env))
            if counts.get("sent", 0) == HOLD_MID_BATCH - 1:
                break
        assert counts.get("sent", 0) == HOLD_MID_BATCH - 1
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    smtp_server.release.set()
    assert len(smtp_server.messages) == HOLD_MID_BATCH - 1
    counts = json.loads(processes.python(COUNTS, env))
    assert counts.get("sent", 0) == HOLD_MID_BATCH - 1
    assert counts.get("sending", 0) >= 4  # one in flight per connection, under lease

    second = _worker(env, "--until-idle")
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err[-3000:]

    counts = json.loads(processes.python(COUNTS, env))
    assert counts == {"sent": RECIPIENTS}
    ids = smtp_server.message_ids
    assert len(ids) == RECIPIENTS
    assert len(set(ids)) == RECIPIENTS
    assert len({m["To"] for m in smtp_server.messages}) == RECIPIENTS


def test_sigterm_stops_the_worker_cleanly(worker_db, smtp_server):
    env = worker_db
    worker = _worker(env)
    try:
        # Once the worker says it is ready, SIGTERM ends it with status 0.
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "worker ready"
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err[-3000:]
    assert out.strip().endswith("sent 0")

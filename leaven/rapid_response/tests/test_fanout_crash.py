"""The fan-out as a real process killed with SIGKILL in the middle of writing alerts, then
run again: every responder in range is alerted exactly once (one alert row, one urgent text
handed to the SMS worker), none twice, none missed.

The processes work on their own database (a SQLite file, or a PostgreSQL database of their
own), set up by `migrate` and seeded through the services."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]
RESPONDERS = 240
BATCH = 50

SEED = f"""
import django; django.setup()
from django.utils import timezone
from leaven.core.models import OrgUnit, User
from leaven.core.services import unit_create, role_grant
from leaven.people.services import PhoneInput, person_create
from leaven.rapid_response import services
unit = unit_create(actor=None, name="Pilsen", kind=OrgUnit.Kind.NETWORK, parent=None,
                   as_operator=True)
user = User.objects.create_user(email="dispatcher@example.org", password="x" * 12)
role_grant(actor=None, user=user, unit=unit, role="admin", as_operator=True)
role_grant(actor=None, user=user, unit=unit, role="dispatcher", as_operator=True)
for i in range({RESPONDERS}):
    person = person_create(actor=user, owner_unit=unit, given_name=f"R{{i}}",
        language="es" if i % 2 else "en",
        phones=[PhoneInput(number=f"+1312556{{i:04d}}", sms_status="opted_in",
                           urgent_alerts=True)])
    services.responder_save(actor=user, person=person, unit=unit,
        lat=41.8565 + (i % 20) * 0.001, lon=-87.6594 + (i // 20) * 0.001)
data = services.ReportInput(type="checkpoint", seen_at=timezone.now(), lat=41.86, lon=-87.655)
print(services.report_submit(actor=None, unit=unit, data=data).pk)
"""

CONFIRM = """
import os, signal, sys
import django; django.setup()
from leaven.core.models import User
from leaven.rapid_response import services
from leaven.rapid_response.models import Incident
services.INSERT_BATCH = {batch}
if {kill}:
    def die(written):
        if written >= 2 * {batch}:
            os.kill(os.getpid(), signal.SIGKILL)
    services._after_batch = die
user = User.objects.get(email="dispatcher@example.org")
incident = Incident.objects.get()
services.incident_set_state(actor=user, incident=incident, state="confirmed")
print("done")
"""

COUNTS = """
import django, json; django.setup()
from django.db.models import Count
from leaven.messaging.models import OutboxMessage
from leaven.rapid_response.models import Alert, Incident
alerts = Alert.objects.filter(kind="respond")
messages = OutboxMessage.objects.filter(idempotency_key__startswith="rapid:")
print(json.dumps({
    "state": Incident.objects.get().state,
    "alerts": alerts.count(),
    "responders": alerts.values("responder_id").distinct().count(),
    "messages": messages.count(),
    "destinations": messages.values("destination_index").distinct().count(),
    "sent": messages.filter(state="sent").count(),
}))
"""


def _database_url(tmp_path: Path) -> tuple[str, Callable[[], None]]:
    if connection.vendor == "postgresql":
        import psycopg

        db = django_settings.DATABASES["default"]
        name = f"leaven_rapid_fanout_{uuid.uuid4().hex[:8]}"
        dsn = f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}", drop
    return f"sqlite:///{tmp_path / 'fanout.sqlite3'}", lambda: None


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _python(code: str, env: dict[str, str]) -> str:
    done = _run(["-c", code], env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def fanout_env(tmp_path, db):
    url, drop = _database_url(tmp_path)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_", "LEAVEN_", "EMAIL_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="leaven.settings",
        DATABASE_URL=url,
        LEAVEN_TESTING="1",
        LEAVEN_ENV_FILE=str(ROOT / "no-such.env"),
        LEAVEN_TASKS_BACKEND="django_tasks.backends.immediate.ImmediateBackend",
        LEAVEN_OUTBOX_DRAIN_ON_COMMIT="0",
        LEAVEN_SMS_TRANSPORT="console",
        LEAVEN_SMS_RATE="0",
        LEAVEN_PUBLIC_URL="http://testserver",
        PYTHONPATH=str(ROOT),
    )
    migrate = _run(["manage.py", "migrate", "-v0"], env)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    yield env
    drop()


def test_sigkill_mid_fanout_then_rerun_alerts_each_responder_once(fanout_env):
    """Killed after two batches of alert rows, the fan-out leaves nothing half-written; run
    again it alerts all responders once; a third run adds nothing; the SMS worker then hands
    each text to the transport once."""
    env = fanout_env
    _python(SEED, env)
    killed = _run(["-c", CONFIRM.format(batch=BATCH, kill=True)], env)
    assert killed.returncode == -9, killed.stderr[-3000:]
    counts = json.loads(_python(COUNTS, env))
    assert counts == {
        "state": "reported",
        "alerts": 0,
        "responders": 0,
        "messages": 0,
        "destinations": 0,
        "sent": 0,
    }
    assert _python(CONFIRM.format(batch=BATCH, kill=False), env) == "done"
    assert _python(CONFIRM.format(batch=BATCH, kill=False), env) == "done"
    counts = json.loads(_python(COUNTS, env))
    assert counts["state"] == "confirmed"
    assert counts["alerts"] == counts["responders"] == RESPONDERS
    assert counts["messages"] == counts["destinations"] == RESPONDERS
    worker = _run(
        ["-m", "leaven.cli", "messaging", "worker", "--channel", "sms", "--until-idle"], env
    )
    assert worker.returncode == 0, worker.stderr[-3000:]
    counts = json.loads(_python(COUNTS, env))
    assert counts["sent"] == RESPONDERS

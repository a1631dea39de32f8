"""The fan-out as a real process killed with SIGKILL in the middle of writing alerts, then
run again: every responder in range is alerted exactly once (one alert row, one urgent text
handed to the SMS worker), none twice, none missed. And the SMS worker killed in the middle
of sending those alerts through the real twilio library (to a local stand-in for Twilio's
API), then started again: every responder's text reaches the provider exactly once.

The processes work on their own database (a SQLite file, or a PostgreSQL database of their
own), set up by `migrate` and seeded through the services."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from leaven.core.tests import processes

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


@pytest.fixture
def fanout_env(tmp_path, db):
    url, drop = processes.own_database(tmp_path, "rapid_fanout")
    env = processes.child_env(url, LEAVEN_SMS_TRANSPORT="console", LEAVEN_SMS_RATE="0")
    processes.migrate(env)
    yield env
    drop()


def test_sigkill_mid_fanout_then_rerun_alerts_each_responder_once(fanout_env):
    """Killed after two batches of alert rows, the fan-out leaves nothing half-written; run
    again it alerts all responders once; a third run adds nothing; the SMS worker then hands
    each text to the transport once."""
    env = fanout_env
    processes.python(SEED, env)
    killed = processes.run(["-c", CONFIRM.format(batch=BATCH, kill=True)], env)
    assert killed.returncode == -9, killed.stderr[-3000:]
    counts = json.loads(processes.python(COUNTS, env))
    assert counts == {
        "state": "reported",
        "alerts": 0,
        "responders": 0,
        "messages": 0,
        "destinations": 0,
        "sent": 0,
    }
    assert processes.python(CONFIRM.format(batch=BATCH, kill=False), env) == "done"
    assert processes.python(CONFIRM.format(batch=BATCH, kill=False), env) == "done"
    counts = json.loads(processes.python(COUNTS, env))
    assert counts["state"] == "confirmed"
    assert counts["alerts"] == counts["responders"] == RESPONDERS
    assert counts["messages"] == counts["destinations"] == RESPONDERS
    worker = processes.run(
        ["-m", "leaven.cli", "messaging", "worker", "--channel", "sms", "--until-idle"], env
    )
    assert worker.returncode == 0, worker.stderr[-3000:]
    counts = json.loads(processes.python(COUNTS, env))
    assert counts["sent"] == RESPONDERS


# --------------------------------------------------------------------------- the SMS worker
# A stand-in for the slice of Twilio's REST API the transport uses: creating a message and
# listing the messages to a number (what `lookup` asks after a crash). From the `hold_from`th
# message on, each one is accepted (kept) and then its answer is held back until `release`:
# the worker dies while the provider holds texts it never heard were accepted.

CONNECTIONS = 4
WORKER_BATCH = 50
HOLD_FROM = 120  # in the third batch of 50


@dataclass
class Provider:
    url: str = ""
    created: list[dict[str, str]] = field(default_factory=list)
    hold_from: int = 0
    held: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    all_held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


def _provider_handler(state: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the worker that asked is gone

        def _message(self, number: int, item: dict[str, str]) -> dict[str, Any]:
            sid = f"SM{number:032d}"
            return {
                "sid": sid,
                "to": item["To"],
                "from": item.get("From", ""),
                "body": item.get("Body", ""),
                "status": "queued",
                "account_sid": "AC" + "0" * 32,
                "uri": f"/2010-04-01/Accounts/AC/Messages/{sid}.json",
            }

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            with state.lock:
                state.created.append(form)
                number = len(state.created)
                hold = bool(state.hold_from) and number >= state.hold_from
                if hold and not state.release.is_set():
                    state.held += 1
                    if state.held >= CONNECTIONS:
                        state.all_held.set()
            if hold:
                state.release.wait(timeout=300)
            self._json(201, self._message(number, form))

        def do_GET(self) -> None:  # noqa: N802
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            with state.lock:
                items = [
                    self._message(i + 1, item)
                    for i, item in enumerate(state.created)
                    if not query.get("To") or item["To"] == query["To"]
                ]
            self._json(
                200,
                {
                    "messages": items,
                    "end": len(items),
                    "first_page_uri": "",
                    "next_page_uri": None,
                    "page": 0,
                    "page_size": 50,
                    "previous_page_uri": None,
                    "start": 0,
                    "uri": self.path,
                },
            )

    return Handler


@pytest.fixture
def provider() -> Iterator[Provider]:
    state = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _provider_handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


OUTBOX = """
import django, json; django.setup()
from django.db.models import Count
from leaven.messaging.models import OutboxMessage
rows = OutboxMessage.objects.filter(idempotency_key__startswith="rapid:")
print(json.dumps({r["state"]: r["n"] for r in rows.values("state").annotate(n=Count("id"))}))
"""


def _sms_worker(env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen[str]:
    """The worker, its output into a file (a pipe nobody reads could fill and stop it)."""
    with log.open("a") as out:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "leaven.cli", "messaging", "worker", "--channel", "sms"]
            + ["--poll", "0.2", *extra],
            env=env,
            cwd=processes.ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )


def test_sigkill_mid_sending_then_restart_hands_each_alert_to_twilio_once(
    fanout_env, provider, tmp_path
):
    """The SMS worker sends a batch over four connections and records the batch's outcomes
    in one commit. Killed while every connection waits on Twilio (which already took those
    texts, and some before them that were never recorded), then started again after the
    lease: the unrecorded texts are found at Twilio and recorded, the rest are sent, and
    each responder's alert reaches Twilio exactly once."""
    env = {
        **fanout_env,
        "LEAVEN_SMS_TRANSPORT": "twilio",
        "TWILIO_API_BASE": provider.url,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "test-auth-token",
        "TWILIO_FROM_NUMBER": "+13125550100",
        "LEAVEN_SMS_CONNECTIONS": str(CONNECTIONS),
        "LEAVEN_OUTBOX_BATCH": str(WORKER_BATCH),
        "LEAVEN_OUTBOX_LEASE_SECONDS": "2",
    }
    processes.python(SEED, env)
    assert processes.python(CONFIRM.format(batch=BATCH, kill=False), env) == "done"
    provider.hold_from = HOLD_FROM
    log = tmp_path / "worker.log"
    first = _sms_worker(env, log)
    try:
        reached = provider.all_held.wait(timeout=300)
        assert reached, f"the worker never reached the held texts: {log.read_text()[-3000:]}"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    accepted = len(provider.created)
    assert HOLD_FROM + CONNECTIONS - 1 <= accepted < 3 * WORKER_BATCH
    counts = json.loads(processes.python(OUTBOX, env))
    # Two batches recorded; the third claimed, partly taken by Twilio, not recorded.
    assert counts == {
        "sent": 2 * WORKER_BATCH,
        "pending": RESPONDERS - 3 * WORKER_BATCH,
        "sending": WORKER_BATCH,
    }
    provider.hold_from = 0
    provider.release.set()

    second = _sms_worker(env, log, "--until-idle")
    assert second.wait(timeout=600) == 0, log.read_text()[-3000:]
    assert json.loads(processes.python(OUTBOX, env)) == {"sent": RESPONDERS}
    numbers = [item["To"] for item in provider.created]
    assert len(numbers) == RESPONDERS
    assert len(set(numbers)) == RESPONDERS
    assert all("URGENT" in item["Body"] for item in provider.created)

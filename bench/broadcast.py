"""Broadcasts: evaluate and queue a segment of N people (100,000 by default), then deliver a
10,000-recipient email broadcast into a local SMTP server (aiosmtpd) through the outbox.

Figures:

- broadcast.queue          seconds to evaluate the segment and write its outbox rows (one
                           transaction); .rate is rows written per second
- broadcast.deliver        messages per second from pending rows to "sent", through the real
                           claim/send/record loop and Django's SMTP backend, over
                           CONNECTIONS SMTP connections at once (goal >= 1,000/s),
                           with the ratio to the anchor:
                           smtplib sending the same number of messages on one connection,
                           no database (the ceiling set by the SMTP server and the machine)
- broadcast.deliver.ceiling the same smtplib loop over CONNECTIONS connections at once, no
                           database: the most the server and machine allow; .ratio is the
                           worker's rate over it
- broadcast.deliver.pipelined (and .ceiling) the same messages again, to a server that offers
                           PIPELINING (RFC 2920) as Postfix and Exim do; smtplib itself
                           never pipelines, so its anchors are unchanged in kind

The people database is generated with `leaven demo` and cached in bench/out/.
"""

from __future__ import annotations

import json
import smtplib
import socket
import time
from email.message import EmailMessage
from pathlib import Path

from bench import OUT, emit

DEFAULT_PEOPLE = 100_000
DELIVER = 10_000
DELIVER_GOAL = 1000.0
# SMTP connections the worker sends over at once (the LEAVEN_EMAIL_CONNECTIONS setting).
CONNECTIONS = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The SMTP server runs in a process of its own (as a real one would), so it does not compete
# with the worker for the interpreter. It answers "count" on stdin with what it received.
SERVER = """
import sys
from aiosmtpd.controller import Controller

class Counter:
    count = 0
    pipelining = sys.argv[2] == "1"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server, session, envelope):
        Counter.count += 1
        return "250 OK"

controller = Controller(Counter(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
for line in sys.stdin:
    print(Counter.count, flush=True)
controller.stop()
"""


class _Server:
    def __init__(self, *, pipelining: bool = False) -> None:
        import subprocess
        import sys

        self.port = _free_port()
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", SERVER, str(self.port), "1" if pipelining else "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None and self.process.stdin is not None
        assert self.process.stdout.readline().strip() == "ready"

    def count(self) -> int:
        assert self.process.stdout is not None and self.process.stdin is not None
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _smtp_anchor(host: str, port: int, n: int) -> float:
    message = EmailMessage()
    message["From"] = "bench@example.org"
    message["To"] = "someone@example.org"
    message["Subject"] = "Asamblea el sábado"
    message.set_content("Hola María, nos vemos en Pilsen.\n\n--\nhttps://example.org/m/u/x/")
    data = message.as_bytes()
    started = time.perf_counter()
    with smtplib.SMTP(host, port) as smtp:
        for i in range(n):
            smtp.sendmail("bench@example.org", [f"p{i}@example.org"], data)
    return n / (time.perf_counter() - started)


def _smtp_ceiling(host: str, port: int, n: int, connections: int) -> float:
    """smtplib over `connections` connections at once (one thread each), no database: what
    the server and the machine allow with as many connections as the worker uses."""
    import threading

    message = EmailMessage()
    message["From"] = "bench@example.org"
    message["To"] = "someone@example.org"
    message["Subject"] = "Asamblea el sábado"
    message.set_content("Hola María, nos vemos en Pilsen.\n\n--\nhttps://example.org/m/u/x/")
    data = message.as_bytes()

    def lane() -> None:
        with smtplib.SMTP(host, port) as smtp:
            for i in range(n // connections):
                smtp.sendmail("bench@example.org", [f"p{i}@example.org"], data)

    threads = [threading.Thread(target=lane) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (n // connections * connections) / (time.perf_counter() - started)


def _prepare(people: int, seed: int) -> Path:
    from bench.people import _configure

    database = OUT / f"broadcast-n{people}-s{seed}.sqlite3"
    marker = database.with_suffix(".json")
    fresh = not (marker.exists() and database.exists())
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    _configure(database)
    from io import StringIO

    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    if fresh:
        call_command("demo", people=people, seed=seed, stdout=StringIO())
        marker.write_text(json.dumps({"people": people, "seed": seed}), encoding="utf-8")
    return database


def run(*, people: int = DEFAULT_PEOPLE, seed: int = 1, iterations: int = 1) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _prepare(people, seed)
    import os

    from django.db import connection

    from leaven.core.models import OrgUnit, RoleAssignment, User
    from leaven.core.services import role_grant
    from leaven.messaging import services
    from leaven.messaging.models import Broadcast, OutboxMessage, Segment

    # Start from an empty outbox (the database is reused between runs).
    OutboxMessage.objects.all().delete()
    Broadcast.objects.all().delete()
    Segment.objects.all().delete()

    network = OrgUnit.objects.filter(parent=None).order_by("pk").first()
    assert network is not None
    actor, _ = User.objects.get_or_create(email="bench-organizer@example.org")
    if not RoleAssignment.objects.filter(user=actor, unit=network, role="admin").exists():
        role_grant(actor=None, user=actor, unit=network, role="admin", as_operator=True)

    segment = services.segment_create(
        actor=actor, owner_unit=network, name="Everyone with email",
        conditions={"kind": "consent", "value": "email"},
    )  # fmt: skip
    broadcast = services.broadcast_create(
        actor=actor, segment=segment, channel="email", name="Assembly",
        templates={
            "en": {"subject": "Assembly on Saturday", "body": "Hi {first_name}, see you."},
            "es": {"subject": "Asamblea el sábado", "body": "Hola {first_name}, nos vemos."},
        },
    )  # fmt: skip
    os.environ["LEAVEN_OUTBOX_DRAIN_ON_COMMIT"] = "0"
    started = time.perf_counter()
    queued = services.broadcast_queue(actor=actor, broadcast=broadcast)
    seconds = time.perf_counter() - started
    emit("broadcast.queue", seconds, "s", people=people, recipients=queued)
    emit("broadcast.queue.rate", queued / seconds, "rows/s", recipients=queued)

    # Deliver the first DELIVER rows; the rest are set aside.
    keep = list(OutboxMessage.objects.order_by("pk").values_list("pk", flat=True)[:DELIVER])
    OutboxMessage.objects.exclude(pk__in=keep).update(state=OutboxMessage.State.SUPPRESSED)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    _deliver(keep, pipelining=False)
    # The same messages again, to a server that offers PIPELINING as Postfix and Exim do.
    OutboxMessage.objects.filter(pk__in=keep).update(
        state=OutboxMessage.State.PENDING, attempts=0, sent_at=None, provider_id=""
    )
    _deliver(keep, pipelining=True)


def _deliver(keep: list[int], *, pipelining: bool) -> None:
    from django.conf import settings

    from leaven.messaging import services
    from leaven.messaging.transports import EmailTransport

    server = _Server(pipelining=pipelining)
    port = server.port
    suffix = ".pipelined" if pipelining else ""
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = False
        transport = EmailTransport()
        services.delivery_warm_up()  # as the worker does at start, before it claims rows
        started = time.perf_counter()
        sent = handled = 0
        while True:
            result = services.outbox_process(
                channel="email", limit=500, transport=transport, connections=CONNECTIONS
            )
            sent += result.sent
            handled += result.handled
            if not result.handled:
                break
        seconds = time.perf_counter() - started
        # Every row was handled; a few are suppressed at send time (an address shared with a
        # record that unsubscribed), and every one sent reached the server exactly once.
        received = server.count()
        assert handled == len(keep) and sent == received, (handled, sent, received)
        rate = sent / seconds
        anchor = _smtp_anchor("127.0.0.1", port, len(keep))
        ceiling = _smtp_ceiling("127.0.0.1", port, len(keep), CONNECTIONS)
        emit(
            f"broadcast.deliver{suffix}.ceiling", ceiling, "messages/s",
            connections=CONNECTIONS,
            anchor="smtplib, CONNECTIONS connections, same server, no database",
            ratio=round(rate / ceiling, 3),
        )  # fmt: skip
        emit(
            f"broadcast.deliver{suffix}", rate, "messages/s", messages=sent, rows=handled,
            goal=DELIVER_GOAL, connections=CONNECTIONS, pipelining=pipelining,
            within_goal=rate >= DELIVER_GOAL,
            anchor="smtplib, one connection, same server, no database",
            anchor_value=round(anchor), ratio=round(rate / anchor, 3),
        )  # fmt: skip
    finally:
        server.stop()

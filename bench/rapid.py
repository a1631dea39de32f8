"""Rapid-response fan-out: 100,000 responders in the table, 10,000 of them on call within
the radius of a confirmed checkpoint.

Figures:

- rapid.fanout.enqueue     seconds from the confirmation to the 10,000 alert rows and urgent
                           texts written in the outbox (one transaction, bulk inserts)
- rapid.fanout.total       seconds from the confirmation to all 10,000 texts handed to the
                           transport (a counting transport) through the outbox's real
                           claim/send/record loop; budget 2 s
- rapid.radius_query       ms for the responders within the radius: a bounding box on the
                           indexed (lat, lon) cell centres, a planar distance with a margin
                           and the haversine for the edge band, all in SQL (ids only);
                           anchor: a plain bounding-box query on an indexed table of the same
                           points; ratio goal <= 1.5. `exact` says the result equals a
                           brute-force distance check over the whole table.

The database is generated once with bulk inserts and cached in bench/out/.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from pathlib import Path
from typing import Any

from bench import OUT, emit, percentile

TOTAL = 100_000
IN_RANGE = 10_000
CENTRE = (41.8565, -87.6594)
KM = 4.0  # the checkpoint radius


def _point(rng: random.Random, low_km: float, high_km: float) -> tuple[float, float]:
    distance = math.sqrt(rng.uniform(low_km**2, high_km**2))
    bearing = rng.uniform(0, 2 * math.pi)
    lat = CENTRE[0] + (distance * math.cos(bearing)) / 111.2
    lon = CENTRE[1] + (distance * math.sin(bearing)) / (111.2 * math.cos(math.radians(CENTRE[0])))
    return lat, lon


def _prepare(seed: int) -> Path:
    from bench.people import _configure

    database = OUT / f"rapid-n{TOTAL}-s{seed}.sqlite3"
    marker = database.with_suffix(".json")
    fresh = not (marker.exists() and database.exists())
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    _configure(database)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    if fresh:
        _generate(seed)
        marker.write_text(json.dumps({"responders": TOTAL, "seed": seed}), encoding="utf-8")
    return database


def _generate(seed: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from leaven.core import crypto
    from leaven.core.models import OrgUnit
    from leaven.core.services import unit_create
    from leaven.people.models import Person, Phone
    from leaven.rapid_response.models import Responder
    from leaven.rapid_response.services import cell_centre, cell_of

    rng = random.Random(seed)
    unit = unit_create(
        actor=None, name="Red", kind=OrgUnit.Kind.NETWORK, parent=None, as_operator=True
    )
    now = timezone.now()
    with transaction.atomic():
        people = Person.objects.bulk_create(
            [
                Person(
                    owner_unit=unit,
                    given_name=f"R{i}",
                    sort_name=f"r{i}",
                    language="es" if i % 2 else "en",
                )
                for i in range(TOTAL)
            ],
            batch_size=5000,
        )
        phones = []
        for i, person in enumerate(people):
            number = f"+1312{i:07d}"
            phones.append(
                Phone(
                    person=person,
                    number=number,
                    number_index=crypto.blind_index(number),
                    sms_status=Phone.SMSStatus.OPTED_IN,
                    urgent_alerts=True,
                    is_primary=True,
                    consent_at=now,
                )
            )
        Phone.objects.bulk_create(phones, batch_size=5000)
        responders = []
        for i, person in enumerate(people):
            lat, lon = _point(rng, 0.0, 3.6) if i < IN_RANGE else _point(rng, 4.6, 60.0)
            cell = cell_of(lat, lon)
            c_lat, c_lon = cell_centre(cell)
            responders.append(
                Responder(
                    person=person,
                    owner_unit=unit,
                    skills=["legal_observer"],
                    languages=[person.language],
                    cell=cell,
                    lat=c_lat,
                    lon=c_lon,
                )
            )
        Responder.objects.bulk_create(responders, batch_size=5000)


class CountingTransport:
    """Counts what it is handed, like a provider that accepts everything at once. It keeps
    what it accepted by key, so `lookup` answers honestly (as Twilio's does), and it is
    thread-safe, so the outbox may send over several threads through it."""

    channel = "sms"
    reconciles = True

    def __init__(self) -> None:
        self.count = 0
        self.accepted: dict[str, str] = {}
        self.lock = threading.Lock()

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def fork(self) -> CountingTransport:
        return self

    def send(self, message: Any) -> str:
        with self.lock:
            self.count += 1
            sid = f"SM{self.count:032d}"
            self.accepted[message.key] = sid
        return sid

    def lookup(self, message: Any) -> str | None:
        return self.accepted.get(message.key)


def _radius_ids(cursor: Any, table: str, lat: float, lon: float, km: float) -> list[int]:
    """The same condition the fan-out uses (services.radius_condition): a bounding box on
    the indexed cell centres, a planar distance with a margin, the exact haversine only for
    the thin band at the edge, all in SQL; only the ids come back."""
    from leaven.rapid_response.services import radius_condition

    sql, params = radius_condition(lat=lat, lon=lon, km=km, table=table)
    cursor.execute(f'SELECT id FROM "{table}" WHERE {sql}', params)  # noqa: S608
    return [row[0] for row in cursor.fetchall()]


def _box_ids(cursor: Any, lat: float, lon: float, km: float) -> list[int]:
    from leaven.rapid_response.services import bounding_box

    south, north, west, east = bounding_box(lat, lon, km)
    cursor.execute(
        "SELECT id FROM bench_points WHERE lat BETWEEN %s AND %s AND lon BETWEEN %s AND %s",
        [south, north, west, east],
    )
    return [row[0] for row in cursor.fetchall()]


def run(*, seed: int = 1, iterations: int = 50, people: int | None = None) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _prepare(seed)
    import os

    os.environ["LEAVEN_OUTBOX_DRAIN_ON_COMMIT"] = "0"
    os.environ["LEAVEN_OUTBOX_BATCH"] = "2500"
    from django.db import connection
    from django.urls import reverse
    from django.utils import timezone

    from leaven.core.models import OrgUnit, User
    from leaven.core.services import role_grant
    from leaven.messaging import services as messaging
    from leaven.messaging.models import OutboxMessage
    from leaven.rapid_response import services
    from leaven.rapid_response.models import Alert, Incident, Responder, Ring

    # Start from an empty outbox and no incidents (the database is reused between runs).
    Alert.objects.all().delete()
    Ring.objects.all().delete()
    Incident.objects.all().delete()
    OutboxMessage.objects.all().delete()
    unit = OrgUnit.objects.get(parent=None)
    actor, created = User.objects.get_or_create(email="bench-dispatcher@example.org")
    if created:
        role_grant(actor=None, user=actor, unit=unit, role="dispatcher", as_operator=True)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # The radius query against a plain bounding box on an indexed table of the same points.
    table = Responder._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_points")
        cursor.execute("CREATE TABLE bench_points (id INTEGER PRIMARY KEY, lat REAL, lon REAL)")
        cursor.execute(f"INSERT INTO bench_points SELECT id, lat, lon FROM {table}")  # noqa: S608
        cursor.execute("CREATE INDEX bench_points_latlon ON bench_points (lat, lon)")
        cursor.execute("ANALYZE")
        exact = sorted(_radius_ids(cursor, table, *CENTRE, KM))
        cursor.execute(f"SELECT id, lat, lon FROM {table}")  # noqa: S608
        brute = sorted(
            row[0]
            for row in cursor.fetchall()
            if services.haversine_km(CENTRE[0], CENTRE[1], row[1], row[2]) <= KM
        )
        ours, anchor = [], []
        for _ in range(iterations):
            started = time.perf_counter()
            _radius_ids(cursor, table, *CENTRE, KM)
            ours.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            _box_ids(cursor, *CENTRE, KM)
            anchor.append((time.perf_counter() - started) * 1000)
    median, median_anchor = percentile(ours, 50), percentile(anchor, 50)
    emit(
        "rapid.radius_query",
        median,
        "ms",
        anchor=round(median_anchor, 3),
        ratio=round(median / median_anchor, 3),
        found=len(exact),
        exact=exact == brute,
        responders=TOTAL,
    )

    now = timezone.now()
    data = services.ReportInput(type="checkpoint", seen_at=now, lat=CENTRE[0], lon=CENTRE[1])
    incident = services.report_submit(actor=None, unit=unit, data=data)
    transport = CountingTransport()
    reverse("rapid_response:alert_link", args=["warm"])  # a running worker has its URLs loaded
    started = time.perf_counter()
    services.incident_set_state(actor=actor, incident=incident, state="confirmed")
    enqueued = time.perf_counter() - started
    while transport.count < IN_RANGE:
        result = messaging.outbox_process(channel="sms", transport=transport)
        if not result.handled:
            break
    total = time.perf_counter() - started
    alerted = Alert.objects.filter(incident=incident).count()
    emit("rapid.fanout.enqueue", enqueued, "s", alerted=alerted)
    emit(
        "rapid.fanout.total",
        total,
        "s",
        budget=2.0,
        handed=transport.count,
        alerted=alerted,
        responders=TOTAL,
    )

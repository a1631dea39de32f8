"""People at scale: generate the demo organization with N people (1,000,000 by default) into a
SQLite database, then time the people pages and a 3-condition count.

Figures (p50 and p95 over `iterations` runs each, after a warm-up):

- people.generate      people written per second by `leaven demo` (all rows: see .rows)
- people.list          GET /people/ as the network admin (full request, django.test.Client)
- people.list_filtered GET /people/?stage=volunteer&language=es as the network admin
- people.detail        GET /people/<random id>/ as the network admin
- people.count.*       person_count(unit, tag, stage) as a committee coordinator and as the
                       network admin

Budgets (DESIGN.md): list and person page p95 < 50 ms, count p95 < 100 ms.

The database is cached in bench/out/, keyed by N and seed, and rebuilt when the generator
changes. Keys are fixed bench keys, so a cached database stays readable.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import OUT, emit, percentile

DEFAULT_PEOPLE = 1_000_000
LIST_BUDGET_MS = 50.0
COUNT_BUDGET_MS = 100.0
WARMUP = 5


def _bench_key(label: str) -> str:
    digest = hashlib.sha256(f"leaven-bench:{label}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _configure(database: Path) -> None:
    """Point Django at the bench database with fixed, bench-only keys, then set it up."""
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "leaven.settings"
    os.environ["SECRET_KEY"] = _bench_key("secret")
    os.environ["LEAVEN_ENCRYPTION_KEYS"] = f"bench:{_bench_key('encryption')}"
    os.environ["LEAVEN_BLIND_INDEX_KEY"] = _bench_key("blind-index")
    os.environ["LEAVEN_ENV_FILE"] = str(OUT / "no.env")  # never the project's .env
    os.environ["DEBUG"] = "0"
    os.environ["LEAVEN_HTTPS"] = "0"
    os.environ["LEAVEN_TESTING"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ["LEAVEN_STATIC_ROOT"] = str(OUT / "static")  # manifest storage, as deployed
    os.environ.setdefault("LEAVEN_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _generator_version() -> str:
    source = Path(__file__).resolve().parent.parent / "leaven" / "people" / "demo.py"
    return hashlib.sha256(source.read_bytes()).hexdigest()[:16]


def _executemany_anchor(rows: int = 200_000) -> float:
    """Rows per second that plain `executemany` writes into one 19-column table without
    secondary indexes, in WAL mode, 20,000 rows per transaction: the ceiling for bulk writes
    on this machine."""
    path = OUT / "anchor.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    columns = [f"c{i}" for i in range(19)]
    db.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, {', '.join(columns)})")
    row = (
        5, 17, "María", "Muñoz", "", "", "es", "supporter", '{"registered_voter": false}', "",
        "Door knock", "munoz\x1fmaria", "maria", 1, 0, "2024-01-01 10:00:00",
        "2024-01-02 10:00:00", None, "x",
    )  # fmt: skip
    sql = f"INSERT INTO t (id, {', '.join(columns)}) VALUES (?{', ?' * 19})"
    started = time.perf_counter()
    for start in range(0, rows, 20_000):
        db.execute("BEGIN")
        db.executemany(sql, ((i, *row) for i in range(start + 1, start + 20_001)))
        db.execute("COMMIT")
    seconds = time.perf_counter() - started
    db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return rows / seconds


def _build(database: Path, marker: Path, people: int, seed: int) -> dict[str, Any]:
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection

    from leaven.core.models import AuditEvent

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    call_command("demo", people=people, seed=seed, stdout=StringIO())
    seconds = time.perf_counter() - started
    AuditEvent.objects.get(verb="demo.loaded")  # the load finished
    with connection.cursor() as cursor:
        rows = 0
        for table in (
            "people_person", "people_household", "people_personunit", "people_stagechange",
            "people_email", "people_phone", "people_tagging", "people_relationship",
            "people_affiliation", "people_note",
        ):  # fmt: skip
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            rows += int(cursor.fetchone()[0])
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    info = {
        "people": people,
        "seed": seed,
        "seconds": seconds,
        "rows": rows,
        "version": _generator_version(),
    }
    marker.write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def _timed(
    label: str,
    call: Callable[[], Any],
    iterations: int,
    budget: float,
    **extra: Any,
) -> None:
    for _ in range(WARMUP):
        call()
    samples: list[float] = []
    for _ in range(iterations):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    load = round(os.getloadavg()[0], 2)  # other work on the machine inflates p95
    emit(f"{label}.p50", p50, "ms", iterations=iterations, load=load, **extra)
    emit(f"{label}.p95", p95, "ms", budget=budget, within_budget=p95 < budget, load=load, **extra)


def run(*, people: int = DEFAULT_PEOPLE, seed: int = 1, iterations: int = 200) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    database = OUT / f"people-n{people}-s{seed}.sqlite3"
    marker = database.with_suffix(".json")
    info: dict[str, Any] | None = None
    if marker.exists() and database.exists():
        info = json.loads(marker.read_text(encoding="utf-8"))
        if info.get("version") != _generator_version():
            info = None
    if info is None:
        marker.unlink(missing_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    _configure(database)
    from django.core.management import call_command

    cached = info is not None
    call_command("collectstatic", interactive=False, verbosity=0)
    if info is None:
        info = _build(database, marker, people, seed)
    else:
        call_command("migrate", interactive=False, verbosity=0)

    rate = info["people"] / info["seconds"]
    emit(
        "people.generate",
        rate,
        "people/s",
        people=info["people"],
        seconds=round(info["seconds"], 1),
        cached=cached,
    )
    rows_rate = info["rows"] / info["seconds"]
    if cached:  # an anchor must be measured in the same run as the figure
        emit("people.generate.rows", rows_rate, "rows/s", rows=info["rows"], cached=True)
    else:
        anchor = _executemany_anchor()
        emit(
            "people.generate.rows",
            rows_rate,
            "rows/s",
            rows=info["rows"],
            anchor="sqlite3 executemany, one table without secondary indexes",
            anchor_value=round(anchor),
            ratio=round(rows_rate / anchor, 3),
            cached=False,
        )
    _measure(people=info["people"], seed=seed, iterations=iterations)


def _measure(*, people: int, seed: int, iterations: int) -> None:
    from django.db.models import Max, Min
    from django.test import Client

    from leaven.core import access
    from leaven.core.models import OrgUnit, RoleAssignment, User
    from leaven.people.demo import DEMO_EMAIL_DOMAIN
    from leaven.people.models import Person, Tag
    from leaven.people.selectors import PersonFilters, person_count

    admin = User.objects.get(email=f"admin@{DEMO_EMAIL_DOMAIN}")
    coordinator = User.objects.get(email=f"coordinator@{DEMO_EMAIL_DOMAIN}")
    committee = RoleAssignment.objects.get(user=coordinator, role="coordinator").unit
    region = committee.parent
    assert region is not None
    tag = Tag.objects.get(name="Know Your Rights 2024")
    bounds = Person.objects.aggregate(low=Min("pk"), high=Max("pk"))
    rng = random.Random(seed)
    sizes = {"people": people}

    client = Client()
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")

    def get(path: str) -> Callable[[], None]:
        def call() -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        return call

    def person_page() -> None:
        pk = rng.randint(bounds["low"], bounds["high"])
        response = client.get(f"/people/{pk}/")
        assert response.status_code == 200, (pk, response.status_code)

    _timed("people.list", get("/people/"), iterations, LIST_BUDGET_MS, **sizes)
    _timed(
        "people.list_filtered",
        get("/people/?stage=volunteer&language=es"),
        iterations,
        LIST_BUDGET_MS,
        query="stage=volunteer&language=es",
        **sizes,
    )
    _timed("people.detail", person_page, iterations, LIST_BUDGET_MS, **sizes)

    def count_as(user: User, unit: OrgUnit) -> Callable[[], int]:
        filters = PersonFilters(unit=unit.pk, tag=tag.pk, stage="volunteer")

        def call() -> int:
            access.clear_access_cache(user)  # as in a fresh request
            return person_count(actor=user, filters=filters)

        return call

    for label, user, unit in (
        ("people.count.coordinator", coordinator, committee),
        ("people.count.admin", admin, region),
    ):
        count = count_as(user, unit)
        emit(
            f"{label}.result",
            count(),
            "people",
            org_unit=unit.name,
            tag=tag.name,
            stage="volunteer",
        )
        _timed(label, count, iterations, COUNT_BUDGET_MS, org_unit=unit.name, **sizes)

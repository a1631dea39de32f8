"""The Action Network-compatible API at scale: a client lists every person, 25 per page, over
100,000 people (the demo organization from bench/people.py's generator), as a key of the
network's root unit.

Figures:

- api.people.walk.records     people per second over the whole walk (every page, in order)
- api.people.page.p50 / .p95  per-page latency (full request through django.test.Client),
                              with the p95 of an in-process empty Django view measured in the
                              same run as the anchor
- api.people.walk.cold        the first walk, when each person's Action Network identifier
                              is created as it is first exposed

The database is cached in bench/out/, keyed by N and seed, and rebuilt when the generator
changes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bench import OUT, emit, percentile

DEFAULT_PEOPLE = 100_000


def _walk(client: Any, token: str) -> tuple[int, float, list[float]]:
    """List every page; (records, seconds, per-page milliseconds)."""
    records, page, pages = 0, 1, []
    started = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        response = client.get(f"/api/v2/people?page={page}", HTTP_OSDI_API_TOKEN=token)
        pages.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
        embedded = json.loads(response.content)["_embedded"]["osdi:people"]
        if not embedded:
            break
        records += len(embedded)
        page += 1
    return records, time.perf_counter() - started, pages[:-1]


def run(*, people: int = DEFAULT_PEOPLE, seed: int = 1, iterations: int = 200) -> None:
    from bench.people import _build, _configure, _generator_version

    OUT.mkdir(parents=True, exist_ok=True)
    database = OUT / f"api-n{people}-s{seed}.sqlite3"
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

    call_command("collectstatic", interactive=False, verbosity=0)
    if info is None:
        info = _build(database, marker, people, seed)
    else:
        call_command("migrate", interactive=False, verbosity=0)
    _measure(people=info["people"], iterations=iterations)


def _measure(*, people: int, iterations: int) -> None:
    from django.http import HttpRequest, HttpResponse
    from django.test import Client
    from django.urls import clear_url_caches, path

    import leaven.urls
    from leaven.api.models import ApiIdentifier, ApiKey
    from leaven.api.services import apikey_create
    from leaven.core.models import OrgUnit
    from leaven.people.models import Person

    def empty(request: HttpRequest) -> HttpResponse:
        return HttpResponse(b"")

    from django.conf import settings

    settings.LEAVEN_API_RATE_LIMIT = 10**9  # the walk, not the limiter, is measured
    leaven.urls.urlpatterns.append(path("bench-empty", empty))
    clear_url_caches()
    client = Client()
    anchor = []
    for _ in range(max(iterations, 50)):
        t0 = time.perf_counter()
        assert client.get("/bench-empty").status_code == 200
        anchor.append((time.perf_counter() - t0) * 1000)
    anchor_p95 = percentile(anchor, 95)

    root = OrgUnit.objects.get(parent=None)
    ApiKey.objects.filter(name="bench").delete()
    _key, token = apikey_create(actor=None, unit=root, name="bench", as_operator=True)
    total = Person.objects.count()
    ApiIdentifier.objects.all().delete()  # the first walk creates them, every run

    records, seconds, pages = _walk(client, token)
    assert records == total, (records, total)
    emit("api.people.walk.cold", records / seconds, "records/s", people=total, pages=len(pages))
    records, seconds, pages = _walk(client, token)
    emit("api.people.walk.records", records / seconds, "records/s", people=total, pages=len(pages))
    emit("api.people.page.p50", percentile(pages, 50), "ms", people=total)
    p95 = percentile(pages, 95)
    emit(
        "api.people.page.p95",
        p95,
        "ms",
        people=total,
        anchor="in-process empty Django view, p95",
        anchor_value=round(anchor_p95, 3),
        ratio=round(p95 / anchor_p95, 1),
    )

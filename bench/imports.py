"""Voter-file import: a synthetic North Carolina voter file (bench/ncvoter.py) loaded into
SQLite through the real pipeline (upload, sniff, hash, mapping, validation, normalization,
households, precinct codes, people, encrypted phones, voter records, audit), end to end.

Anchor, measured in the same run on the same file: the `sqlite3` shell's plain `.import`
into one table (tab mode, quotes handled). Each import runs in a child process; its peak
memory (ru_maxrss) is printed for two file sizes, to show memory does not grow with the file.

With LEAVEN_BENCH_PG set to a PostgreSQL server's URL (postgres://user@host:port/dbname; the
database is dropped and made anew), the same runs against PostgreSQL, whose anchor is `COPY`
of the same file into one table of 67 text columns.

Figures:
- import.<db>.rows_per_s.n<N>   rows per second through the pipeline, with anchor and ratio
- import.<db>.peak_rss_mb.n<N>  peak resident memory of the importing process
- import.sqlite.floor_rows_per_s.n<N>  the write floor: the rows the pipeline stored, copied
  into an empty database of the same schema with `executemany` in batches of the same size,
  the indexes the loader keeps in place and the others rebuilt after, as the loader does.
  No reading, checking or matching: what writing these rows costs at the least, beside the
  same anchor, so the pipeline's own work is the difference between the two.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import OUT, emit

DEFAULT_ROWS = 1_000_000


def _file(rows: int, seed: int) -> Path:
    from bench import ncvoter

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"ncvoter-n{rows}-s{seed}.txt"
    if not path.exists():
        temp = path.with_suffix(".tmp")
        ncvoter.write(temp, rows, seed)
        temp.rename(path)
    return path


def _fresh(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _anchor(path: Path, rows: int) -> float:
    """Rows per second of `sqlite3 db '.mode tabs' '.import FILE t'`."""
    database = OUT / "import-anchor.sqlite3"
    _fresh(database)
    shell = shutil.which("sqlite3")
    if shell is None:
        raise SystemExit("install the sqlite3 shell (apt-get install sqlite3) for the anchor")
    started = time.perf_counter()
    subprocess.run(  # noqa: S603
        [shell, str(database), "-cmd", ".mode tabs", f".import {path} t"], check=True
    )
    seconds = time.perf_counter() - started
    _fresh(database)
    return rows / seconds


def _setup(database: str) -> None:
    """Django against the bench database (SQLite path or PostgreSQL URL), bench-only keys."""
    from bench.people import _bench_key

    os.environ["DATABASE_URL"] = (
        database if database.startswith("postgres") else f"sqlite:///{database}"
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "leaven.settings"
    os.environ["SECRET_KEY"] = _bench_key("secret")
    os.environ["LEAVEN_ENCRYPTION_KEYS"] = f"bench:{_bench_key('encryption')}"
    os.environ["LEAVEN_BLIND_INDEX_KEY"] = _bench_key("blind-index")
    os.environ["LEAVEN_ENV_FILE"] = str(OUT / "no.env")
    os.environ["DEBUG"] = "0"
    os.environ["LEAVEN_HTTPS"] = "0"
    os.environ["LEAVEN_TESTING"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ["LEAVEN_STATIC_ROOT"] = str(OUT / "static")
    os.environ.setdefault("LEAVEN_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _pg_fresh(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')


def _pg_anchor(path: Path, rows: int, url: str) -> float:
    """Rows per second of COPY of the file into one table of 67 text columns."""
    import psycopg

    from bench.ncvoter import COLUMNS

    _pg_fresh(url)
    with psycopg.connect(url) as db:
        columns = ", ".join(f'"{c}" text' for c in COLUMNS)
        db.execute(f"CREATE TABLE t ({columns})")
        started = time.perf_counter()
        with (
            db.cursor() as cursor,
            cursor.copy("COPY t FROM STDIN (FORMAT csv, DELIMITER E'\\t', HEADER true)") as copy,
            path.open("rb") as source,
        ):
            for chunk in iter(lambda: source.read(1024 * 1024), b""):
                copy.write(chunk)
        db.commit()
        seconds = time.perf_counter() - started
    _pg_fresh(url)
    return rows / seconds


def _child(path: Path, database: str) -> None:
    """In the child: set up an empty database, then time the whole import."""
    _setup(database)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from leaven.core.models import OrgUnit
    from leaven.core.services import unit_create
    from leaven.imports import services
    from leaven.imports.models import ImportJob

    network = unit_create(
        actor=None, name="Bench", kind=OrgUnit.Kind.NETWORK, parent=None, as_operator=True
    )
    unit = unit_create(
        actor=None, name="Durham", kind=OrgUnit.Kind.COMMITTEE, parent=network, as_operator=True
    )
    started = time.perf_counter()
    with path.open("rb") as stream:
        job = services.job_upload(
            actor=services.OPERATOR, owner_unit=unit, file_name=path.name, stream=stream
        )
    resolved = services.resolve_mapping(job=job, preset="ncvoter")
    services.job_set_mapping(
        actor=services.OPERATOR,
        job=job,
        columns=resolved["columns"],
        constants=resolved["constants"],
    )
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
    job = services.job_run(job_id=job.pk)
    seconds = time.perf_counter() - started
    result = {
        "seconds": seconds,
        "state": job.state,
        "read": job.rows_read,
        "created": job.rows_created,
        "rejected": job.rows_rejected,
        "batch": services.BATCH_ROWS,
        "rebuilt": [name for _table, name, _sql in services._bulk_statements()],
    }
    sys.stdout.write(json.dumps(result) + "\n")


def _pipeline(path: Path, url: str = "") -> tuple[dict[str, Any], float]:
    database = OUT / "import-bench.sqlite3"
    _fresh(database)
    if url:
        _pg_fresh(url)
    env = {**os.environ, "LEAVEN_IMPORT_DIR": str(OUT / "import-files")}
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "bench.imports", "--child", str(path), url or str(database)],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    output = proc.stdout.read().decode()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"import child failed ({proc.returncode})")
    shutil.rmtree(OUT / "import-files", ignore_errors=True)
    result = json.loads(output.strip().splitlines()[-1])
    if not url:
        result["floor"] = _floor(database, result["rebuilt"], result["batch"])
    _fresh(database)
    return result, usage.ru_maxrss / 1024


# The tables an import writes, parents first, with the column that ties a row to its person
# (a household is tied to the people by its id's place in the load).
FLOOR_TABLES = (
    ("people_household", ""),
    ("people_person", "id"),
    ("people_personunit", "person_id"),
    ("geo_voterrecord", "person_id"),
    ("people_email", "person_id"),
    ("people_phone", "person_id"),
)


def _floor(source_path: Path, rebuilt: list[str], batch: int) -> tuple[float, float]:
    """Seconds to write the rows an import stored into an empty database of the same schema:
    `executemany`, one transaction per `batch` people, the loader's settings, the indexes
    it keeps in place and the `rebuilt` ones created after, each in one sorted pass.
    Returns (seconds writing the rows, seconds building the indexes after)."""
    import sqlite3

    target_path = OUT / "import-floor.sqlite3"
    _fresh(target_path)
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(target_path, isolation_level=None)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "cache_size=-65536",
        "temp_store=MEMORY",
        "wal_autocheckpoint=50000",
        "foreign_keys=OFF",
    ):
        target.execute(f"PRAGMA {pragma}")
    schema = source.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
        "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index'"
    ).fetchall()
    later = []
    for kind, name, sql in schema:
        if kind == "index" and name in rebuilt:
            later.append(sql)
        else:
            target.execute(sql)
    columns = {
        table: [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
        for table, _tie in FLOOR_TABLES
    }
    people = source.execute("SELECT COUNT(*), MAX(id) FROM people_person").fetchone()
    top_household = source.execute("SELECT MAX(id) FROM people_household").fetchone()[0] or 0
    last_person = int(people[1] or 0)
    writing = 0.0
    for start in range(0, last_person, batch):
        low, high = start + 1, start + batch + 1
        rows = {}
        for table, tie in FLOOR_TABLES:
            if tie:
                bounds = (low, high)
            else:  # households in the order the load made them, in step with the people
                bounds = (low * top_household // last_person, high * top_household // last_person)
            rows[table] = source.execute(
                f"SELECT * FROM {table} WHERE {tie or 'id'} >= ? AND {tie or 'id'} < ?",  # noqa: S608
                bounds,
            ).fetchall()
        started = time.perf_counter()
        target.execute("BEGIN IMMEDIATE")
        for table, _tie in FLOOR_TABLES:
            marks = ", ".join("?" * len(columns[table]))
            target.executemany(f"INSERT INTO {table} VALUES ({marks})", rows[table])  # noqa: S608
        target.execute("COMMIT")
        writing += time.perf_counter() - started
    started = time.perf_counter()
    target.execute("PRAGMA temp_store=FILE")
    for sql in later:
        target.execute(sql)
    building = time.perf_counter() - started
    source.close()
    target.close()
    _fresh(target_path)
    return writing, building


def run(people: int = DEFAULT_ROWS, seed: int = 1, iterations: int = 1) -> None:
    sizes = sorted({max(1000, people // 4), people})
    pg = os.environ.get("LEAVEN_BENCH_PG", "")
    targets = [("sqlite", "")] + ([("postgresql", pg)] if pg else [])
    for (label, url), rows in ((t, n) for t in targets for n in sizes):
        path = _file(rows, seed)
        anchor = _pg_anchor(path, rows, url) if url else _anchor(path, rows)
        result, peak_mb = _pipeline(path, url)
        rate = result["read"] / result["seconds"]
        emit(
            f"import.{label}.rows_per_s.n{rows}",
            rate,
            "rows/s",
            anchor=round(anchor, 1),
            ratio=round(rate / anchor, 4),
            seconds=round(result["seconds"], 2),
            created=result["created"],
            rejected=result["rejected"],
        )
        emit(f"import.{label}.peak_rss_mb.n{rows}", peak_mb, "MB")
        if "floor" in result:
            writing, building = result["floor"]
            floor = result["created"] / (writing + building)
            emit(
                f"import.{label}.floor_rows_per_s.n{rows}",
                floor,
                "rows/s",
                anchor=round(anchor, 1),
                ratio=round(floor / anchor, 4),
                seconds=round(writing + building, 2),
                writing=round(writing, 2),
                indexes_after=round(building, 2),
            )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(Path(sys.argv[2]), sys.argv[3])
    else:
        run(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS)

"""For tests that run Leaven in a process of its own (a worker killed with SIGKILL, a
command started again): a database of the process's own on the engine the suite runs on,
an environment that carries none of the test run's settings, and a way to run Python code
in it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings as django_settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]


def own_database(tmp_path: Path, name: str) -> tuple[str, Callable[[], None]]:
    """(DATABASE_URL, drop): a SQLite file under tmp_path, or a new PostgreSQL database on
    the suite's server that `drop` removes."""
    if connection.vendor != "postgresql":
        return f"sqlite:///{tmp_path / f'{name}.sqlite3'}", lambda: None
    import psycopg

    db = django_settings.DATABASES["default"]
    database = f"leaven_{name}_{uuid.uuid4().hex[:8]}"
    dsn = f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')

    def drop() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{database}", drop


def child_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a Leaven process on `database_url`: tasks run at once, nothing
    drains the outbox on commit, no `.env` file is read, plus the `settings` given."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_", "LEAVEN_", "EMAIL_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="leaven.settings",
        DATABASE_URL=database_url,
        LEAVEN_TESTING="1",
        LEAVEN_ENV_FILE=str(ROOT / "no-such.env"),
        LEAVEN_TASKS_BACKEND="django_tasks.backends.immediate.ImmediateBackend",
        LEAVEN_OUTBOX_DRAIN_ON_COMMIT="0",
        LEAVEN_PUBLIC_URL="http://testserver",
        PYTHONPATH=str(ROOT),
    )
    env.update(settings)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python ARGS` in the project folder, its output captured."""
    return subprocess.run(  # noqa: S603
        [sys.executable, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def python(code: str, env: dict[str, str]) -> str:
    """Run `code` in a new process; the last line it printed (it must succeed)."""
    done = run(["-c", code], env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def migrate(env: dict[str, str]) -> None:
    done = run(["manage.py", "migrate", "-v0"], env)
    assert done.returncode == 0, done.stderr[-3000:]

"""`leaven import`: a voter file from the command line, a refused encoding, and an import
killed mid-run (SIGKILL) then resumed: every row lands exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bench import ncvoter
from leaven.geo.models import VoterRecord
from leaven.imports.models import ImportJob
from leaven.people.models import Person

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.django_db
def test_import_command_loads_a_voter_file(tree, tmp_path, capsys):
    path = ncvoter.write(tmp_path / "nc.txt", 300)
    call_command("import", str(path), unit=tree.committee_a.slug, mapping="ncvoter")
    job = ImportJob.objects.get()
    assert job.state == ImportJob.State.DONE
    assert job.rows_created + job.rows_rejected == 300
    assert VoterRecord.objects.count() == job.rows_created
    assert "done" in capsys.readouterr().out


@pytest.mark.django_db
def test_import_command_refuses_unconfirmed_windows_1252(tree, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes("given_name,family_name\nJosé,Muñoz\n".encode("cp1252"))
    with pytest.raises(CommandError, match="--encoding cp1252"):
        call_command("import", str(path), unit=tree.committee_a.slug, mapping="generic")
    assert not Person.objects.exists()
    path.write_bytes("given_name,family_name\nJosé,Peña\n".encode("cp1252"))
    call_command(
        "import", str(path), unit=tree.committee_a.slug, mapping="generic", encoding="cp1252"
    )
    assert Person.objects.get().family_name == "Peña"


def test_help_through_the_leaven_command():
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "leaven.cli", "import", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "LEAVEN_TESTING": "1"},
        check=True,
    )
    assert "--mapping" in result.stdout and "--resume" in result.stdout


def _env(tmp_path: Path, bulk: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'crash.sqlite3'}",
        LEAVEN_TESTING="1",
        LEAVEN_IMPORT_DIR=str(tmp_path / "files"),
        LEAVEN_IMPORT_BATCH_ROWS="100",
        LEAVEN_ENV_FILE=str(tmp_path / "no.env"),
        # A bulk load (secondary indexes dropped during the run) from this many rows up.
        LEAVEN_IMPORT_BULK_ROWS="1000" if bulk else "1000000000",
        # The bulk variant also reads and cleans in a second process (a large import).
        LEAVEN_IMPORT_WORKER_ROWS="1000" if bulk else "1000000000",
    )
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "leaven.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.mark.parametrize("bulk", [False, True], ids=["indexed", "bulk"])
def test_killed_import_resumes_without_doubling(tmp_path, bulk):
    """The import process is killed with SIGKILL after its first committed batch; the
    resumed import continues after the last committed row and every row is there once.
    A bulk load killed without its secondary indexes gets them back when it resumes; its
    reading process ends with it."""
    env = _env(tmp_path, bulk)
    _manage(env, "migrate", "-v0")
    _manage(
        env,
        "shell",
        "-c",
        "from leaven.core.services import unit_create; from leaven.core.models import OrgUnit;"
        "n = unit_create(actor=None, name='Net', kind=OrgUnit.Kind.NETWORK, parent=None,"
        " as_operator=True);"
        "unit_create(actor=None, name='Durham', kind=OrgUnit.Kind.COMMITTEE, parent=n,"
        " as_operator=True)",
    )
    rows = 3000
    path = ncvoter.write(tmp_path / "nc.txt", rows)
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "leaven.cli", "import", str(path), "--unit", "durham",
         "--mapping", "ncvoter"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    database = sqlite3.connect(tmp_path / "crash.sqlite3", timeout=30)
    checkpoint = 0
    deadline = time.monotonic() + 120
    while checkpoint == 0 and time.monotonic() < deadline and proc.poll() is None:
        row = database.execute("SELECT max(checkpoint_row) FROM imports_importjob").fetchone()
        checkpoint = row[0] or 0 if row else 0
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = database.execute(
        "SELECT id, checkpoint_row, state FROM imports_importjob"
    ).fetchone()
    job_id, committed, state = killed_at
    assert 0 < committed < rows and state == "running"
    people = database.execute("SELECT count(*) FROM people_person").fetchone()[0]
    voters = database.execute("SELECT count(*) FROM geo_voterrecord").fetchone()[0]
    assert people == voters == committed  # no half-written batch
    indexes = {
        row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type='index'")
    }
    assert ("person_sort_idx" in indexes) is not bulk
    output = _manage(env, "import", "--resume", str(job_id))
    assert "done" in output
    counts = database.execute(
        "SELECT count(*), count(DISTINCT registration_number) FROM geo_voterrecord"
    ).fetchone()
    assert counts == (rows, rows)
    assert database.execute("SELECT count(*) FROM people_person").fetchone()[0] == rows
    links = database.execute("SELECT count(*) FROM people_personunit").fetchone()[0]
    assert links == rows
    indexes = {
        row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type='index'")
    }
    assert {"person_sort_idx", "voter_precinct_idx", "personunit_unit_idx"} <= indexes
    assert database.execute("PRAGMA foreign_key_check").fetchall() == []
    database.close()


def test_generated_voter_file_has_the_published_layout(tmp_path):
    """The benchmark's synthetic file has the 67 columns of the published layout, in order,
    every field quoted and tab-separated."""
    layout = ROOT / "docs" / "formats" / "ncvoter-layout.txt"
    lines = layout.read_text(encoding="utf-8").splitlines()
    start = lines.index("Columns, in order:") + 1
    published = [line.strip() for line in lines[start:] if line.strip()]
    assert list(ncvoter.COLUMNS) == published and len(published) == 67
    path = ncvoter.write(tmp_path / "nc.txt", 50)
    rows = path.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 51
    assert all(len(row.split("\t")) == 67 for row in rows)
    assert all(field.startswith('"') and field.endswith('"') for field in rows[1].split("\t"))

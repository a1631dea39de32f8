"""Reading and cleaning in a second process gives exactly the batches the writing process
would make itself, raises reading errors in the caller after the batches before them, and
leaves no process behind."""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
from pathlib import Path
from unittest import mock

import pytest

from leaven.core.crypto import decrypt
from leaven.imports import pipeline, worker
from leaven.imports.tests.conftest import nc_file, nc_row

# Leaven runs on Linux, where processes fork; the tests below need that.
assert worker.can_fork()

ROWS = [
    nc_row(voter_reg_num=str(n), ncid=f"EH{n}", first_name=given, last_name=family,
           res_street_address=f"{n % 7} OAK ST", res_city_desc="DURHAM", state_cd="NC",
           zip_code="27701", full_phone_number=phone, registr_dt="03/15/2004",
           birth_year="1980", precinct_abbrv="DU01", party_cd="DEM")
    for n, (given, family, phone) in enumerate(
        [("JOSÉ", "MUÑOZ", "9195550123"), ("ANA", "PEÑA", ""), ("THẢO", "NGUYỄN", "919555")] * 9
    )
]  # fmt: skip
ROWS[4] = ROWS[4][:-1]  # a ragged row
ROWS[7][4] = "MUÃ±OZ"  # mojibake in the family name (last_name)


def _file(tmp_path: Path, extra: bytes = b"") -> Path:
    path = tmp_path / "nc.txt"
    path.write_bytes(nc_file(ROWS) + extra)
    return path


def _cleaner() -> pipeline.Cleaner:
    from bench.ncvoter import COLUMNS

    preset = pipeline.PRESETS["ncvoter"]
    header = list(COLUMNS)
    return pipeline.Cleaner(header, pipeline.preset_columns(preset, header), dict(preset.constants))


def _read(path: Path, *, parallel: bool, **options: object) -> list[pipeline.Batch]:
    return list(
        worker.batches(
            path,
            encoding="utf-8",
            delimiter="\t",
            cleaner=_cleaner(),
            size=5,
            parallel=parallel,
            **options,  # type: ignore[arg-type]
        )
    )


def _comparable(batches: list[pipeline.Batch]) -> list[object]:
    """The batches with sealed values opened (each sealing has its own random nonce)."""
    out: list[object] = []
    for batch in batches:
        ready = [
            r._replace(
                email_sealed=decrypt(r.email_sealed) if r.email_sealed else "",
                phone_sealed=decrypt(r.phone_sealed) if r.phone_sealed else "",
            )
            for r in batch.ready
        ]
        problems = [([(p.row, p.column, p.reason) for p in row], f) for row, f in batch.problems]
        out.append((batch.first, batch.last, ready, problems))
    return out


@pytest.mark.django_db
def test_forked_batches_equal_the_writing_process_own(tmp_path):
    """Rows, problems, row numbers, sort keys, blind indexes and sealed values are the same
    read in a second process as read in place; sealed values open to the clean value."""
    path = _file(tmp_path)
    inline = _read(path, parallel=False)
    children: list[int] = []
    start = multiprocessing.process.BaseProcess.start

    def counted(process):
        start(process)
        children.append(process.pid)

    with mock.patch.object(multiprocessing.process.BaseProcess, "start", counted):
        forked = _read(path, parallel=True)
    assert len(children) == 1  # really read in a second process
    assert _comparable(forked) == _comparable(inline)
    assert [b.first for b in inline] == [1, 6, 11, 16, 21, 26]
    rejected = {p.row for b in inline for row, _f in b.problems for p in row}
    assert {5, 8} <= rejected
    first = inline[0].ready[0]
    assert isinstance(first, pipeline.Ready)
    assert (first.sort_name, first.phone) == ("munoz\x1fjose", "+19195550123")
    assert decrypt(first.phone_sealed) == "+19195550123"


@pytest.mark.django_db
def test_forked_reading_starts_after_the_checkpoint(tmp_path):
    """A resume reads only the rows after the last committed one, in either process."""
    path = _file(tmp_path)
    forked = _read(path, parallel=True, start_after=20)
    assert [(b.first, b.last) for b in forked] == [(21, 25), (26, 27)]
    assert _comparable(forked) == _comparable(_read(path, parallel=False, start_after=20))


@pytest.mark.django_db
def test_a_reading_error_is_raised_in_the_caller_after_the_batches_before_it(tmp_path):
    """A byte the encoding cannot read, in the second process, reaches the caller as the
    same UnicodeDecodeError, after the batches read before it."""
    path = _file(tmp_path, b"Bad\xff\tRow\r\n" * 2000)
    seen: list[int] = []
    with pytest.raises(UnicodeDecodeError):
        for batch in worker.batches(
            path, encoding="utf-8", delimiter="\t", cleaner=_cleaner(), size=5, parallel=True
        ):
            seen.append(batch.last)
    assert not multiprocessing.active_children()


@pytest.mark.django_db
def test_stopping_early_ends_the_second_process(tmp_path):
    """A caller that stops after one batch (a cancel) leaves no process running."""
    path = _file(tmp_path)
    batches = worker.batches(
        path, encoding="utf-8", delimiter="\t", cleaner=_cleaner(), size=5, parallel=True
    )
    first = next(batches)
    assert first.first == 1
    assert multiprocessing.active_children()
    batches.close()
    assert not multiprocessing.active_children()


@pytest.mark.django_db
def test_a_checking_pass_sends_only_problems(tmp_path):
    """prepare=False (the all-or-nothing check) finds the same problems and prepares no row."""
    path = _file(tmp_path)
    checked = _read(path, parallel=True, prepare=False)
    assert all(not b.ready for b in checked)
    assert [b.problems for b in checked] == [b.problems for b in _read(path, parallel=False)]

"""Reading and cleaning a file, in the writing process or in a second process beside it.

A large import reads, checks and prepares its rows (sort keys, blind indexes, sealed contact
values) in a child process while the parent matches and writes the batch before: the two
halves of the work run on two cores at once. The child sends each batch as one pickled list
of plain tuples through a pipe; a pipe holds little, so the child is at most a batch ahead
and memory stays flat. The child never touches the database. A small import (or a platform
without `fork`) does the same in the writing process.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
from collections.abc import Generator, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from leaven.core.crypto import keyring
from leaven.imports import pipeline

# An import with at least this many rows left reads and cleans in a second process.
WORKER_ROWS = int(os.environ.get("LEAVEN_IMPORT_WORKER_ROWS", "20000"))


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _batch(
    tuples: list[tuple[Any, ...]],
    problems: list[tuple[list[tuple[int, str, str]], list[str]]],
    first: int,
    last: int,
) -> pipeline.Batch:
    make = pipeline.Ready._make
    return pipeline.Batch(
        first=first,
        last=last,
        ready=[make(t) for t in tuples],
        problems=[([pipeline.Problem(*p) for p in row], fields) for row, fields in problems],
    )


def _problem_tuples(
    problems: list[tuple[list[pipeline.Problem], list[str]]],
) -> list[tuple[list[tuple[int, str, str]], list[str]]]:
    return [([(p.row, p.column, p.reason) for p in row], fields) for row, fields in problems]


def batches(
    path: Path,
    *,
    encoding: str,
    delimiter: str,
    cleaner: pipeline.Cleaner,
    size: int,
    start_after: int = 0,
    prepare: bool = True,
    parallel: bool = False,
) -> Generator[pipeline.Batch, None, None]:
    """The file's batches after `start_after`, cleaned (and prepared unless prepare=False),
    read in a second process when `parallel`. Errors of reading (a byte the encoding cannot
    read) are raised here, in the caller's process, after the batches before them."""
    # A process with other threads running is never forked: a lock one of them held at that
    # moment would stay held in the child. The task worker and `leaven import` run one.
    if parallel and can_fork() and threading.active_count() == 1:
        yield from _forked(path, encoding, delimiter, cleaner, size, start_after, prepare)
        return
    preparer = pipeline.Preparer(cleaner)
    for rows in pipeline.iter_batches(
        path, encoding=encoding, delimiter=delimiter, start_after=start_after, size=size
    ):
        tuples, problems = preparer.batch(rows, prepare=prepare)
        make = pipeline.Ready._make
        yield pipeline.Batch(rows[0][0], rows[-1][0], [make(t) for t in tuples], problems)


def _produce(
    send: Connection,
    path: Path,
    encoding: str,
    delimiter: str,
    cleaner: pipeline.Cleaner,
    size: int,
    start_after: int,
    prepare: bool,
) -> None:
    """In the child: read, clean and send every batch, then ("end", None); an error is
    sent as ("error", exception) and ends the child."""
    try:
        preparer = pipeline.Preparer(cleaner)
        for rows in pipeline.iter_batches(
            path, encoding=encoding, delimiter=delimiter, start_after=start_after, size=size
        ):
            tuples, problems = preparer.batch(rows, prepare=prepare)
            message = ("batch", (tuples, _problem_tuples(problems), rows[0][0], rows[-1][0]))
            send.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        send.send_bytes(pickle.dumps(("end", None)))
    except BaseException as exc:  # noqa: BLE001 (every failure goes to the parent)
        try:
            payload = pickle.dumps(("error", exc))
        except Exception:  # noqa: BLE001 (an exception that cannot be pickled)
            payload = pickle.dumps(("error", RuntimeError(type(exc).__name__)))
        send.send_bytes(payload)
    finally:
        send.close()


def _forked(
    path: Path,
    encoding: str,
    delimiter: str,
    cleaner: pipeline.Cleaner,
    size: int,
    start_after: int,
    prepare: bool,
) -> Iterator[pipeline.Batch]:
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    keyring()  # the keys are read once, before the fork, and inherited
    process = context.Process(
        target=_produce,
        args=(send, path, encoding, delimiter, cleaner, size, start_after, prepare),
        daemon=True,
    )
    process.start()
    send.close()
    try:
        while True:
            try:
                data = receive.recv_bytes()
            except EOFError:
                raise RuntimeError("the reading process stopped") from None
            kind, payload = pickle.loads(data)  # noqa: S301 (our own child's bytes)
            if kind == "end":
                return
            if kind == "error":
                raise payload
            tuples, problems, first, last = payload
            yield _batch(tuples, problems, first, last)
    finally:
        receive.close()
        if process.is_alive():
            # Stopped early (a cancel, an error): the child's work is no longer wanted.
            process.terminate()
        process.join()

"""Fixtures for the import tests: a place for uploaded files, and helpers that upload bytes."""

from __future__ import annotations

import io

import pytest


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.LEAVEN_IMPORT_DIR = tmp_path / "imports"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def upload(coordinator, tree):
    """Upload bytes as the coordinator of committee A."""
    from leaven.imports import services

    def up(data: bytes, name: str = "list.csv", *, actor=None, unit=None):
        return services.job_upload(
            actor=actor or coordinator,
            owner_unit=unit or tree.committee_a,
            file_name=name,
            stream=io.BytesIO(data),
            size=len(data),
        )

    return up


@pytest.fixture
def start(coordinator, django_capture_on_commit_callbacks):
    """Start a mapped job and let its task run, as it would after the commit."""
    from leaven.imports import services

    def go(job, actor=None):
        with django_capture_on_commit_callbacks(execute=True):
            services.job_start(actor=actor or coordinator, job=job)
        job.refresh_from_db()
        return job

    return go


@pytest.fixture
def run_file(upload, coordinator, start):
    """Upload, map with a preset, and run (tasks run at once under pytest)."""
    from leaven.imports import services

    def run(data: bytes, *, preset="generic", mode="valid", name="list.csv", confirm=False):
        job = upload(data, name)
        if confirm:
            services.job_confirm_encoding(actor=coordinator, job=job)
        resolved = services.resolve_mapping(job=job, preset=preset)
        services.job_set_mapping(
            actor=coordinator,
            job=job,
            columns=resolved["columns"],
            constants=resolved["constants"],
            mode=mode,
        )
        return start(job)

    return run


def nc_row(**values: str) -> list[str]:
    from bench.ncvoter import COLUMNS

    row = [""] * len(COLUMNS)
    for key, value in values.items():
        row[COLUMNS.index(key)] = value
    return row


def nc_file(rows: list[list[str]]) -> bytes:
    from bench.ncvoter import COLUMNS

    lines = ["\t".join(f'"{c}"' for c in COLUMNS)]
    lines += ["\t".join(f'"{v}"' for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")

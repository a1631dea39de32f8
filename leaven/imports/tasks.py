"""Background work for imports: thin, takes ids, safe to run twice."""

from __future__ import annotations

from django_tasks import task


@task()
def run_import(job_id: int) -> None:
    from leaven.imports.services import job_run

    job_run(job_id=job_id)

"""Reads for imports, scoped to the actor: an import of a unit outside the actor's scope is a
404, exactly like a missing one."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from leaven.core import access, permissions
from leaven.core.selectors import deny
from leaven.imports.models import ColumnMapping, ImportJob, ImportReject


def job_list_for_actor(*, actor: Any) -> QuerySet[ImportJob]:
    units = access.unit_ids_in_scope(actor, permissions.IMPORTS_RUN)
    return ImportJob.objects.filter(owner_unit_id__in=units).select_related("owner_unit")


def job_get_for_actor(*, actor: Any, job_id: int) -> ImportJob:
    job = ImportJob.objects.select_related("owner_unit").filter(pk=job_id).first()
    if job is None:
        raise Http404
    if not access.can(actor, permissions.IMPORTS_RUN, job.owner_unit):
        raise deny(actor=actor, obj_type="importjob", obj_id=job_id, unit=job.owner_unit)
    return job


def rejects_for_actor(*, actor: Any, job_id: int) -> QuerySet[ImportReject]:
    job = job_get_for_actor(actor=actor, job_id=job_id)
    return job.rejects.all()


def mappings_for_job(*, actor: Any, job: ImportJob) -> QuerySet[ColumnMapping]:
    """Saved mappings of the job's unit and the units above it."""
    access.require(actor, permissions.IMPORTS_RUN, job.owner_unit)
    ids = [int(p) for p in job.owner_unit.path.strip("/").split("/") if p]
    return ColumnMapping.objects.filter(Q(owner_unit_id__in=ids))


def mapping_get_for_actor(*, actor: Any, job: ImportJob, mapping_id: int) -> ColumnMapping:
    mapping = mappings_for_job(actor=actor, job=job).filter(pk=mapping_id).first()
    if mapping is None:
        raise Http404
    return mapping

"""Import reads are scoped: the owning unit and the units above it see an import; others
get 404 exactly like a missing one, and the attempt is audited."""

from __future__ import annotations

import io

import pytest
from django.http import Http404

from leaven.core.models import AuditEvent
from leaven.imports import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(coordinator, tree):
    return services.job_upload(
        actor=coordinator, owner_unit=tree.committee_a, file_name="a.csv",
        stream=io.BytesIO(b"given_name,family_name\nAna,Ruiz\n"),
    )  # fmt: skip


def test_owner_and_admin_see_the_job(job, coordinator, admin):
    assert selectors.job_get_for_actor(actor=coordinator, job_id=job.pk) == job
    assert selectors.job_get_for_actor(actor=admin, job_id=job.pk) == job
    assert list(selectors.job_list_for_actor(actor=coordinator)) == [job]


def test_outsider_gets_404_and_is_audited(job, outsider):
    with pytest.raises(Http404):
        selectors.job_get_for_actor(actor=outsider, job_id=job.pk)
    with pytest.raises(Http404):
        selectors.rejects_for_actor(actor=outsider, job_id=job.pk)
    assert not selectors.job_list_for_actor(actor=outsider).exists()
    assert AuditEvent.objects.filter(verb="access.denied", object_type="importjob").exists()


def test_missing_job_is_404(coordinator):
    with pytest.raises(Http404):
        selectors.job_get_for_actor(actor=coordinator, job_id=999999)

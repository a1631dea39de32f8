"""The retention purge with a moving clock: reporter contacts go after
LEAVEN_RAPID_CONTACT_DAYS, incidents are reduced to type, cell and dates after
LEAVEN_RAPID_INCIDENT_DAYS, a legal hold pauses both, and the settings are read at call time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leaven.rapid_response import services, tasks
from leaven.rapid_response.models import Alert, Incident, IncidentReport

pytestmark = pytest.mark.django_db


def test_contact_goes_after_30_days_and_details_after_90(report, dispatcher, make_responder):
    """Day 29: nothing changes. Day 31: the contact is gone, the rest stays. Day 91: only
    type, cell and dates remain; reports and alerts are deleted; the timeline loses notes."""
    make_responder(0.5)
    start = timezone.now()
    incident = report(contact="+13125550111", description="three vans", now=start)
    services.incident_set_state(
        actor=dispatcher, incident=incident, state="confirmed", note="seen", now=start
    )
    assert services.purge_due(now=start + dt.timedelta(days=29)).contacts == 0
    assert IncidentReport.objects.get().reporter_contact == "+13125550111"
    assert services.purge_due(now=start + dt.timedelta(days=31)).contacts == 1
    report_row = IncidentReport.objects.get()
    assert (report_row.reporter_contact, report_row.sender_index) == ("", "")
    incident.refresh_from_db()
    assert incident.description == "three vans"
    assert incident.contact_purged_at is not None
    result = services.purge_due(now=start + dt.timedelta(days=91))
    assert result.incidents == 1
    incident.refresh_from_db()
    assert (incident.type, incident.cell) == ("checkpoint", services.cell_of(41.8565, -87.6594))
    assert incident.lat is None and incident.description == "" and incident.cross_streets == ""
    assert incident.created_at == start and incident.reduced_at is not None
    assert not IncidentReport.objects.exists()
    assert not Alert.objects.exists()
    assert not incident.changes.exclude(note="").exists()
    assert services.purge_due(now=start + dt.timedelta(days=92)).incidents == 0


def test_legal_hold_pauses_the_purge(report, dispatcher):
    """An incident on legal hold keeps its reporter contact and details; lifting the hold
    lets the next run purge it."""
    start = timezone.now()
    incident = report(contact="+13125550112", description="a van", now=start)
    services.incident_set_legal_hold(actor=dispatcher, incident=incident, hold=True)
    services.purge_due(now=start + dt.timedelta(days=200))
    assert IncidentReport.objects.get().reporter_contact == "+13125550112"
    incident.refresh_from_db()
    assert incident.description == "a van"
    services.incident_set_legal_hold(actor=dispatcher, incident=incident, hold=False)
    services.purge_due(now=start + dt.timedelta(days=200))
    incident.refresh_from_db()
    assert incident.description == ""


def test_settings_are_read_at_call_time(report, settings):
    """Shorter retention set after import takes effect on the next run."""
    start = timezone.now()
    report(contact="+13125550113", now=start)
    settings.LEAVEN_RAPID_CONTACT_DAYS = 2
    settings.LEAVEN_RAPID_INCIDENT_DAYS = 5
    assert services.purge_due(now=start + dt.timedelta(days=3)).contacts == 1
    assert services.purge_due(now=start + dt.timedelta(days=6)).incidents == 1


def test_purge_task_runs_the_service(report, settings):
    """The scheduled task purges what is due now."""
    settings.LEAVEN_RAPID_CONTACT_DAYS = 0
    report(contact="+13125550114", now=timezone.now() - dt.timedelta(hours=1))
    assert (tasks.rapid_purge.enqueue().return_value or 0) >= 1
    assert IncidentReport.objects.get().reporter_contact == ""


def test_escalate_task_is_scheduled_and_safe_to_run_twice(report, dispatcher, make_responder):
    """The escalation and purge jobs are in the scheduler; the task runs with nothing due."""
    from leaven.core.scheduler import PERIODIC

    names = {job.task for job in PERIODIC}
    assert "leaven.rapid_response.tasks:rapid_escalate" in names
    assert "leaven.rapid_response.tasks:rapid_purge" in names
    make_responder(0.5)
    incident = report()
    services.incident_set_state(actor=dispatcher, incident=incident, state="confirmed")
    assert tasks.rapid_escalate.enqueue().return_value == 0
    assert tasks.rapid_escalate.enqueue().return_value == 0
    assert Incident.objects.get().rings.count() == 1

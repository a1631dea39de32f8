"""The audit log: append-only events that say who did what to which record, from where."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from leaven.core.audit import audit_record, audit_source, current_source
from leaven.core.models import AuditEvent


def test_record_names_actor_object_and_unit(coordinator, tree):
    """An event keeps the actor, the record's type and id, the unit and the detail."""
    event = audit_record(
        actor=coordinator,
        verb="unit.updated",
        obj=tree.committee_a,
        unit=tree.committee_a,
        detail={"fields": ["name"]},
    )
    event.refresh_from_db()
    assert event.actor == coordinator
    assert event.actor_label == str(coordinator.pk)
    assert event.object_type == "orgunit"
    assert event.object_id == str(tree.committee_a.pk)
    assert event.unit == tree.committee_a
    assert event.detail == {"fields": ["name"]}
    assert event.source == AuditEvent.Source.SYSTEM


def test_record_without_user_names_the_system(tree):
    """An operator's or the system's event has no user and says so in its label."""
    event = audit_record(actor=None, verb="keys.rotated")
    assert event.actor is None
    assert event.actor_label == "system"
    labelled = audit_record(actor="api-key:7", verb="keys.rotated")
    assert labelled.actor is None
    assert labelled.actor_label == "api-key:7"


def test_saving_an_existing_event_raises(tree):
    """An event, once written, cannot be saved again through the ORM."""
    event = audit_record(actor=None, verb="unit.created", unit=tree.network)
    event.verb = "something.else"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).verb == "unit.created"


def test_raw_sql_update_is_refused_by_the_database(tree):
    """Even a raw SQL UPDATE, bypassing Django, is refused by a database trigger."""
    event = audit_record(actor=None, verb="unit.created", unit=tree.network)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET verb = %s WHERE id = %s", ["tampered", event.pk])
    assert AuditEvent.objects.get(pk=event.pk).verb == "unit.created"


def test_queryset_update_is_refused_by_the_database(tree):
    """A bulk update through the ORM hits the same trigger."""
    audit_record(actor=None, verb="unit.created", unit=tree.network)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().update(verb="tampered")
    assert not AuditEvent.objects.filter(verb="tampered").exists()


def test_audit_source_marks_events(tree):
    """Events written inside audit_source(...) carry that source; outside, the system."""
    with audit_source(AuditEvent.Source.IMPORT):
        inside = audit_record(actor=None, verb="person.created")
    outside = audit_record(actor=None, verb="person.created")
    assert inside.source == AuditEvent.Source.IMPORT
    assert outside.source == AuditEvent.Source.SYSTEM


def test_audit_source_nests_and_restores(tree):
    """An inner source wins inside its block; the outer one comes back after it."""
    with audit_source(AuditEvent.Source.TASK):
        with audit_source(AuditEvent.Source.COMMAND):
            assert current_source() == AuditEvent.Source.COMMAND
        assert current_source() == AuditEvent.Source.TASK
    assert current_source() == AuditEvent.Source.SYSTEM


def test_audit_source_restores_after_an_error(tree):
    """An exception inside the block does not leave the source behind."""
    with pytest.raises(RuntimeError), audit_source(AuditEvent.Source.API):
        raise RuntimeError
    assert current_source() == AuditEvent.Source.SYSTEM

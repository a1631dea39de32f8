"""Reads of units, roles and the audit log, always scoped to the actor."""

from __future__ import annotations

import pytest
from django.http import Http404

from leaven.core import permissions
from leaven.core.audit import audit_record
from leaven.core.models import AuditEvent
from leaven.core.selectors import (
    audit_list_for_object,
    audit_list_for_unit,
    unit_ancestors,
    unit_get_by_id_for_actor,
    unit_get_for_actor,
    unit_list_for_actor,
    unit_roles,
)


def test_unit_get_for_actor_returns_unit_in_scope(coordinator, tree):
    """A coordinator gets their committee and its circles by slug."""
    assert unit_get_for_actor(actor=coordinator, slug=tree.committee_a.slug) == tree.committee_a
    assert unit_get_for_actor(actor=coordinator, slug=tree.circle_a.slug) == tree.circle_a


def test_unit_get_for_actor_outsider_gets_404_and_is_audited(outsider, tree):
    """A coordinator of another committee gets a 404, and the attempt is written down."""
    with pytest.raises(Http404):
        unit_get_for_actor(actor=outsider, slug=tree.committee_a.slug)
    event = AuditEvent.objects.get(verb="access.denied")
    assert event.actor == outsider
    assert event.object_type == "orgunit"
    assert event.object_id == str(tree.committee_a.pk)
    assert event.unit == tree.committee_a


def test_unit_get_for_actor_missing_is_the_same_404(outsider, tree):
    """A slug that does not exist is the same 404 as one the actor may not see."""
    with pytest.raises(Http404) as missing:
        unit_get_for_actor(actor=outsider, slug="no-such-unit")
    with pytest.raises(Http404) as hidden:
        unit_get_for_actor(actor=outsider, slug=tree.committee_a.slug)
    assert type(missing.value) is type(hidden.value)
    assert str(missing.value) == str(hidden.value)


def test_unit_get_for_actor_ancestor_is_out_of_scope(coordinator, tree):
    """A coordinator cannot open the region above their committee."""
    with pytest.raises(Http404):
        unit_get_for_actor(actor=coordinator, slug=tree.region.slug)


def test_unit_get_for_actor_with_permission(coordinator, organizer, tree):
    """Asking for a stronger permission narrows who gets the unit."""
    with pytest.raises(Http404):
        unit_get_for_actor(
            actor=coordinator, slug=tree.committee_a.slug, permission=permissions.UNITS_MANAGE
        )
    unit = unit_get_for_actor(
        actor=organizer, slug=tree.committee_a.slug, permission=permissions.UNITS_MANAGE
    )
    assert unit == tree.committee_a


def test_unit_list_for_actor(coordinator, outsider, admin, tree):
    """Each actor lists their units and those below, nothing else."""
    assert set(unit_list_for_actor(actor=coordinator)) == {tree.committee_a, tree.circle_a}
    assert set(unit_list_for_actor(actor=outsider)) == {tree.committee_b}
    assert set(unit_list_for_actor(actor=admin)) == {
        tree.network,
        tree.region,
        tree.committee_a,
        tree.committee_b,
        tree.circle_a,
    }


def test_unit_roles_lists_roles_on_the_unit(coordinator, captain, viewer, outsider, tree):
    """The roles held on a unit itself, for whoever may see it; a 404 for an outsider."""
    roles = {(r.user, r.role) for r in unit_roles(actor=coordinator, unit=tree.committee_a)}
    assert roles == {(coordinator, "coordinator"), (captain, "captain"), (viewer, "viewer")}
    with pytest.raises(Http404):
        unit_roles(actor=outsider, unit=tree.committee_a)


def test_unit_ancestors_in_order(tree):
    """The ancestors of a circle, from the root down, without the circle itself."""
    assert unit_ancestors(unit=tree.circle_a) == [tree.network, tree.region, tree.committee_a]
    assert unit_ancestors(unit=tree.network) == []


def test_audit_list_for_unit_for_admins(admin, tree):
    """An admin reads the log of a unit and its descendants, not of its siblings."""
    from leaven.core.services import role_grant

    local_admin = admin.__class__.objects.create_user(email="local@example.org", password=None)
    role_grant(actor=None, user=local_admin, unit=tree.committee_a, role="admin", as_operator=True)
    in_circle = audit_record(actor=admin, verb="x.done", unit=tree.circle_a)
    in_committee = audit_record(actor=admin, verb="x.done", unit=tree.committee_a)
    in_sibling = audit_record(actor=admin, verb="x.done", unit=tree.committee_b)
    events = set(audit_list_for_unit(actor=local_admin, unit=tree.committee_a))
    assert {in_circle, in_committee} <= events
    assert in_sibling not in events
    assert all(e.unit.path.startswith(tree.committee_a.path) for e in events)


@pytest.mark.parametrize("who", ["coordinator", "captain", "viewer", "organizer", "outsider"])
def test_audit_list_for_unit_refused_to_non_admins(request, who, tree):
    """Only admins read a unit's log; everyone else gets a 404 and a denial event."""
    actor = request.getfixturevalue(who)
    with pytest.raises(Http404):
        audit_list_for_unit(actor=actor, unit=tree.committee_a)
    assert AuditEvent.objects.filter(
        verb="access.denied", actor=actor, object_type="orgunit.audit"
    ).exists()


def test_audit_list_for_object(admin, tree):
    """Events about one record, newest first."""
    first = audit_record(actor=admin, verb="a", obj=tree.committee_a)
    second = audit_record(actor=admin, verb="b", obj=tree.committee_a)
    audit_record(actor=admin, verb="c", obj=tree.committee_b)
    events = list(audit_list_for_object(object_type="orgunit", object_id=tree.committee_a.pk))
    assert second in events and first in events
    assert events.index(second) < events.index(first)
    assert all(e.object_id == str(tree.committee_a.pk) for e in events)


def test_unit_get_by_id_for_actor_rechecks_a_picked_unit(coordinator, outsider, tree):
    """A unit picked from a form is looked up again with the actor's scope: another
    committee's unit is a 404, like a missing one."""
    unit = unit_get_by_id_for_actor(
        actor=coordinator, pk=tree.circle_a.pk, permission=permissions.PEOPLE_EDIT
    )
    assert unit == tree.circle_a
    with pytest.raises(Http404):
        unit_get_by_id_for_actor(
            actor=outsider, pk=tree.committee_a.pk, permission=permissions.PEOPLE_EDIT
        )
    with pytest.raises(Http404):
        unit_get_by_id_for_actor(actor=coordinator, pk=10**9)

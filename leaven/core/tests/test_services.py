"""Writes for the org tree, users and roles: the rules, and the audit event each leaves."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from leaven.core import access, permissions
from leaven.core.models import AuditEvent, OrgUnit, RoleAssignment, User
from leaven.core.services import role_grant, role_revoke, unit_create, unit_update, user_create

# unit_create


def test_unit_create_builds_path_and_depth(admin, tree):
    """A new unit sits under its parent: its path extends the parent's and depth is one more."""
    ward = unit_create(
        actor=admin, name="Ward 25", kind=OrgUnit.Kind.WARD_TEAM, parent=tree.committee_a
    )
    assert ward.parent == tree.committee_a
    assert ward.path == f"{tree.committee_a.path}{ward.pk}/"
    assert ward.depth == tree.committee_a.depth + 1
    assert ward.slug == "ward-25"
    assert ward.time_zone == tree.committee_a.time_zone
    assert ward.languages == tree.committee_a.languages


def test_unit_create_records_event_with_actor(admin, tree):
    """Creating a unit leaves a unit.created event naming the actor and the new unit."""
    ward = unit_create(
        actor=admin, name="Ward 25", kind=OrgUnit.Kind.WARD_TEAM, parent=tree.committee_a
    )
    event = AuditEvent.objects.get(verb="unit.created", object_id=str(ward.pk))
    assert event.actor == admin
    assert event.unit == ward
    assert event.object_type == "orgunit"


def test_unit_create_by_organizer(organizer, tree):
    """An organizer adds sub-units under the unit they organize."""
    circle = unit_create(
        actor=organizer, name="Youth circle", kind=OrgUnit.Kind.CIRCLE, parent=tree.committee_a
    )
    assert circle.parent == tree.committee_a


def test_unit_create_refused_for_coordinator(coordinator, tree):
    """A coordinator may not add sub-units, and nothing is written when refused."""
    before = OrgUnit.objects.count()
    with pytest.raises(ValidationError):
        unit_create(
            actor=coordinator, name="Circle", kind=OrgUnit.Kind.CIRCLE, parent=tree.committee_a
        )
    assert OrgUnit.objects.count() == before
    assert not AuditEvent.objects.filter(verb="unit.created", actor=coordinator).exists()


def test_unit_create_refused_outside_actor_subtree(organizer, tree):
    """An organizer of one committee cannot add units under the next committee."""
    with pytest.raises(ValidationError):
        unit_create(
            actor=organizer, name="Circle", kind=OrgUnit.Kind.CIRCLE, parent=tree.committee_b
        )


def test_root_unit_only_for_operators(admin):
    """Even an admin cannot create a root unit from a page; an operator can."""
    with pytest.raises(ValidationError):
        unit_create(actor=admin, name="Other network", kind=OrgUnit.Kind.NETWORK, parent=None)
    root = unit_create(
        actor=None, name="Other network", kind=OrgUnit.Kind.NETWORK, parent=None, as_operator=True
    )
    assert root.path == f"/{root.pk}/"
    assert root.depth == 0
    event = AuditEvent.objects.get(verb="unit.created", object_id=str(root.pk))
    assert event.actor is None
    assert event.actor_label == "system"


def test_root_must_be_network_or_organization(db):
    """A committee cannot be a root of the tree."""
    with pytest.raises(ValidationError):
        unit_create(
            actor=None, name="Lonely", kind=OrgUnit.Kind.COMMITTEE, parent=None, as_operator=True
        )


def test_unit_kind_must_fit_under_parent(admin, tree):
    """A region cannot sit under a circle; a precinct team holds nothing."""
    with pytest.raises(ValidationError) as excinfo:
        unit_create(actor=admin, name="Region", kind=OrgUnit.Kind.REGION, parent=tree.circle_a)
    assert "kind" in excinfo.value.message_dict
    precinct = unit_create(
        actor=admin, name="P1", kind=OrgUnit.Kind.PRECINCT_TEAM, parent=tree.committee_a
    )
    with pytest.raises(ValidationError):
        unit_create(actor=admin, name="Below", kind=OrgUnit.Kind.CIRCLE, parent=precinct)


def test_unit_needs_name_and_known_time_zone(admin, tree):
    """A blank name or an unknown time zone is refused with a field error."""
    with pytest.raises(ValidationError) as excinfo:
        unit_create(actor=admin, name="   ", kind=OrgUnit.Kind.CIRCLE, parent=tree.committee_a)
    assert "name" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        unit_create(
            actor=admin,
            name="Circle",
            kind=OrgUnit.Kind.CIRCLE,
            parent=tree.committee_a,
            time_zone="Mars/Olympus",
        )
    assert "time_zone" in excinfo.value.message_dict


def test_unit_slugs_are_unique(admin, tree):
    """Two units with one name get different slugs; a taken slug asked for is refused."""
    one = unit_create(actor=admin, name="Pilsen", kind=OrgUnit.Kind.CIRCLE, parent=tree.circle_a)
    assert one.slug != tree.committee_a.slug
    with pytest.raises(ValidationError) as excinfo:
        unit_create(
            actor=admin,
            name="Another",
            kind=OrgUnit.Kind.CIRCLE,
            parent=tree.committee_a,
            slug=tree.committee_b.slug,
        )
    assert "slug" in excinfo.value.message_dict


# unit_update


def test_unit_update_records_changed_fields(admin, tree):
    """A rename records which fields changed, not their values."""
    unit_update(
        actor=admin,
        unit=tree.committee_a,
        name="Pilsen Norte",
        languages=tree.committee_a.languages,
        time_zone=tree.committee_a.time_zone,
    )
    tree.committee_a.refresh_from_db()
    assert tree.committee_a.name == "Pilsen Norte"
    event = AuditEvent.objects.get(verb="unit.updated", object_id=str(tree.committee_a.pk))
    assert event.actor == admin
    assert event.detail == {"fields": ["name"]}
    assert "Pilsen Norte" not in str(event.detail)


def test_unit_public_reports_flag_is_off_by_default_and_set_by_the_services(admin, tree):
    """A unit takes no public reports unless created or updated so; the change is audited by
    field name, and leaving the flag out of an update keeps it."""
    assert tree.committee_a.takes_public_reports is False
    opened = unit_create(
        actor=admin,
        name="Rapid circle",
        kind=OrgUnit.Kind.CIRCLE,
        parent=tree.committee_a,
        takes_public_reports=True,
    )
    assert OrgUnit.objects.get(pk=opened.pk).takes_public_reports is True
    created = AuditEvent.objects.get(verb="unit.created", object_id=str(opened.pk))
    assert created.detail == {"takes_public_reports": True}
    unit = tree.committee_a
    unit_update(
        actor=admin,
        unit=unit,
        name=unit.name,
        languages=unit.languages,
        time_zone=unit.time_zone,
        takes_public_reports=True,
    )
    assert OrgUnit.objects.get(pk=unit.pk).takes_public_reports is True
    event = AuditEvent.objects.filter(verb="unit.updated").latest("pk")
    assert event.detail == {"fields": ["takes_public_reports"]}
    unit_update(actor=admin, unit=unit, name="Pilsen Sur", languages=["en"], time_zone="UTC")
    assert OrgUnit.objects.get(pk=unit.pk).takes_public_reports is True


def test_unit_update_refused_for_coordinator(coordinator, tree):
    """A coordinator cannot rename their committee."""
    with pytest.raises(ValidationError):
        unit_update(
            actor=coordinator,
            unit=tree.committee_a,
            name="Renamed",
            languages=["en"],
            time_zone="America/Chicago",
        )
    tree.committee_a.refresh_from_db()
    assert tree.committee_a.name == "Pilsen"


def test_unit_update_checks_name_and_time_zone(admin, tree):
    """A blank name or an unknown time zone is refused and nothing changes."""
    with pytest.raises(ValidationError):
        unit_update(actor=admin, unit=tree.committee_a, name="", languages=["en"], time_zone="UTC")
    with pytest.raises(ValidationError):
        unit_update(
            actor=admin, unit=tree.committee_a, name="X", languages=["en"], time_zone="Nowhere/X"
        )
    assert OrgUnit.objects.get(pk=tree.committee_a.pk).name == "Pilsen"


# role_grant / role_revoke


def test_role_grant_by_admin(admin, tree):
    """An admin grants a role on a unit below them; the grant is audited with the actor."""
    user = user_create(actor=admin, email="new@example.org", password=None)
    assignment = role_grant(actor=admin, user=user, unit=tree.committee_a, role="captain")
    assert assignment.granted_by == admin
    assert access.can(user, permissions.PEOPLE_EDIT, tree.committee_a)
    event = AuditEvent.objects.get(verb="role.granted", detail__user=user.pk)
    assert event.actor == admin
    assert event.unit == tree.committee_a
    assert event.detail == {"user": user.pk, "role": "captain"}


def test_role_grant_is_idempotent(admin, tree):
    """Granting a role already held returns the same assignment and writes no second event."""
    user = user_create(actor=admin, email="new@example.org", password=None)
    first = role_grant(actor=admin, user=user, unit=tree.committee_a, role="captain")
    again = role_grant(actor=admin, user=user, unit=tree.committee_a, role="captain")
    assert first.pk == again.pk
    assert AuditEvent.objects.filter(verb="role.granted", detail__user=user.pk).count() == 1


@pytest.mark.parametrize("granter", ["coordinator", "organizer", "outsider"])
def test_role_grant_refused_without_roles_manage(request, granter, tree):
    """Only admins of a unit grant roles on it; coordinators and organizers cannot."""
    actor = request.getfixturevalue(granter)
    user = user_create(actor=None, email="new@example.org", password=None)
    with pytest.raises(ValidationError):
        role_grant(actor=actor, user=user, unit=tree.committee_a, role="viewer")
    assert not RoleAssignment.objects.filter(user=user).exists()


def test_role_grant_unknown_role(admin, tree):
    """An unknown role name is refused."""
    with pytest.raises(ValidationError) as excinfo:
        role_grant(actor=admin, user=admin, unit=tree.committee_a, role="overlord")
    assert "role" in excinfo.value.message_dict


def test_role_grant_as_operator(tree):
    """An operator (command, admin site) grants without a role of their own."""
    user = user_create(actor=None, email="new@example.org", password=None)
    assignment = role_grant(
        actor=None, user=user, unit=tree.committee_b, role="viewer", as_operator=True
    )
    assert assignment.granted_by is None
    event = AuditEvent.objects.get(verb="role.granted", detail__user=user.pk)
    assert event.actor is None


def test_role_revoke_by_admin(admin, coordinator, tree):
    """An admin revokes a role; the event keeps who held which role, and access ends."""
    assignment = coordinator.role_assignments.get()
    role_revoke(actor=admin, assignment=assignment)
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    event = AuditEvent.objects.get(verb="role.revoked")
    assert event.actor == admin
    assert event.detail == {"user": coordinator.pk, "role": "coordinator"}
    assert not access.can(coordinator, permissions.PEOPLE_VIEW, tree.committee_a)


def test_role_revoke_refused_for_non_admin(coordinator, captain):
    """A coordinator cannot revoke a captain's role."""
    assignment = captain.role_assignments.get()
    with pytest.raises(ValidationError):
        role_revoke(actor=coordinator, assignment=assignment)
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert not AuditEvent.objects.filter(verb="role.revoked").exists()


def test_role_revoke_as_operator(captain):
    """An operator revokes any role."""
    assignment = captain.role_assignments.get()
    role_revoke(actor=None, assignment=assignment, as_operator=True)
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()


# user_create


def test_user_create_lowercases_and_audits(admin):
    """The address is stored lower-cased; the event names the actor and holds no address."""
    user = user_create(
        actor=admin, email="Ana.Lopez@Example.ORG", password="a long enough passphrase"
    )
    assert user.email == "ana.lopez@example.org"
    assert user.check_password("a long enough passphrase")
    event = AuditEvent.objects.get(verb="user.created")
    assert event.actor == admin
    assert event.object_id == str(user.pk)
    assert "ana" not in str(event.detail).lower()


def test_user_create_refuses_duplicate_email(admin):
    """A second user with the same address, in any case, is refused."""
    user_create(actor=admin, email="ana@example.org", password=None)
    with pytest.raises(ValidationError) as excinfo:
        user_create(actor=admin, email="ANA@example.org", password=None)
    assert "email" in excinfo.value.message_dict
    assert User.objects.filter(email__iexact="ana@example.org").count() == 1


def test_user_create_without_password_cannot_sign_in(db):
    """A user created without a password has an unusable one."""
    user = user_create(actor=None, email="nopass@example.org", password=None)
    assert not user.has_usable_password()

"""The single permission checkpoint: which units a role covers, and what each role may do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from leaven.core import access, permissions
from leaven.core.models import OrgUnit, Role
from leaven.core.permissions import (
    PEOPLE_EDIT,
    PEOPLE_VIEW,
    PEOPLE_VIEW_CONTACTS,
)


def test_role_covers_its_unit_and_descendants(coordinator, tree):
    """A coordinator of a committee acts on the committee and on its circles."""
    assert access.can(coordinator, PEOPLE_VIEW, tree.committee_a)
    assert access.can(coordinator, PEOPLE_VIEW, tree.circle_a)
    ids = access.unit_ids_in_scope(coordinator, PEOPLE_VIEW)
    assert ids == {tree.committee_a.pk, tree.circle_a.pk}


def test_role_does_not_cover_siblings_or_ancestors(coordinator, tree):
    """A role on a committee says nothing about the next committee or the region above."""
    assert not access.can(coordinator, PEOPLE_VIEW, tree.committee_b)
    assert not access.can(coordinator, PEOPLE_VIEW, tree.region)
    assert not access.can(coordinator, PEOPLE_VIEW, tree.network)


def test_role_high_in_the_tree_covers_everything_below(admin, tree):
    """An admin of the network acts on every unit in it."""
    for unit in (tree.network, tree.region, tree.committee_a, tree.committee_b, tree.circle_a):
        assert access.can(admin, PEOPLE_VIEW, unit)
    assert access.unit_ids_in_scope(admin, PEOPLE_VIEW) == set(
        OrgUnit.objects.values_list("pk", flat=True)
    )


def test_path_prefix_of_digits_is_not_a_descendant(coordinator, tree):
    """A unit whose id merely starts with the same digits is not inside the committee."""
    lookalike = OrgUnit.objects.create(
        name="Lookalike",
        kind=OrgUnit.Kind.CIRCLE,
        parent=tree.region,
        slug="lookalike",
        path=tree.committee_a.path.rstrip("/") + "9/",
        depth=3,
    )
    assert not access.can(coordinator, PEOPLE_VIEW, lookalike)
    assert lookalike.pk not in access.unit_ids_in_scope(coordinator, PEOPLE_VIEW)


def test_unit_without_a_record_is_never_in_scope(admin):
    """Asking about no unit at all is always refused."""
    assert not access.can(admin, PEOPLE_VIEW, None)


# The table in docs/permissions.md, read back so that a change to either shows here.
DOCS = Path(__file__).resolve().parents[3] / "docs" / "permissions.md"


def documented_matrix() -> dict[str, set[str]]:
    lines = [line for line in DOCS.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    roles = header[1:]
    table: dict[str, set[str]] = {role: set() for role in roles}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        code = re.search(r"`([a-z_]+\.[a-z_]+)`", cells[0])
        assert code, f"a row of the permissions table names no permission: {cells[0]}"
        for role, mark in zip(roles, cells[1:], strict=True):
            if mark == "✓":
                table[role].add(code.group(1))
    return table


DOCUMENTED = documented_matrix()


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("permission", sorted(permissions.ALL_PERMISSIONS))
def test_permission_matrix(make_user, tree, role, permission):
    """Each role holds exactly the permissions the documented matrix gives it, on its unit."""
    user = make_user(f"{role}@example.org", role, tree.committee_a, mfa=False)
    expected = permission in DOCUMENTED[role]
    assert access.can(user, permission, tree.committee_a) is expected
    assert access.can(user, permission, tree.circle_a) is expected
    assert access.can(user, permission, tree.committee_b) is False
    assert access.can_anywhere(user, permission) is expected


def test_viewer_cannot_see_contacts(viewer, tree):
    """A viewer sees names and stages but not phones or emails."""
    assert access.can(viewer, PEOPLE_VIEW, tree.committee_a)
    assert not access.can(viewer, PEOPLE_VIEW_CONTACTS, tree.committee_a)
    assert not access.can(viewer, PEOPLE_EDIT, tree.committee_a)


def test_responder_sees_no_people(make_user, make_person, tree):
    """A responder receives alerts; they see no people records at all."""
    from leaven.people.selectors import person_queryset_for_actor

    make_person()
    responder = make_user("responder@example.org", "responder", tree.committee_a)
    assert not access.can_anywhere(responder, PEOPLE_VIEW)
    assert access.unit_ids_in_scope(responder, PEOPLE_VIEW) == frozenset()
    assert not person_queryset_for_actor(actor=responder).exists()


def test_inactive_user_has_no_scope(coordinator, tree):
    """A deactivated user keeps their role rows but acts on nothing."""
    coordinator.is_active = False
    coordinator.save()
    access.clear_access_cache(coordinator)
    assert access.roles_of(coordinator) == []
    assert not access.can(coordinator, PEOPLE_VIEW, tree.committee_a)
    assert access.unit_ids_in_scope(coordinator, PEOPLE_VIEW) == frozenset()


def test_anonymous_user_has_no_scope(tree):
    """Someone not signed in acts on nothing."""
    anonymous = AnonymousUser()
    assert access.roles_of(anonymous) == []
    assert not access.can(anonymous, PEOPLE_VIEW, tree.committee_a)
    assert access.unit_ids_in_scope(anonymous, PEOPLE_VIEW) == frozenset()


def test_user_without_roles_has_no_scope(make_user, tree):
    """An account with no role sees nothing."""
    user = make_user("nobody@example.org", mfa=False)
    assert not access.can_anywhere(user, PEOPLE_VIEW)
    assert not access.can(user, PEOPLE_VIEW, tree.committee_a)


def test_require_raises_404_not_403(outsider, tree):
    """A refusal is a 404, so it does not confirm that the unit exists."""
    with pytest.raises(Http404):
        access.require(outsider, PEOPLE_VIEW, tree.committee_a)
    access.require(outsider, PEOPLE_VIEW, tree.committee_b)


def test_roles_on_two_units_combine(make_user, tree):
    """Roles on two units give access to both subtrees, and only the permissions each gives."""
    from leaven.core.services import role_grant

    user = make_user("two@example.org", "viewer", tree.committee_a, mfa=False)
    role_grant(actor=None, user=user, unit=tree.committee_b, role="captain", as_operator=True)
    assert access.can(user, PEOPLE_VIEW, tree.committee_a)
    assert access.can(user, PEOPLE_VIEW, tree.committee_b)
    assert access.can(user, PEOPLE_EDIT, tree.committee_b)
    assert not access.can(user, PEOPLE_EDIT, tree.committee_a)
    assert not access.can(user, PEOPLE_VIEW, tree.region)


def test_revoked_role_stops_access(coordinator, tree):
    """Once a role is revoked the user's scope shrinks at once."""
    from leaven.core.services import role_revoke

    assert access.can(coordinator, PEOPLE_VIEW, tree.committee_a)
    assignment = coordinator.role_assignments.get()
    role_revoke(actor=None, assignment=assignment, as_operator=True)
    assert not access.can(coordinator, PEOPLE_VIEW, tree.committee_a)

"""The operators' Django admin at /operator/: superusers only, and no people in it."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin as django_admin
from django.test import Client

from conftest import PASSWORD, totp_code
from leaven.core.models import AuditEvent, OrgUnit, RoleAssignment


@pytest.fixture
def operator(make_user):
    return make_user("op@example.org", is_superuser=True, is_staff=True)


@pytest.mark.parametrize("who", ["admin", "coordinator", "viewer", "outsider"])
def test_admin_refused_to_users_with_roles(request, who, client_for):
    """Even an admin of the whole network is not an operator: /operator/ sends them away."""
    user = request.getfixturevalue(who)
    client = client_for(user)
    response = client.get("/operator/")
    assert response.status_code == 302
    assert response["Location"].startswith("/operator/login/")
    assert client.get(response["Location"]).status_code == 403
    assert client.get("/operator/core/orgunit/").status_code == 302
    assert client.get("/operator/core/auditevent/").status_code == 302


def test_admin_refused_to_staff_who_are_not_superusers(make_user, client_for):
    """The staff flag alone does not open the admin."""
    staff = make_user("staff@example.org", "coordinator", is_staff=True)
    response = client_for(staff).get("/operator/")
    assert response.status_code == 302


def test_admin_open_to_superuser(operator, client_for, tree):
    """A superuser with a second factor opens the admin and its unit list."""
    client = client_for(operator)
    assert client.get("/operator/").status_code == 200
    response = client.get("/operator/core/orgunit/")
    assert response.status_code == 200
    assert tree.committee_a.name in response.content.decode()


def test_people_are_not_in_the_admin(db):
    """No model of the people app is registered in the admin."""
    registered = set(django_admin.site._registry)
    for model in apps.get_app_config("people").get_models():
        assert model not in registered, model


def test_admin_login_page_does_not_sign_in_with_password_alone(operator, tree):
    """The admin's own login form would skip the second factor: it must send people to the
    site's sign-in, which asks for the TOTP code."""
    client = Client()
    response = client.get("/operator/login/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    client.post("/operator/login/", {"username": operator.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert client.get("/operator/").status_code == 302


def test_superuser_signs_in_with_totp_and_reaches_admin(operator, tree):
    """Through the site's sign-in, password then TOTP code, the operator reaches the admin."""
    client = Client()
    response = client.post(
        "/accounts/login/", {"login": operator.email, "password": PASSWORD}, follow=False
    )
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    stage = response["Location"]
    response = client.post(stage, {"code": totp_code()})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(operator.pk)
    assert client.get("/operator/").status_code == 200


def test_audit_log_is_read_only_in_admin(operator, client_for, tree):
    """Operators read audit events; they cannot add, change or delete them."""
    event = AuditEvent.objects.filter(verb="unit.created").first()
    client = client_for(operator)
    assert client.get("/operator/core/auditevent/").status_code == 200
    assert client.get("/operator/core/auditevent/add/").status_code == 403
    change = client.post(f"/operator/core/auditevent/{event.pk}/change/", {"verb": "tampered"})
    assert change.status_code in (200, 403)
    assert client.post(f"/operator/core/auditevent/{event.pk}/delete/").status_code == 403
    event.refresh_from_db()
    assert event.verb == "unit.created"
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_units_cannot_be_added_or_deleted_in_admin(operator, client_for, tree):
    """Units are added through the pages or the command, which keep the tree's paths."""
    client = client_for(operator)
    assert client.get("/operator/core/orgunit/add/").status_code == 403
    response = client.post(f"/operator/core/orgunit/{tree.circle_a.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert OrgUnit.objects.filter(pk=tree.circle_a.pk).exists()


def test_unit_rename_in_admin_is_audited(operator, client_for, tree):
    """A rename in the admin keeps the path and leaves an audit event naming the operator."""
    response = client_for(operator).post(
        f"/operator/core/orgunit/{tree.committee_a.pk}/change/",
        {"name": "Pilsen Sur", "languages": '["es"]', "time_zone": "America/Chicago"},
    )
    assert response.status_code == 302
    unit = OrgUnit.objects.get(pk=tree.committee_a.pk)
    assert unit.name == "Pilsen Sur"
    assert unit.path == tree.committee_a.path
    event = AuditEvent.objects.get(verb="unit.updated", object_id=str(unit.pk))
    assert event.actor == operator


def test_role_grant_in_admin_goes_through_the_service(operator, coordinator, client_for, tree):
    """A role added in the admin is granted by the service, and so audited."""
    response = client_for(operator).post(
        "/operator/core/roleassignment/add/",
        {"user": coordinator.pk, "unit": tree.committee_b.pk, "role": "viewer"},
    )
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(
        user=coordinator, unit=tree.committee_b, role="viewer"
    ).exists()
    event = AuditEvent.objects.get(verb="role.granted", unit=tree.committee_b)
    assert event.actor == operator


def test_role_revoke_in_admin_is_audited(operator, captain, client_for):
    """Deleting a role in the admin revokes it through the service, with an event."""
    assignment = captain.role_assignments.get()
    response = client_for(operator).post(
        f"/operator/core/roleassignment/{assignment.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    event = AuditEvent.objects.get(verb="role.revoked")
    assert event.actor == operator
    assert event.detail == {"user": captain.pk, "role": "captain"}


def test_users_are_deactivated_not_deleted(operator, coordinator, client_for, make_person):
    """Deleting a user would rewrite their audit events (which the database refuses): the
    admin offers deactivation instead of deletion."""
    make_person(actor=coordinator)
    client = client_for(operator)
    response = client.post(f"/operator/core/user/{coordinator.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    coordinator.refresh_from_db()
    assert AuditEvent.objects.filter(actor=coordinator, verb="person.created").exists()

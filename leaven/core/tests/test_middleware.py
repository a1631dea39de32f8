"""Middleware: a second factor before anything else for roles above viewer, and the audit
source of events written while serving a page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaven.core.models import AuditEvent

MFA_SETUP = "/accounts/2fa/totp/activate/"


@pytest.fixture
def pages(tree):
    """Every kind of page a signed-in user might ask for, outside /accounts/."""
    return [
        "/",
        "/units/",
        f"/units/{tree.committee_a.slug}/",
        f"/units/{tree.committee_a.slug}/audit/",
        "/people/",
        "/people/new/",
        "/people/1/",
        "/households/1/",
        "/operator/",
        "/no-such-page/",
    ]


def test_mfa_setup_url():
    """The middleware sends people to allauth's TOTP setup page."""
    assert reverse("mfa_activate_totp") == MFA_SETUP


def test_coordinator_without_totp_is_sent_to_setup(make_user, client_for, pages, tree):
    """A coordinator with no authenticator is redirected to set one up from every page."""
    user = make_user("nomfa@example.org", "coordinator", tree.committee_a, mfa=False)
    client = client_for(user)
    for path in pages:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == MFA_SETUP, path
    response = client.post("/people/new/", {"given_name": "Ana"})
    assert response.status_code == 302
    assert response["Location"] == MFA_SETUP


def test_coordinator_without_totp_is_not_redirected_from_account_pages(make_user, client_for, tree):
    """Account pages (where the second factor is set up) stay reachable."""
    user = make_user("nomfa@example.org", "coordinator", tree.committee_a, mfa=False)
    client = client_for(user)
    for path in ["/accounts/2fa/", MFA_SETUP, "/accounts/password/change/", "/accounts/email/"]:
        response = client.get(path)
        assert response.get("Location") != MFA_SETUP, path
        assert response.status_code in (200, 302), path
    assert client.get(MFA_SETUP, follow=True).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_language_switch_reachable_without_totp(make_user, client_for, tree):
    """Switching language is allowed before the second factor is set up."""
    user = make_user("nomfa@example.org", "coordinator", tree.committee_a, mfa=False)
    response = client_for(user).post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_viewer_without_totp_is_not_redirected(viewer, client_for):
    """A viewer sees no contact data and changes nothing, so a password is enough."""
    client = client_for(viewer)
    assert client.get("/").status_code == 200
    assert client.get("/people/").status_code == 200


def test_user_without_roles_is_not_redirected(make_user, client_for):
    """An account with no role yet is not asked for a second factor."""
    user = make_user("new@example.org", mfa=False)
    assert client_for(user).get("/").status_code == 200


@pytest.mark.parametrize("role", ["admin", "organizer", "captain", "dispatcher", "responder"])
def test_every_role_above_viewer_needs_totp(make_user, client_for, tree, role):
    """Every role above viewer is sent to the setup page until it has an authenticator."""
    user = make_user(f"{role}@example.org", role, tree.committee_a, mfa=False)
    response = client_for(user).get("/")
    assert response.status_code == 302
    assert response["Location"] == MFA_SETUP


def test_viewer_with_a_stronger_role_elsewhere_needs_totp(make_user, client_for, tree):
    """A viewer of one committee who captains another needs a second factor."""
    from leaven.core.services import role_grant

    user = make_user("mixed@example.org", "viewer", tree.committee_a, mfa=False)
    role_grant(actor=None, user=user, unit=tree.committee_b, role="captain", as_operator=True)
    response = client_for(user).get("/")
    assert response["Location"] == MFA_SETUP


def test_superuser_without_totp_is_sent_to_setup(make_user, client_for):
    """An operator needs a second factor even without roles."""
    user = make_user("op@example.org", mfa=False, is_superuser=True, is_staff=True)
    response = client_for(user).get("/operator/")
    assert response.status_code == 302
    assert response["Location"] == MFA_SETUP


def test_coordinator_with_totp_is_not_redirected(coordinator, client_for):
    """Once an authenticator exists, pages open."""
    assert client_for(coordinator).get("/").status_code == 200


def test_anonymous_is_sent_to_sign_in_not_setup(client, tree):
    """Someone not signed in is sent to sign in."""
    response = client.get("/people/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_page_events_are_marked_as_page(coordinator, client_for, make_person):
    """Audit events written while serving a page carry the page source."""
    person = make_person()
    response = client_for(coordinator).get(f"/people/{person.pk}/")
    assert response.status_code == 200
    event = AuditEvent.objects.get(verb="person.viewed", actor=coordinator)
    assert event.source == AuditEvent.Source.PAGE
    created = AuditEvent.objects.get(verb="person.created", object_id=str(person.pk))
    assert created.source == AuditEvent.Source.SYSTEM

"""Sign-in adapters: setting up a first second factor right after signing in does not ask
for the password again; every later change to how one signs in does."""

from __future__ import annotations

import time

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator

from leaven.core.models import User
from leaven.core.services import role_grant

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough passphrase 42"


@pytest.fixture
def newcomer(tree):
    user = User.objects.create_user(email="newcomer@example.org", password=PASSWORD)
    role_grant(actor=None, user=user, unit=tree.committee_a, role="coordinator", as_operator=True)
    return user


def _sign_in(client):
    response = client.post(
        "/accounts/login/", {"login": "newcomer@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_first_authenticator_right_after_sign_in(client, newcomer):
    """Within minutes of a password sign-in, the TOTP setup page opens directly."""
    _sign_in(client)
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 200
    assert b"authenticator_secret" in response.content


def test_first_authenticator_after_a_while_asks_again(client, newcomer, settings):
    """When the sign-in is older than the re-authentication window, the password is asked."""
    _sign_in(client)
    session = client.session
    records = session[AUTHENTICATION_METHODS_SESSION_KEY]
    records[-1]["at"] = time.time() - 3600
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session.save()
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 302
    assert "/accounts/reauthenticate/" in response["Location"]


def test_changes_with_an_authenticator_ask_again(client, newcomer):
    """Once a second factor exists, changing it asks for the password even just after
    sign-in (here the recovery codes page)."""
    _sign_in(client)
    Authenticator.objects.create(user=newcomer, type=Authenticator.Type.TOTP, data={})
    response = client.get("/accounts/2fa/recovery-codes/generate/")
    assert response.status_code == 302
    assert "/accounts/reauthenticate/" in response["Location"]

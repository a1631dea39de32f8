"""Fixtures for the people tests: users with any role."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing a password properly takes a good fraction of a second; tests need not."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(tree):
    """A user with an optional role on a unit; with a TOTP authenticator unless mfa=False."""
    from allauth.mfa.totp.internal.auth import TOTP

    from conftest import PASSWORD, TOTP_SECRET
    from leaven.core.models import User
    from leaven.core.services import role_grant

    def make(email, role=None, unit=None, *, mfa=True, **extra):
        user = User.objects.create_user(email=email, password=PASSWORD, **extra)
        if role:
            role_grant(
                actor=None, user=user, unit=unit or tree.committee_a, role=role, as_operator=True
            )
        if mfa:
            TOTP.activate(user, TOTP_SECRET)
        return user

    return make

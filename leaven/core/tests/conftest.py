"""Fixtures for the core tests: users with any role, and a way to switch encryption keys."""

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


@pytest.fixture
def organizer(make_user, tree):
    return make_user("organizer@example.org", "organizer", tree.committee_a)


@pytest.fixture
def use_keys(settings):
    """Switch the encryption keys for the rest of the test: use_keys("k2:NEW,k1:OLD")."""
    from leaven.core import crypto

    def use(spec, blind=None):
        settings.LEAVEN_ENCRYPTION_KEYS = spec
        if blind is not None:
            settings.LEAVEN_BLIND_INDEX_KEY = blind
        crypto.reset_keyring()

    yield use
    crypto.reset_keyring()


@pytest.fixture
def key_spec():
    """The keys in use now, written as LEAVEN_ENCRYPTION_KEYS would hold them."""
    import base64

    from leaven.core import crypto

    def spec() -> str:
        ring = crypto.keyring()
        ordered = [ring.primary_kid, *(kid for kid in ring.keys if kid != ring.primary_kid)]
        return ",".join(
            f"{kid}:{base64.urlsafe_b64encode(ring.keys[kid]).decode()}" for kid in ordered
        )

    return spec

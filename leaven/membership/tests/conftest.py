"""Fixtures for the membership tests: tiers, members and a moving clock given as dates."""

from __future__ import annotations

import datetime as dt

import pytest

WEBHOOK_SECRET = "whsec_test_secret_for_leaven"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing a password properly takes a good fraction of a second; tests need not."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _stripe_settings(settings):
    settings.LEAVEN_STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.LEAVEN_STRIPE_PAYMENT_LINK = ""


@pytest.fixture(autouse=True)
def _empty_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def organizer(tree):
    from conftest import _user

    return _user("organizer@example.org", "organizer", tree.committee_a)


@pytest.fixture
def tiers(tree, admin):
    """Pilsen's tiers: a monthly sliding scale ($1 minimum, $10 suggested) and a yearly one."""
    from leaven.membership.services import tier_create

    sliding = tier_create(
        actor=admin,
        owner_unit=tree.committee_a,
        name_en="Sliding scale",
        name_es="Escala móvil",
        amount_cents=1000,
        interval="monthly",
        sliding_min_cents=100,
    )
    yearly = tier_create(
        actor=admin,
        owner_unit=tree.committee_a,
        name_en="Yearly",
        name_es="Anual",
        amount_cents=6000,
        interval="yearly",
    )
    return sliding, yearly


@pytest.fixture
def other_tier(tree, admin):
    from leaven.membership.services import tier_create

    return tier_create(
        actor=admin,
        owner_unit=tree.committee_b,
        name_en="Basic",
        name_es="Básica",
        amount_cents=500,
        interval="monthly",
    )


@pytest.fixture
def make_membership(tree, tiers, admin, make_person):
    """A membership in Pilsen for a new person, started on `today`."""
    from leaven.membership.services import membership_create

    def make(*, today=dt.date(2026, 1, 10), tier=None, unit=None, person=None, **fields):
        person = person or make_person(unit or tree.committee_a, **fields)
        return membership_create(
            actor=admin,
            person=person,
            unit=unit or tree.committee_a,
            tier=tier or tiers[0],
            today=today,
        )

    return make

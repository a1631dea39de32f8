"""Fixtures for the events tests: users with any role, events built through the services,
and the public form's data as a person (not a bot) would send it."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from django.utils import timezone


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing a password properly takes a good fraction of a second; tests need not."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """The per-address RSVP limit lives in the cache: start every test with it empty."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def make_event(tree, admin):
    from leaven.events.services import event_create

    def make(unit=None, *, starts_at: datetime | None = None, **fields):
        starts_at = starts_at or timezone.now() + timedelta(days=7)
        fields.setdefault("title_en", "Know Your Rights training")
        fields.setdefault("title_es", "Taller Conozca Sus Derechos")
        fields.setdefault("ends_at", starts_at + timedelta(hours=2))
        return event_create(
            actor=admin, owner_unit=unit or tree.committee_a, starts_at=starts_at, **fields
        )

    return make


@pytest.fixture
def rsvp_data():
    """The POST a person sends from the public page, filled a minute ago."""
    from leaven.events import tokens

    def data(**fields):
        values = {
            "given_name": "Rosa",
            "family_name": "Tapia",
            "email": "rosa@example.org",
            "phone": "",
            "language": "es",
            "started": tokens.make(tokens.FORM_STARTED, int(time.time()) - 60),
            "website": "",
        }
        values.update(fields)
        return values

    return data


@pytest.fixture
def contact():
    from leaven.events.services import Contact

    def make(**fields):
        fields.setdefault("given_name", "Rosa")
        fields.setdefault("email", "rosa@example.org")
        return Contact(**fields)

    return make

"""Rapid-response fixtures: dispatchers of two committees and responders placed around
Pilsen (Chicago) with phones that take urgent texts."""

from __future__ import annotations

import datetime as dt

import pytest

PILSEN = (41.8565, -87.6594)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing a password properly takes a good fraction of a second; tests need not."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _rapid_settings(settings):
    settings.LEAVEN_PUBLIC_URL = "http://testserver"
    settings.LEAVEN_ORG_NAME = "Red Solidaria"
    settings.LEAVEN_SMS_TRANSPORT = "console"
    settings.LEAVEN_OUTBOX_DRAIN_ON_COMMIT = False


@pytest.fixture
def public_a(tree):
    """Committee A with its public report page open."""
    from leaven.core.models import OrgUnit

    OrgUnit.objects.filter(pk=tree.committee_a.pk).update(takes_public_reports=True)
    tree.committee_a.takes_public_reports = True
    return tree.committee_a


@pytest.fixture
def dispatcher(tree):
    from conftest import _user

    return _user("dispatcher@example.org", "dispatcher", tree.committee_a)


@pytest.fixture
def dispatcher_b(tree):
    from conftest import _user

    return _user("dispatcher-b@example.org", "dispatcher", tree.committee_b)


@pytest.fixture
def make_responder(make_person, tree):
    """A responder `km_north` km north of Pilsen with a phone; `urgent` gives round-the-clock
    alert consent."""
    from leaven.people.services import PhoneInput
    from leaven.rapid_response import services

    counter = {"n": 0}

    def make(
        km_north: float = 0.0,
        *,
        unit=None,
        skills=("legal_observer",),
        urgent: bool = True,
        sms: str = "opted_in",
        language: str = "en",
        windows=None,
    ):
        counter["n"] += 1
        n = counter["n"]
        unit = unit or tree.committee_a
        person = make_person(
            unit,
            given_name=f"Responder{n}",
            language=language,
            phones=[PhoneInput(number=f"+1312555{n:04d}", sms_status=sms, urgent_alerts=urgent)],
        )
        from leaven.core.models import User

        maker = User.objects.get(email="fixture-maker@example.org")
        return services.responder_save(
            actor=maker,
            person=person,
            unit=unit,
            lat=PILSEN[0] + km_north / 111.2,
            lon=PILSEN[1],
            skills=list(skills),
            languages=[language],
            windows=windows,
        )

    return make


@pytest.fixture
def report(tree):
    """Submit a public report near Pilsen."""
    from django.utils import timezone

    from leaven.rapid_response import services

    def submit(unit=None, *, lat=PILSEN[0], lon=PILSEN[1], now=None, **fields):
        now = now or timezone.now()
        data = services.ReportInput(
            type=fields.pop("type", "checkpoint"),
            seen_at=fields.pop("seen_at", now - dt.timedelta(minutes=5)),
            lat=lat,
            lon=lon,
            **fields,
        )
        return services.report_submit(actor=None, unit=unit or tree.committee_a, data=data, now=now)

    return submit


@pytest.fixture
def pilsen_precinct(tree):
    """A precinct around Pilsen with a household of committee A in it, so that the
    committee's precinct list holds it."""
    import json

    from leaven.core.models import User
    from leaven.geo.models import Jurisdiction
    from leaven.people.models import Household
    from leaven.people.services import household_get_or_create

    lat, lon = PILSEN
    ring = [
        [lon - 0.01, lat - 0.01],
        [lon + 0.01, lat - 0.01],
        [lon + 0.01, lat + 0.01],
        [lon - 0.01, lat + 0.01],
        [lon - 0.01, lat - 0.01],
    ]
    precinct = Jurisdiction.objects.create(
        kind=Jurisdiction.Kind.PRECINCT,
        code="25-007",
        name="Ward 25 Precinct 7",
        boundary=json.dumps({"type": "Polygon", "coordinates": [ring]}),
        min_lat=lat - 0.01,
        max_lat=lat + 0.01,
        min_lon=lon - 0.01,
        max_lon=lon + 0.01,
    )
    maker, _ = User.objects.get_or_create(email="fixture-maker@example.org")
    from leaven.core.services import role_grant

    role_grant(actor=None, user=maker, unit=tree.network, role="admin", as_operator=True)
    household = household_get_or_create(
        actor=maker,
        owner_unit=tree.committee_a,
        street="1800 S Blue Island Ave",
        city="Chicago",
        state="IL",
    )
    Household.objects.filter(pk=household.pk).update(precinct_code=precinct.code)
    household.refresh_from_db()
    return precinct, household

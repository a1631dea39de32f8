"""Shared test fixtures: a small organization tree and named users, with an outsider.

Network "Red Solidaria"
  Region "Midwest"
    Committee "Pilsen" (committee A) -- circle "Hometown club from Oaxaca"
    Committee "Little Village" (committee B)

admin       admin of the network
coordinator coordinator of Pilsen
captain     captain of Pilsen
viewer      viewer of Pilsen
outsider    coordinator of Little Village (must never see Pilsen's people)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

# aiosmtpd's thread logs each connection at INFO, sometimes after pytest has closed the
# captured stream; its warnings and errors still show.
logging.getLogger("mail.log").setLevel(logging.WARNING)

# The browser fixtures (one Chromium for the whole run, shared by every app's browser tests).
pytest_plugins = ["leaven.core.tests.browser.fixtures"]

PASSWORD = "correct horse battery staple"  # noqa: S105
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite the test database is a file of this run's own (WAL, with the busy timeout
    of the settings), as in production, not SQLite's shared in-memory database. The live
    server of the browser and API tests answers several requests at once, each in a thread
    with a connection of its own (the walk page fetches its list while its service worker
    registers, and every request saves the session); on the shared in-memory database a
    connection that meets another's lock on a table fails at once with "database table is
    locked", where on a file it waits its turn. LEAVEN_TEST_SQLITE, when set, names the file."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    if database["ENGINE"] == "django.db.backends.sqlite3" and not test.get("NAME"):
        test["NAME"] = str(tmp_path_factory.mktemp("db") / "leaven.sqlite3")


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request in Spanish leaves Spanish active in its thread; each test starts from the
    default language, whatever ran before it."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@dataclass
class Tree:
    network: object
    region: object
    committee_a: object
    committee_b: object
    circle_a: object


@pytest.fixture
def tree(db):
    from leaven.core.models import OrgUnit
    from leaven.core.services import unit_create

    network = unit_create(
        actor=None, name="Red Solidaria", kind=OrgUnit.Kind.NETWORK, parent=None, as_operator=True
    )
    region = unit_create(
        actor=None, name="Midwest", kind=OrgUnit.Kind.REGION, parent=network, as_operator=True
    )
    committee_a = unit_create(
        actor=None, name="Pilsen", kind=OrgUnit.Kind.COMMITTEE, parent=region, as_operator=True
    )
    committee_b = unit_create(
        actor=None,
        name="Little Village",
        kind=OrgUnit.Kind.COMMITTEE,
        parent=region,
        as_operator=True,
    )
    circle_a = unit_create(
        actor=None,
        name="Hometown club from Oaxaca",
        kind=OrgUnit.Kind.CIRCLE,
        parent=committee_a,
        as_operator=True,
    )
    return Tree(network, region, committee_a, committee_b, circle_a)


def _user(email: str, role: str | None, unit, *, mfa: bool = True):
    from allauth.mfa.totp.internal.auth import TOTP

    from leaven.core.models import User
    from leaven.core.services import role_grant

    user = User.objects.create_user(email=email, password=PASSWORD, first_name=email.split("@")[0])
    if role:
        role_grant(actor=None, user=user, unit=unit, role=role, as_operator=True)
    if mfa:
        TOTP.activate(user, TOTP_SECRET)
    return user


@pytest.fixture
def admin(tree):
    return _user("admin@example.org", "admin", tree.network)


@pytest.fixture
def coordinator(tree):
    return _user("coordinator@example.org", "coordinator", tree.committee_a)


@pytest.fixture
def captain(tree):
    return _user("captain@example.org", "captain", tree.committee_a)


@pytest.fixture
def viewer(tree):
    return _user("viewer@example.org", "viewer", tree.committee_a, mfa=False)


@pytest.fixture
def outsider(tree):
    return _user("outsider@example.org", "coordinator", tree.committee_b)


@pytest.fixture
def make_person(tree):
    """Create a person in a unit (committee A by default) through the real service."""
    from leaven.core.models import User
    from leaven.core.services import role_grant
    from leaven.people.services import person_create

    def make(unit=None, *, actor=None, **fields):
        unit = unit or tree.committee_a
        if actor is None:
            actor, _ = User.objects.get_or_create(email="fixture-maker@example.org")
            role_grant(actor=None, user=actor, unit=tree.network, role="admin", as_operator=True)
        fields.setdefault("given_name", "María")
        fields.setdefault("family_name", "Muñoz")
        return person_create(actor=actor, owner_unit=unit, **fields)

    return make


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The current TOTP code for a secret, as an authenticator app would show it."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return str(format_hotp_value(hotp_value(secret, int(time.time()) // 30)))


@pytest.fixture
def client_for(client):
    """A test client signed in as the given user."""
    from django.test import Client

    def make(user):
        c = Client()
        c.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return c

    return make

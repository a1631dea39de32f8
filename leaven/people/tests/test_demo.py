"""`leaven demo`: the demo organization generator and its command."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Exists, OuterRef

PEOPLE = 300


def run_demo(people=PEOPLE, seed=1):
    out = StringIO()
    call_command("demo", people=people, seed=seed, stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot():
    from leaven.people import models

    names = list(
        models.Person.objects.order_by("id").values_list(
            "given_name", "family_name", "stage", "language"
        )
    )
    counts = {
        model.__name__: model.objects.count()
        for model in (
            models.Person,
            models.Household,
            models.Email,
            models.Phone,
            models.PersonUnit,
            models.StageChange,
            models.Tagging,
            models.Relationship,
            models.Affiliation,
            models.Note,
            models.Tag,
            models.PartnerOrganization,
        )
    }
    return counts, names


def load_and_roll_back(seed):
    with transaction.atomic():
        run_demo(seed=seed)
        result = snapshot()
        transaction.set_rollback(True)
    return result


@pytest.fixture
def demo_db(db):
    return run_demo()


def test_the_demo_has_the_people_asked_for(demo_db):
    from leaven.core.models import OrgUnit
    from leaven.people.models import Household, Person

    assert Person.objects.count() == PEOPLE
    assert 80 <= Household.objects.count() <= 160
    assert OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE).count() == 12
    assert OrgUnit.objects.filter(kind=OrgUnit.Kind.REGION).count() == 3
    assert OrgUnit.objects.filter(kind=OrgUnit.Kind.WARD_TEAM).exists()
    assert OrgUnit.objects.filter(kind=OrgUnit.Kind.PRECINCT_TEAM).exists()
    assert OrgUnit.objects.filter(kind=OrgUnit.Kind.CIRCLE).exists()


def test_the_same_seed_gives_the_same_demo(db):
    first = load_and_roll_back(seed=7)
    second = load_and_roll_back(seed=7)
    other = load_and_roll_back(seed=8)
    assert first[0]["Person"] == PEOPLE
    assert first == second
    assert first[1] != other[1]


def test_running_it_again_changes_nothing(demo_db):
    from leaven.core.models import AuditEvent, OrgUnit, User

    before = snapshot()
    units, users, events = OrgUnit.objects.count(), User.objects.count(), AuditEvent.objects.count()
    output = run_demo(people=500, seed=2)
    assert "already loaded" in output
    assert snapshot() == before
    assert (OrgUnit.objects.count(), User.objects.count()) == (units, users)
    assert AuditEvent.objects.count() == events


def test_one_audit_event_for_the_whole_load(demo_db):
    from leaven.core.models import AuditEvent

    loaded = AuditEvent.objects.get(verb="demo.loaded")
    assert loaded.actor is None
    assert loaded.source == AuditEvent.Source.COMMAND
    assert not AuditEvent.objects.filter(verb__startswith="person.").exists()
    assert not AuditEvent.objects.filter(verb__in=["email.added", "phone.added"]).exists()


def test_no_plaintext_contact_points_in_the_tables(demo_db):
    from leaven.core import crypto
    from leaven.people import normalize

    with connection.cursor() as cursor:
        cursor.execute("SELECT address, address_index FROM people_email")
        emails = cursor.fetchall()
        cursor.execute("SELECT number, number_index FROM people_phone")
        phones = cursor.fetchall()
        cursor.execute("SELECT body FROM people_note")
        notes = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT sensitive_fields FROM people_person")
        sensitive = [row[0] for row in cursor.fetchall()]
    assert emails and phones and notes
    for stored, index in emails:
        assert stored.startswith("v1:") and "@" not in stored
        address = crypto.decrypt(stored)
        assert normalize.email_normalize(address) == address
        assert crypto.blind_index(address) == index
    for stored, index in phones:
        assert stored.startswith("v1:") and "+1" not in stored
        number = crypto.decrypt(stored)
        assert normalize.phone_normalize(number) == number
        assert re.fullmatch(r"\+1\d{3}55501\d\d", number)  # the fictional 555-01xx range
        assert crypto.blind_index(number) == index
    for stored in notes:
        assert stored.startswith("v1:")
        assert crypto.decrypt(stored)
    assert any(value for value in sensitive)
    for stored in sensitive:
        assert stored == "" or set(json.loads(crypto.decrypt(stored))) == {"access_needs"}


def test_nothing_about_immigration_is_stored(demo_db):
    from leaven.people.models import Person

    keys = set()
    for fields in Person.objects.values_list("custom_fields", flat=True):
        keys |= set(fields)
    assert keys == {"registered_voter"}
    not_registered = Person.objects.filter(custom_fields__registered_voter=False).count()
    assert PEOPLE * 0.2 < not_registered < PEOPLE * 0.45


def test_every_person_belongs_to_their_owner_unit(demo_db):
    from leaven.people.models import Person, PersonUnit

    in_owner = PersonUnit.objects.filter(person=OuterRef("pk"), unit=OuterRef("owner_unit"))
    assert not Person.objects.exclude(Exists(in_owner)).exists()
    assert PersonUnit.objects.count() > PEOPLE  # some are in a circle or a ward team too


def test_derived_columns_are_what_the_services_compute(demo_db):
    from leaven.people import normalize
    from leaven.people.models import Household, Person, Stage, StageChange

    people = Person.objects.prefetch_related("emails", "phones")
    for person in people:
        assert person.sort_name == normalize.sort_key(person.family_name, person.given_name)
        assert person.given_sort == normalize.fold(person.given_name)[:100]
        assert person.given_name == normalize.nfc(person.given_name)
        assert person.has_email == bool(person.emails.all())
        assert person.has_phone == bool(person.phones.all())
        assert person.household_id is not None
        primaries = [e.is_primary for e in person.emails.all()]
        assert primaries.count(True) == (1 if primaries else 0)
    for household in Household.objects.all():
        assert household.address_key == normalize.address_key(
            household.street, household.unit, household.city, household.state, household.zip_code
        )
        assert household.precinct_code and household.ward_code
    for person in Person.objects.exclude(stage=Stage.UNKNOWN)[:100]:
        changes = list(StageChange.objects.filter(person=person).order_by("at", "id"))
        assert changes[0].from_stage == Stage.UNKNOWN
        assert changes[-1].to_stage == person.stage


def test_the_demo_is_bilingual_and_varied(demo_db):
    from leaven.people.models import Email, Person, Phone, Stage

    spanish = Person.objects.filter(language="es").count()
    assert PEOPLE * 0.3 < spanish < PEOPLE * 0.6
    assert Person.objects.filter(family_name__in=["Muñoz", "Peña", "Núñez", "Ibáñez"]).exists()
    stages = set(Person.objects.values_list("stage", flat=True))
    assert stages == set(Stage.values)
    assert Person.objects.filter(stage=Stage.LEADER).count() < PEOPLE * 0.1
    assert Email.objects.filter(status=Email.Status.UNSUBSCRIBED).exists()
    assert Phone.objects.filter(sms_status=Phone.SMSStatus.OPTED_OUT).exists()


def test_a_coordinator_sees_only_their_committee(demo_db):
    from leaven.core.models import RoleAssignment, User
    from leaven.people.models import Person
    from leaven.people.selectors import PersonFilters, person_count

    coordinator = User.objects.get(email="coordinator@demo.example.org")
    committee = RoleAssignment.objects.get(user=coordinator).unit
    own = Person.objects.filter(owner_unit=committee).count()
    assert 0 < own < PEOPLE
    assert person_count(actor=coordinator, filters=PersonFilters()) == own
    other = User.objects.get(email="coordinator.maryvale@demo.example.org")
    other_committee = RoleAssignment.objects.get(user=other).unit
    assert person_count(actor=coordinator, filters=PersonFilters(unit=other_committee.pk)) == 0
    admin = User.objects.get(email="admin@demo.example.org")
    assert person_count(actor=admin, filters=PersonFilters()) == PEOPLE


def test_the_printed_logins_cover_every_role_and_work(demo_db, client):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth import authenticate

    from leaven.core.models import Role, User
    from leaven.people.demo import DEMO_PASSWORD, demo_code

    rows = [line.split() for line in demo_db.splitlines() if "@demo.example.org" in line]
    assert {row[2] for row in rows} == set(Role.values)
    assert all(row[1] == DEMO_PASSWORD for row in rows)
    assert "leaven democode" in demo_db
    for email in (row[0] for row in rows):
        user = User.objects.get(email=email)
        assert authenticate(email=email, password=DEMO_PASSWORD) == user
        authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
        assert TOTP(authenticator).validate_code(demo_code())

    out = StringIO()
    call_command("democode", stdout=out, stderr=StringIO())
    assert re.fullmatch(r"\d{6}", out.getvalue().strip())

    admin = User.objects.get(email="admin@demo.example.org")
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/people/").status_code == 200  # MFA is set up: no detour

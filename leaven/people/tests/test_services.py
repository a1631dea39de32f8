"""Writes for people: the rules each service enforces and the audit event each leaves."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from leaven.core.models import AuditEvent
from leaven.people import services
from leaven.people.models import (
    Affiliation,
    Email,
    Household,
    Note,
    PartnerOrganization,
    Person,
    PersonUnit,
    Phone,
    Relationship,
    StageChange,
    Tag,
    Tagging,
)
from leaven.people.services import EmailInput, PhoneInput


def _events(verb, person=None):
    qs = AuditEvent.objects.filter(verb=verb)
    if person is not None:
        qs = qs.filter(object_type="person", object_id=str(person.pk))
    return qs


# person_create


def test_person_create_needs_only_a_given_name(coordinator, tree):
    """A person needs a given name and nothing else: no email, no phone, no voter record."""
    person = services.person_create(
        actor=coordinator, owner_unit=tree.committee_a, given_name="Ana"
    )
    person.refresh_from_db()
    assert person.given_name == "Ana"
    assert person.family_name == ""
    assert not person.has_email and not person.has_phone
    assert person.household is None
    assert person.stage == "unknown"
    assert person.created_by == coordinator
    assert not person.emails.exists() and not person.phones.exists()


def test_person_create_links_owner_unit(coordinator, tree):
    """The new person belongs to the unit that owns their record."""
    person = services.person_create(actor=coordinator, owner_unit=tree.circle_a, given_name="Ana")
    assert list(PersonUnit.objects.filter(person=person).values_list("unit_id", flat=True)) == [
        tree.circle_a.pk
    ]


def test_person_create_is_audited(coordinator, tree):
    """Creating a person leaves a person.created event naming the actor and the unit."""
    person = services.person_create(
        actor=coordinator, owner_unit=tree.committee_a, given_name="Ana"
    )
    event = _events("person.created", person).get()
    assert event.actor == coordinator
    assert event.unit == tree.committee_a
    assert event.detail == {}


def test_person_create_normalizes_names(coordinator, tree):
    """Names are stored composed and trimmed; sort keys are folded."""
    person = services.person_create(
        actor=coordinator,
        owner_unit=tree.committee_a,
        given_name="  Mari\u0301a ",
        family_name="MUN\u0303OZ",
    )
    assert person.given_name == "María"
    assert person.family_name == "MUÑOZ"
    assert person.sort_name == "munoz\x1fmaria"
    assert person.given_sort == "maria"


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"given_name": "   "}, "given_name"),
        ({"given_name": "Ana", "stage": "champion"}, "stage"),
        ({"given_name": "Ana", "language": "english please"}, "language"),
    ],
)
def test_person_create_checks_fields(coordinator, tree, fields, error_field):
    """A blank given name, an unknown stage or a malformed language code is refused."""
    with pytest.raises(ValidationError) as excinfo:
        services.person_create(actor=coordinator, owner_unit=tree.committee_a, **fields)
    assert error_field in excinfo.value.message_dict
    assert not Person.objects.exists()


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_person_create_refused_without_edit_rights(request, who, tree):
    """A viewer, or a coordinator of another committee, cannot add people to committee A."""
    actor = request.getfixturevalue(who)
    with pytest.raises(ValidationError):
        services.person_create(actor=actor, owner_unit=tree.committee_a, given_name="Ana")
    assert not Person.objects.exists()
    assert not AuditEvent.objects.filter(verb="person.created").exists()


def test_person_create_with_stage_records_history(coordinator, tree):
    """Creating someone above the bottom rung writes the first stage change."""
    person = services.person_create(
        actor=coordinator, owner_unit=tree.committee_a, given_name="Ana", stage="volunteer"
    )
    change = StageChange.objects.get(person=person)
    assert (change.from_stage, change.to_stage) == ("unknown", "volunteer")
    assert change.actor == coordinator


def test_person_create_with_contacts(coordinator, tree):
    """Contact points are normalized, the first becomes primary, and each carries consent."""
    person = services.person_create(
        actor=coordinator,
        owner_unit=tree.committee_a,
        given_name="Ana",
        emails=[EmailInput(address="Ana@Example.NET"), EmailInput(address="ana2@example.net")],
        phones=[
            PhoneInput(number="(312) 555-0101", sms_status=Phone.SMSStatus.OPTED_IN),
            PhoneInput(number="773-555-0102"),
        ],
    )
    person.refresh_from_db()
    assert person.has_email and person.has_phone
    emails = list(person.emails.order_by("id"))
    assert [e.address for e in emails] == ["ana@example.net", "ana2@example.net"]
    assert [e.is_primary for e in emails] == [True, False]
    assert all(e.consent_at is not None for e in emails)
    phones = list(person.phones.order_by("id"))
    assert [p.number for p in phones] == ["+13125550101", "+17735550102"]
    assert phones[0].sms_status == Phone.SMSStatus.OPTED_IN
    assert phones[0].consent_at is not None
    assert phones[1].sms_status == Phone.SMSStatus.NONE
    assert phones[1].consent_at is None
    assert _events("email.added", person).count() == 2
    assert _events("phone.added", person).count() == 2


def test_person_create_bad_contact_creates_nothing(coordinator, tree):
    """A bad phone number refuses the whole creation: no half-made person is left."""
    with pytest.raises(ValidationError):
        services.person_create(
            actor=coordinator,
            owner_unit=tree.committee_a,
            given_name="Ana",
            emails=[EmailInput(address="ana@example.net")],
            phones=[PhoneInput(number="12")],
        )
    assert not Person.objects.exists()
    assert not Email.objects.exists()
    assert not AuditEvent.objects.filter(verb__startswith="person.").exists()


# person_update and stage


def test_person_update_records_field_names(coordinator, make_person):
    """An edit saves the new values and records which fields changed, not the values."""
    person = make_person()
    services.person_update(
        actor=coordinator,
        person=person,
        given_name="Mariana",
        family_name="Muñoz",
        pronouns="she/her",
        language="es",
    )
    person.refresh_from_db()
    assert (person.given_name, person.pronouns, person.language) == ("Mariana", "she/her", "es")
    assert person.sort_name == "munoz\x1fmariana"
    event = _events("person.updated", person).get()
    assert event.actor == coordinator
    assert sorted(event.detail["fields"]) == ["given_name", "language", "pronouns"]


def test_person_update_blank_given_name_refused(coordinator, make_person):
    """A person cannot lose their given name."""
    person = make_person()
    with pytest.raises(ValidationError):
        services.person_update(actor=coordinator, person=person, given_name=" ", family_name="")
    assert Person.objects.get(pk=person.pk).given_name == "María"


def test_stage_history(coordinator, captain, make_person):
    """Each move on the ladder is kept with who, why and from where to where."""
    person = make_person()
    services.person_set_stage(actor=coordinator, person=person, stage="contacted", reason="Door")
    services.person_set_stage(actor=captain, person=person, stage="volunteer", reason="Shift")
    history = list(StageChange.objects.filter(person=person).order_by("at", "id"))
    assert [(h.from_stage, h.to_stage, h.reason, h.actor) for h in history] == [
        ("unknown", "contacted", "Door", coordinator),
        ("contacted", "volunteer", "Shift", captain),
    ]
    person.refresh_from_db()
    assert person.stage == "volunteer"
    events = _events("person.stage_changed", person).order_by("at", "id")
    assert [e.detail for e in events] == [
        {"from": "unknown", "to": "contacted"},
        {"from": "contacted", "to": "volunteer"},
    ]


def test_stage_same_stage_is_a_no_op(coordinator, make_person):
    """Setting the stage a person already has writes nothing."""
    person = make_person()
    services.person_set_stage(actor=coordinator, person=person, stage="unknown")
    assert not StageChange.objects.filter(person=person).exists()
    assert not _events("person.stage_changed", person).exists()


def test_stage_unknown_refused(coordinator, make_person):
    """Only the ladder's stages are accepted."""
    person = make_person()
    with pytest.raises(ValidationError):
        services.person_set_stage(actor=coordinator, person=person, stage="boss")


# contact points


def test_duplicate_email_for_same_person_refused(coordinator, make_person):
    """One person cannot hold the same address twice, however it is written."""
    person = make_person(emails=[EmailInput(address="ana@example.net")])
    with pytest.raises(ValidationError) as excinfo:
        services.email_add(
            actor=coordinator, person=person, data=EmailInput(address=" ANA@example.net")
        )
    assert "address" in excinfo.value.message_dict
    assert person.emails.count() == 1


def test_same_email_on_two_people_allowed(coordinator, make_person):
    """Two people (a couple sharing an address) may hold the same email."""
    make_person(given_name="Ana", emails=[EmailInput(address="family@example.net")])
    luis = make_person(given_name="Luis")
    services.email_add(
        actor=coordinator, person=luis, data=EmailInput(address="family@example.net")
    )
    assert Email.objects.count() == 2


def test_duplicate_phone_for_same_person_refused(coordinator, make_person):
    """One person cannot hold the same number twice, in whatever format."""
    person = make_person(phones=[PhoneInput(number="312-555-0101")])
    with pytest.raises(ValidationError) as excinfo:
        services.phone_add(
            actor=coordinator, person=person, data=PhoneInput(number="+1 (312) 555 0101")
        )
    assert "number" in excinfo.value.message_dict
    assert person.phones.count() == 1


def test_new_primary_replaces_old(coordinator, make_person):
    """Adding a primary phone makes the previous primary a secondary one."""
    person = make_person(phones=[PhoneInput(number="312-555-0101")])
    services.phone_add(
        actor=coordinator, person=person, data=PhoneInput(number="312-555-0102", is_primary=True)
    )
    primaries = list(person.phones.filter(is_primary=True).values_list("number", flat=True))
    assert primaries == ["+13125550102"]


def test_email_add_sets_flag_and_audits(coordinator, make_person):
    """Adding an email marks the person as having one, and is audited without the address."""
    person = make_person()
    email = services.email_add(
        actor=coordinator, person=person, data=EmailInput(address="a@example.net")
    )
    person.refresh_from_db()
    assert person.has_email
    event = _events("email.added", person).get()
    assert event.detail == {"email": email.pk, "status": "subscribed"}


def test_bad_email_and_phone_refused(coordinator, make_person):
    """Malformed contact points are refused with the normalizer's message."""
    person = make_person()
    with pytest.raises(ValidationError, match="valid email"):
        services.email_add(actor=coordinator, person=person, data=EmailInput(address="ana@"))
    with pytest.raises(ValidationError, match="valid phone"):
        services.phone_add(actor=coordinator, person=person, data=PhoneInput(number="555"))
    with pytest.raises(ValidationError):
        services.phone_add(
            actor=coordinator, person=person, data=PhoneInput(number="312-555-0101", kind="pager")
        )
    assert not person.emails.exists() and not person.phones.exists()


def test_email_unsubscribe_cannot_be_lifted(coordinator, make_person):
    """Once unsubscribed, an email cannot be subscribed again from a staff page."""
    person = make_person(
        emails=[EmailInput(address="ana@example.net", status=Email.Status.UNSUBSCRIBED)]
    )
    email = person.emails.get()
    with pytest.raises(ValidationError) as excinfo:
        services.email_update(
            actor=coordinator,
            email=email,
            address="ana@example.net",
            status=Email.Status.SUBSCRIBED,
            is_primary=True,
        )
    assert "status" in excinfo.value.message_dict
    assert Email.objects.get(pk=email.pk).status == Email.Status.UNSUBSCRIBED


def test_email_update_changes_address_and_consent(coordinator, make_person):
    """An address can be corrected and a subscription ended; consent time is stamped."""
    person = make_person(emails=[EmailInput(address="ana@example.net")])
    email = person.emails.get()
    services.email_update(
        actor=coordinator,
        email=email,
        address="ana.q@example.net",
        status=Email.Status.UNSUBSCRIBED,
        is_primary=True,
    )
    email.refresh_from_db()
    assert email.address == "ana.q@example.net"
    assert email.status == Email.Status.UNSUBSCRIBED
    assert services.person_find_by_contact(email="ana.q@example.net") == [person.pk]
    assert services.person_find_by_contact(email="ana@example.net") == []
    event = _events("email.updated", person).get()
    assert sorted(event.detail["fields"]) == ["address", "status"]


def test_email_update_to_another_of_own_addresses_refused(coordinator, make_person):
    """Changing an address into one the person already has is refused."""
    person = make_person(
        emails=[EmailInput(address="a@example.net"), EmailInput(address="b@example.net")]
    )
    second = person.emails.get(address_index=person.emails.last().address_index)
    with pytest.raises(ValidationError):
        services.email_update(
            actor=coordinator,
            email=second,
            address=person.emails.exclude(pk=second.pk).get().address,
            status=Email.Status.SUBSCRIBED,
            is_primary=False,
        )


def test_sms_opt_out_cannot_be_lifted(coordinator, make_person):
    """Once opted out of SMS, a phone cannot be opted back in from a staff page."""
    person = make_person(
        phones=[PhoneInput(number="312-555-0101", sms_status=Phone.SMSStatus.OPTED_OUT)]
    )
    phone = person.phones.get()
    for status in (Phone.SMSStatus.OPTED_IN, Phone.SMSStatus.NONE):
        with pytest.raises(ValidationError) as excinfo:
            services.phone_update(
                actor=coordinator,
                phone=phone,
                number="312-555-0101",
                kind=Phone.Kind.MOBILE,
                sms_status=status,
                urgent_alerts=False,
                is_primary=True,
            )
        assert "sms_status" in excinfo.value.message_dict
    assert Phone.objects.get(pk=phone.pk).sms_status == Phone.SMSStatus.OPTED_OUT


def test_phone_update_changes_number_and_consent(coordinator, make_person):
    """A number can be corrected and consent given; the event lists what changed."""
    person = make_person(phones=[PhoneInput(number="312-555-0101")])
    phone = person.phones.get()
    services.phone_update(
        actor=coordinator,
        phone=phone,
        number="(312) 555-0199",
        kind=Phone.Kind.HOME,
        sms_status=Phone.SMSStatus.OPTED_IN,
        urgent_alerts=True,
        is_primary=True,
    )
    phone.refresh_from_db()
    assert phone.number == "+13125550199"
    assert phone.consent_at is not None
    event = _events("phone.updated", person).get()
    assert sorted(event.detail["fields"]) == ["kind", "number", "sms_status", "urgent_alerts"]


def test_opted_out_contacts_cannot_be_removed(coordinator, make_person):
    """An opted-out phone or unsubscribed email is kept so the opt-out keeps being honored."""
    person = make_person(
        emails=[EmailInput(address="ana@example.net", status=Email.Status.UNSUBSCRIBED)],
        phones=[PhoneInput(number="312-555-0101", sms_status=Phone.SMSStatus.OPTED_OUT)],
    )
    for contact in (person.emails.get(), person.phones.get()):
        with pytest.raises(ValidationError):
            services.contact_remove(actor=coordinator, contact=contact)
    assert person.emails.count() == 1 and person.phones.count() == 1


def test_contact_remove_promotes_next_primary(coordinator, make_person):
    """Removing the primary phone makes the next one primary; removing the last clears the flag."""
    person = make_person(
        phones=[PhoneInput(number="312-555-0101"), PhoneInput(number="312-555-0102")]
    )
    first, second = person.phones.order_by("id")
    services.contact_remove(actor=coordinator, contact=first)
    second.refresh_from_db()
    assert second.is_primary
    person.refresh_from_db()
    assert person.has_phone
    services.contact_remove(actor=coordinator, contact=second)
    person.refresh_from_db()
    assert not person.has_phone
    assert _events("phone.removed", person).count() == 2


# tags, units, relationships, notes, partners


def test_tag_and_untag(coordinator, make_person, tree):
    """A person is tagged once however often it is asked, and untagged; both are audited."""
    person = make_person()
    tag = services.tag_create(actor=coordinator, owner_unit=tree.committee_a, name=" Bus captains ")
    assert tag.name == "Bus captains"
    assert (
        services.tag_create(actor=coordinator, owner_unit=tree.committee_a, name="Bus captains")
        == tag
    )
    services.person_tag(actor=coordinator, person=person, tag=tag)
    services.person_tag(actor=coordinator, person=person, tag=tag)
    assert Tagging.objects.filter(person=person, tag=tag).count() == 1
    assert _events("person.tagged", person).count() == 1
    services.person_untag(actor=coordinator, person=person, tag=tag)
    services.person_untag(actor=coordinator, person=person, tag=tag)
    assert not Tagging.objects.filter(person=person).exists()
    assert _events("person.untagged", person).count() == 1
    assert AuditEvent.objects.filter(verb="tag.created", object_id=str(tag.pk)).count() == 1


def test_tag_needs_a_name(coordinator, tree):
    """A blank tag name is refused."""
    with pytest.raises(ValidationError):
        services.tag_create(actor=coordinator, owner_unit=tree.committee_a, name="  ")


def test_join_and_leave_unit(coordinator, make_person, tree):
    """A person joins a circle of the committee and leaves it again."""
    person = make_person()
    services.person_join_unit(actor=coordinator, person=person, unit=tree.circle_a)
    assert PersonUnit.objects.filter(person=person, unit=tree.circle_a).exists()
    assert _events("person.joined_unit", person).get().unit == tree.circle_a
    services.person_leave_unit(actor=coordinator, person=person, unit=tree.circle_a)
    assert not PersonUnit.objects.filter(person=person, unit=tree.circle_a).exists()
    assert _events("person.left_unit", person).count() == 1


def test_cannot_leave_owner_unit(coordinator, make_person, tree):
    """A person always belongs to the unit that holds their record."""
    person = make_person()
    with pytest.raises(ValidationError):
        services.person_leave_unit(actor=coordinator, person=person, unit=tree.committee_a)
    assert PersonUnit.objects.filter(person=person, unit=tree.committee_a).exists()


def test_cannot_join_unit_outside_own_scope(coordinator, make_person, tree):
    """A coordinator cannot put their person into another committee."""
    person = make_person()
    with pytest.raises(ValidationError):
        services.person_join_unit(actor=coordinator, person=person, unit=tree.committee_b)
    assert not PersonUnit.objects.filter(person=person, unit=tree.committee_b).exists()


def test_relationships(coordinator, make_person):
    """Two people are tied once per kind; an identical tie is refused; a tie can be removed."""
    ana = make_person(given_name="Ana")
    luis = make_person(given_name="Luis")
    rel = services.relationship_create(
        actor=coordinator, person=ana, other=luis, kind="recruited_by"
    )
    with pytest.raises(ValidationError):
        services.relationship_create(actor=coordinator, person=ana, other=luis, kind="recruited_by")
    services.relationship_create(actor=coordinator, person=ana, other=luis, kind="neighbor")
    assert Relationship.objects.filter(person=ana).count() == 2
    event = _events("relationship.created", ana).first()
    assert event.detail["other"] == luis.pk
    services.relationship_delete(actor=coordinator, relationship=rel)
    assert not Relationship.objects.filter(pk=rel.pk).exists()
    assert _events("relationship.deleted", ana).count() == 1


def test_relationship_with_self_refused(coordinator, make_person):
    """Nobody is related to themselves."""
    ana = make_person()
    with pytest.raises(ValidationError):
        services.relationship_create(actor=coordinator, person=ana, other=ana, kind="friend")
    assert not Relationship.objects.exists()


def test_relationship_unknown_kind_refused(coordinator, make_person):
    """Only the known kinds of relationship are accepted."""
    ana, luis = make_person(given_name="Ana"), make_person(given_name="Luis")
    with pytest.raises(ValidationError):
        services.relationship_create(actor=coordinator, person=ana, other=luis, kind="enemy")


def test_note_is_stored_encrypted(coordinator, make_person):
    """A note reads back as written and is not stored in plain text."""
    person = make_person()
    note = services.note_create(actor=coordinator, person=person, body="Works nights at the bakery")
    assert Note.objects.get(pk=note.pk).body == "Works nights at the bakery"
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM people_note WHERE id = %s", [note.pk])
        raw = cursor.fetchone()[0]
    assert "bakery" not in raw
    assert raw.startswith("v1:")
    with pytest.raises(ValidationError):
        services.note_create(actor=coordinator, person=person, body="   ")


def test_partner_and_affiliation(coordinator, make_person, tree):
    """A partner organization is created once per unit and a person affiliated once."""
    person = make_person()
    union = services.partner_create(
        actor=coordinator, owner_unit=tree.committee_a, name="SEIU Local 1", sector="labor"
    )
    again = services.partner_create(
        actor=coordinator, owner_unit=tree.committee_a, name="SEIU Local 1", sector="labor"
    )
    assert union == again
    with pytest.raises(ValidationError):
        services.partner_create(
            actor=coordinator, owner_unit=tree.committee_a, name="X", sector="lobbyists"
        )
    services.affiliation_create(
        actor=coordinator, person=person, organization=union, title="Steward"
    )
    services.affiliation_create(actor=coordinator, person=person, organization=union)
    assert Affiliation.objects.get(person=person).title == "Steward"
    assert _events("affiliation.created", person).count() == 1


# households


def test_households_grouped_by_address_key(coordinator, make_person, tree):
    """Two spellings of one dwelling give one household; people there share it."""
    ana, luis = make_person(given_name="Ana"), make_person(given_name="Luis")
    one = services.household_get_or_create(
        actor=coordinator,
        owner_unit=tree.committee_a,
        street="123 N. Main Street Apt 4",
        city="Chicago",
        state="il",
        zip_code="60608",
    )
    two = services.household_get_or_create(
        actor=coordinator,
        owner_unit=tree.committee_a,
        street="123 north main st",
        unit="#4",
        city="CHICAGO",
        state="IL",
        zip_code="60608",
    )
    other = services.household_get_or_create(
        actor=coordinator,
        owner_unit=tree.committee_a,
        street="123 N Main St",
        unit="5",
        city="Chicago",
        state="IL",
        zip_code="60608",
    )
    assert one == two
    assert other != one
    assert one.state == "IL"
    services.person_set_household(actor=coordinator, person=ana, household=one)
    services.person_set_household(actor=coordinator, person=luis, household=two)
    assert set(one.residents.all()) == {ana, luis}
    assert Household.objects.count() == 2
    assert AuditEvent.objects.filter(verb="household.created").count() == 2
    assert _events("person.household_changed", ana).get().detail == {"from": None, "to": one.pk}


def test_same_address_in_two_committees_is_two_households(coordinator, outsider, tree):
    """Each committee keeps its own household records."""
    a = services.household_get_or_create(
        actor=coordinator,
        owner_unit=tree.committee_a,
        street="1 Main St",
        city="Chicago",
        state="IL",
    )
    b = services.household_get_or_create(
        actor=outsider, owner_unit=tree.committee_b, street="1 Main St", city="Chicago", state="IL"
    )
    assert a != b


@pytest.mark.parametrize(
    "fields",
    [
        {"street": "", "city": "Chicago", "state": "IL"},
        {"street": "1 Main St", "city": "", "state": "IL"},
        {"street": "1 Main St", "city": "Chicago", "state": "Illinois"},
        {"street": "1 Main St", "city": "Chicago", "state": "I1"},
        {"street": "1 Main St", "city": "Chicago", "state": "IL", "zip_code": "606"},
        {"street": "1 Main St", "city": "Chicago", "state": "IL", "zip_code": "ABCDE"},
    ],
)
def test_household_address_checks(coordinator, tree, fields):
    """An address needs a street, a city, a two-letter state and a well-formed ZIP code."""
    with pytest.raises(ValidationError):
        services.household_get_or_create(actor=coordinator, owner_unit=tree.committee_a, **fields)
    assert not Household.objects.exists()


def test_person_cannot_move_into_another_committees_household(
    coordinator, outsider, make_person, tree
):
    """A coordinator cannot attach their person to a household of another committee."""
    person = make_person()
    theirs = services.household_get_or_create(
        actor=outsider, owner_unit=tree.committee_b, street="9 Elm St", city="Chicago", state="IL"
    )
    with pytest.raises(ValidationError):
        services.person_set_household(actor=coordinator, person=person, household=theirs)
    person.refresh_from_db()
    assert person.household is None


# find by contact


def test_person_find_by_contact(make_person):
    """People are found by an exact email or phone in any format, through the blind index."""
    ana = make_person(
        given_name="Ana",
        emails=[EmailInput(address="ana@example.net")],
        phones=[PhoneInput(number="312-555-0101")],
    )
    luis = make_person(given_name="Luis", phones=[PhoneInput(number="3125550101")])
    assert services.person_find_by_contact(email="ANA@example.net") == [ana.pk]
    assert services.person_find_by_contact(phone="(312) 555-0101") == sorted([ana.pk, luis.pk])
    assert services.person_find_by_contact(email="nobody@example.net") == []
    assert services.person_find_by_contact() == []


# the outsider


@pytest.fixture
def setting(make_person, tree, admin):
    """A committee A person with everything attached, and things of committee B to aim at."""
    person = make_person(
        given_name="Ana",
        emails=[EmailInput(address="ana@example.net")],
        phones=[PhoneInput(number="312-555-0101")],
    )
    other = make_person(given_name="Luis")
    theirs = make_person(tree.committee_b, given_name="Beto")
    tag = services.tag_create(actor=admin, owner_unit=tree.committee_a, name="Choir")
    services.person_tag(actor=admin, person=person, tag=tag)
    services.person_join_unit(actor=admin, person=person, unit=tree.circle_a)
    relationship = services.relationship_create(
        actor=admin, person=person, other=other, kind="friend"
    )
    partner = services.partner_create(
        actor=admin, owner_unit=tree.committee_a, name="Parish", sector="faith"
    )
    household = services.household_get_or_create(
        actor=admin, owner_unit=tree.committee_a, street="1 Main St", city="Chicago", state="IL"
    )
    return {
        "person": person,
        "other": other,
        "theirs": theirs,
        "tag": tag,
        "relationship": relationship,
        "partner": partner,
        "household": household,
        "email": person.emails.get(),
        "phone": person.phones.get(),
    }


def _writes(s, tree):
    """Every people service, aimed at committee A's person or unit."""
    p = s["person"]
    return {
        "person_create": lambda a: services.person_create(
            actor=a, owner_unit=tree.committee_a, given_name="X"
        ),
        "person_update": lambda a: services.person_update(
            actor=a, person=p, given_name="X", family_name="Y"
        ),
        "person_set_stage": lambda a: services.person_set_stage(actor=a, person=p, stage="leader"),
        "email_add": lambda a: services.email_add(
            actor=a, person=p, data=EmailInput(address="x@example.net")
        ),
        "phone_add": lambda a: services.phone_add(
            actor=a, person=p, data=PhoneInput(number="312-555-0199")
        ),
        "email_update": lambda a: services.email_update(
            actor=a,
            email=s["email"],
            address="x@example.net",
            status="unsubscribed",
            is_primary=True,
        ),
        "phone_update": lambda a: services.phone_update(
            actor=a,
            phone=s["phone"],
            number="312-555-0199",
            kind="home",
            sms_status="opted_out",
            urgent_alerts=True,
            is_primary=True,
        ),
        "contact_remove": lambda a: services.contact_remove(actor=a, contact=s["email"]),
        "tag_create": lambda a: services.tag_create(actor=a, owner_unit=tree.committee_a, name="Z"),
        "person_tag": lambda a: services.person_tag(actor=a, person=s["other"], tag=s["tag"]),
        "person_untag": lambda a: services.person_untag(actor=a, person=p, tag=s["tag"]),
        "person_join_unit": lambda a: services.person_join_unit(
            actor=a, person=p, unit=tree.committee_b
        ),
        "person_leave_unit": lambda a: services.person_leave_unit(
            actor=a, person=p, unit=tree.circle_a
        ),
        "relationship_create": lambda a: services.relationship_create(
            actor=a, person=p, other=s["theirs"], kind="neighbor"
        ),
        "relationship_delete": lambda a: services.relationship_delete(
            actor=a, relationship=s["relationship"]
        ),
        "partner_create": lambda a: services.partner_create(
            actor=a, owner_unit=tree.committee_a, name="Union", sector="labor"
        ),
        "affiliation_create": lambda a: services.affiliation_create(
            actor=a, person=p, organization=s["partner"]
        ),
        "note_create": lambda a: services.note_create(actor=a, person=p, body="hello"),
        "household_get_or_create": lambda a: services.household_get_or_create(
            actor=a, owner_unit=tree.committee_a, street="2 Main St", city="Chicago", state="IL"
        ),
        "person_set_household": lambda a: services.person_set_household(
            actor=a, person=p, household=s["household"]
        ),
    }


def _state():
    """Everything the people services can change, as comparable values."""
    models = [
        Person,
        PersonUnit,
        Email,
        Phone,
        Tag,
        Tagging,
        Relationship,
        StageChange,
        Note,
        Household,
        PartnerOrganization,
        Affiliation,
    ]
    state = {}
    for model in models:
        fields = [
            f.attname for f in model._meta.concrete_fields if not getattr(f, "encrypted", False)
        ]
        state[model.__name__] = sorted(model.objects.values_list(*fields), key=repr)
    state["emails"] = sorted(Email.objects.values_list("address", flat=True))
    state["phones"] = sorted(Phone.objects.values_list("number", flat=True))
    return state


WRITES = [
    "person_create",
    "person_update",
    "person_set_stage",
    "email_add",
    "phone_add",
    "email_update",
    "phone_update",
    "contact_remove",
    "tag_create",
    "person_tag",
    "person_untag",
    "person_join_unit",
    "person_leave_unit",
    "relationship_create",
    "relationship_delete",
    "partner_create",
    "affiliation_create",
    "note_create",
    "household_get_or_create",
    "person_set_household",
]


@pytest.mark.parametrize("write", WRITES)
def test_outsider_cannot_edit(outsider, setting, tree, write):
    """A coordinator of another committee cannot change anything of committee A's people."""
    before = _state()
    with pytest.raises(ValidationError):
        _writes(setting, tree)[write](outsider)
    assert _state() == before
    assert not AuditEvent.objects.filter(actor=outsider).exclude(verb="access.denied").exists()


@pytest.mark.parametrize("write", WRITES)
def test_viewer_cannot_edit(viewer, setting, tree, write):
    """A viewer of committee A sees its people but changes nothing."""
    before = _state()
    with pytest.raises(ValidationError):
        _writes(setting, tree)[write](viewer)
    assert _state() == before


# every write is audited, and no event holds personal data

SECRETS = {
    "given": "Xiomara",
    "family": "Quetzalcoatl",
    "preferred": "Xio",
    "email": "xiomara.q@example.net",
    "email2": "xq.second@example.net",
    "phone_e164": "+17735550142",
    "phone_digits": "7735550142",
    "phone2_e164": "+13125550177",
    "phone2_digits": "3125550177",
    "note": "Cleans offices downtown",
    "street": "4521 Wolcott",
    "other_given": "Yolotzin",
}


def _audit_dump():
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM core_auditevent")
        return "\n".join(repr(row) for row in cursor.fetchall())


def test_every_write_is_audited_without_personal_data(coordinator, tree):
    """Each people service leaves at least one audit event naming the actor, and the whole
    audit table never holds a name, an email, a phone number, a note or an address."""
    s = SECRETS
    steps = []

    def step(name, call):
        before = AuditEvent.objects.filter(actor=coordinator).count()
        result = call()
        after = AuditEvent.objects.filter(actor=coordinator).count()
        steps.append((name, after - before))
        return result

    person = step(
        "person_create",
        lambda: services.person_create(
            actor=coordinator,
            owner_unit=tree.committee_a,
            given_name=s["given"],
            family_name=s["family"],
            preferred_name=s["preferred"],
            stage="contacted",
            emails=[EmailInput(address=s["email"])],
            phones=[PhoneInput(number=s["phone_e164"])],
            sensitive_fields={"note": s["note"]},
        ),
    )
    other = step(
        "person_create_other",
        lambda: services.person_create(
            actor=coordinator, owner_unit=tree.committee_a, given_name=s["other_given"]
        ),
    )
    step(
        "person_update",
        lambda: services.person_update(
            actor=coordinator,
            person=person,
            given_name=s["given"],
            family_name=s["family"] + "-Ruiz",
            preferred_name=s["preferred"],
            custom_fields={"shirt": "M"},
        ),
    )
    step(
        "person_set_stage",
        lambda: services.person_set_stage(
            actor=coordinator, person=person, stage="leader", reason=s["note"]
        ),
    )
    email = step(
        "email_add",
        lambda: services.email_add(
            actor=coordinator, person=person, data=EmailInput(address=s["email2"])
        ),
    )
    phone = step(
        "phone_add",
        lambda: services.phone_add(
            actor=coordinator, person=person, data=PhoneInput(number=s["phone2_digits"])
        ),
    )
    step(
        "email_update",
        lambda: services.email_update(
            actor=coordinator,
            email=email,
            address=s["email2"],
            status="unsubscribed",
            is_primary=False,
        ),
    )
    step(
        "phone_update",
        lambda: services.phone_update(
            actor=coordinator,
            phone=phone,
            number=s["phone2_e164"],
            kind="home",
            sms_status="opted_in",
            urgent_alerts=True,
            is_primary=False,
        ),
    )
    step("contact_remove", lambda: services.contact_remove(actor=coordinator, contact=phone))
    tag = step(
        "tag_create",
        lambda: services.tag_create(actor=coordinator, owner_unit=tree.committee_a, name="Choir"),
    )
    step("person_tag", lambda: services.person_tag(actor=coordinator, person=person, tag=tag))
    step("person_untag", lambda: services.person_untag(actor=coordinator, person=person, tag=tag))
    step(
        "person_join_unit",
        lambda: services.person_join_unit(actor=coordinator, person=person, unit=tree.circle_a),
    )
    step(
        "person_leave_unit",
        lambda: services.person_leave_unit(actor=coordinator, person=person, unit=tree.circle_a),
    )
    rel = step(
        "relationship_create",
        lambda: services.relationship_create(
            actor=coordinator, person=person, other=other, kind="family"
        ),
    )
    step(
        "relationship_delete",
        lambda: services.relationship_delete(actor=coordinator, relationship=rel),
    )
    partner = step(
        "partner_create",
        lambda: services.partner_create(
            actor=coordinator, owner_unit=tree.committee_a, name="Parish", sector="faith"
        ),
    )
    step(
        "affiliation_create",
        lambda: services.affiliation_create(
            actor=coordinator, person=person, organization=partner, title="Usher"
        ),
    )
    step(
        "note_create",
        lambda: services.note_create(actor=coordinator, person=person, body=s["note"]),
    )
    household = step(
        "household_get_or_create",
        lambda: services.household_get_or_create(
            actor=coordinator,
            owner_unit=tree.committee_a,
            street=s["street"] + " Ave",
            city="Chicago",
            state="IL",
            zip_code="60609",
        ),
    )
    step(
        "person_set_household",
        lambda: services.person_set_household(
            actor=coordinator, person=person, household=household
        ),
    )

    silent = [name for name, count in steps if count < 1]
    assert silent == []

    dump = _audit_dump()
    assert str(person.pk) in dump
    lowered = dump.lower()
    for label, secret in s.items():
        assert secret.lower() not in lowered, label
    for word in (s["email"].split("@")[0], "wolcott", "quetzalcoatl", "xiomara"):
        assert word not in lowered


# objects from outside the actor's units


def test_relationship_to_someone_out_of_scope_refused(coordinator, make_person, tree):
    """A coordinator cannot link a person to someone of another committee, even by id."""
    person = make_person()
    stranger = make_person(tree.committee_b, given_name="Lena")
    with pytest.raises(ValidationError):
        services.relationship_create(
            actor=coordinator, person=person, other=stranger, kind="neighbor"
        )
    assert not Relationship.objects.exists()


def test_tag_of_another_committee_refused(coordinator, outsider, make_person, tree):
    """A tag made in another committee cannot be put on this committee's people."""
    person = make_person()
    foreign = services.tag_create(actor=outsider, owner_unit=tree.committee_b, name="Theirs")
    with pytest.raises(ValidationError):
        services.person_tag(actor=coordinator, person=person, tag=foreign)
    assert not Tagging.objects.filter(person=person).exists()


def test_tag_of_a_parent_unit_allowed(coordinator, admin, make_person, tree):
    """A network-wide tag can be used by a committee's coordinator."""
    person = make_person()
    shared = services.tag_create(actor=admin, owner_unit=tree.network, name="Bus to Springfield")
    services.person_tag(actor=coordinator, person=person, tag=shared)
    assert Tagging.objects.filter(person=person, tag=shared).exists()


def test_partner_of_another_committee_refused(coordinator, outsider, make_person, tree):
    """A partner organization of another committee cannot be linked to this one's people."""
    person = make_person()
    partner = services.partner_create(
        actor=outsider, owner_unit=tree.committee_b, name="Their union", sector="labor"
    )
    with pytest.raises(ValidationError):
        services.affiliation_create(actor=coordinator, person=person, organization=partner)
    assert not Affiliation.objects.exists()


# contact_consent_merge: what a person says about themselves on a form


def test_consent_merge_turns_on_consent_given_now(coordinator, make_person):
    """An email known without consent becomes subscribed when the person ticks the box."""
    person = make_person(emails=[EmailInput("ana@example.org", status="none")])
    services.contact_consent_merge(
        actor=coordinator, person=person, email="ANA@example.org", email_consent=True
    )
    assert person.emails.get().status == Email.Status.SUBSCRIBED
    assert _events("email.consent_given", person).count() == 1


def test_consent_merge_never_lifts_an_unsubscribe_or_opt_out(coordinator, make_person):
    """Ticking a box on a form does not undo an unsubscribe or an SMS opt-out."""
    person = make_person(
        emails=[EmailInput("ana@example.org", status="unsubscribed")],
        phones=[PhoneInput("312-555-0142", sms_status="opted_out")],
    )
    services.contact_consent_merge(
        actor=coordinator,
        person=person,
        email="ana@example.org",
        email_consent=True,
        phone="(312) 555-0142",
        sms_consent=True,
    )
    assert person.emails.get().status == Email.Status.UNSUBSCRIBED
    assert person.phones.get().sms_status == Phone.SMSStatus.OPTED_OUT


def test_consent_merge_attaches_new_addresses_only_when_asked(coordinator, make_person):
    """A public form never adds a new email or phone to a record it matched; the person's
    own signed link may, and then without consent unless they gave it."""
    person = make_person()
    services.contact_consent_merge(
        actor=coordinator, person=person, email="new@example.org", phone="312-555-0150"
    )
    assert not person.emails.exists() and not person.phones.exists()
    services.contact_consent_merge(
        actor=coordinator,
        person=person,
        email="new@example.org",
        phone="312-555-0150",
        add_new=True,
    )
    assert person.emails.get().status == Email.Status.NONE
    assert person.phones.get().sms_status == Phone.SMSStatus.NONE
    person.refresh_from_db()
    assert person.has_email and person.has_phone

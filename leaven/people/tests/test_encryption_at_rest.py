"""Encryption at rest: a copy of the database holds no email address, phone number, note or
sensitive field in plain text, in any table."""

from __future__ import annotations

from django.db import connection

from leaven.people import services
from leaven.people.models import Email, Note, Phone
from leaven.people.services import EmailInput, PhoneInput

PEOPLE = [
    ("Xochitl", "xochitl.ramirez@example.net", "(773) 555-0142"),
    ("Itzel", "ITZEL.Q@Example.NET", "312.555.0177"),
    ("Yaretzi", "yaretzi+bus@example.net", "+1 872 555 0119"),
]
NOTE = "Her brother was detained at the Broadview facility"
SENSITIVE = "Insulin every morning"


def _dump():
    """Every row of every table, read with raw SQL, as one lower-cased string."""
    parts = []
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {qn(table)}")  # noqa: S608
            parts.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(parts).lower()


def _forms(phone):
    """The ways a phone number might appear if it leaked."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    national = digits[-10:]
    return {
        "e164": "+1" + national,
        "digits": national,
        "with country": "1" + national,
        "dashed": f"{national[:3]}-{national[3:6]}-{national[6:]}",
        "dotted": f"{national[:3]}.{national[3:6]}.{national[6:]}",
        "national": f"({national[:3]}) {national[3:6]}-{national[6:]}",
        "subscriber": f"{national[3:6]}-{national[6:]}",
    }


def test_no_contact_data_in_plain_text(make_person, coordinator, client_for, tree):
    """Emails, phones (E.164, digits only or formatted), notes and sensitive fields made
    through services and pages appear nowhere in the database in plain text."""
    for given, email, phone in PEOPLE[:2]:
        person = make_person(
            given_name=given,
            emails=[EmailInput(address=email)],
            phones=[PhoneInput(number=phone, sms_status=Phone.SMSStatus.OPTED_IN)],
            sensitive_fields={"medication": SENSITIVE},
        )
        services.note_create(actor=coordinator, person=person, body=NOTE)
    given, email, phone = PEOPLE[2]
    client = client_for(coordinator)
    response = client.post(
        "/people/new/",
        {
            "owner_unit": tree.committee_a.pk,
            "given_name": given,
            "language": "es",
            "stage": "supporter",
            "email": email,
            "phone": phone,
            "sms_consent": "on",
        },
    )
    assert response.status_code == 302
    person_url = response["Location"]
    client.post(person_url + "notes/", {"body": NOTE})
    client.get(person_url)

    assert Email.objects.count() == 3
    assert Phone.objects.count() == 3
    assert Note.objects.count() == 3
    # The values do read back, so they are there, only encrypted.
    assert sorted(Email.objects.values_list("address", flat=True)) == sorted(
        e.lower() for _g, e, _p in PEOPLE
    )

    dump = _dump()
    assert "xochitl" in dump  # names are not encrypted: the dump did read the people
    for _given, email, phone in PEOPLE:
        assert email.lower() not in dump, email
        assert email.lower().split("@")[0] not in dump, email
        for label, form in _forms(phone).items():
            assert form not in dump, (phone, label)
    assert NOTE.lower() not in dump
    assert "broadview" not in dump
    assert SENSITIVE.lower() not in dump
    assert "insulin" not in dump


def test_contact_columns_hold_ciphertext(make_person):
    """The email and phone columns hold v1:<kid>: values and a keyed index, nothing else."""
    make_person(
        emails=[EmailInput(address="ana@example.net")], phones=[PhoneInput(number="312-555-0101")]
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT address, address_index FROM people_email")
        address, address_index = cursor.fetchone()
        cursor.execute("SELECT number, number_index FROM people_phone")
        number, number_index = cursor.fetchone()
    assert address.startswith("v1:") and number.startswith("v1:")
    assert len(address_index) == 32 and len(number_index) == 32
    assert "example" not in address_index and "5550101" not in number_index


def test_totp_secrets_are_encrypted(coordinator):
    """Authenticator secrets are stored encrypted, not as the base32 secret."""
    from conftest import TOTP_SECRET

    assert TOTP_SECRET.lower() not in _dump()

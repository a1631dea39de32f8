"""`leaven rotate-keys`: the operator's key rotation, from new key to dropped old key."""

from __future__ import annotations

from io import StringIO

from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.db import connection

from conftest import TOTP_SECRET
from leaven.core import crypto
from leaven.core.keys import encrypted_columns
from leaven.core.models import AuditEvent
from leaven.people.models import Person
from leaven.people.services import EmailInput, PhoneInput, note_create


def _all_encrypted_raw():
    """Every non-empty stored value of every encrypted column, read with raw SQL."""
    qn = connection.ops.quote_name
    values = []
    with connection.cursor() as cursor:
        for model, _name, column in encrypted_columns():
            cursor.execute(
                f"SELECT {qn(column)} FROM {qn(model._meta.db_table)} "  # noqa: S608
                f"WHERE {qn(column)} IS NOT NULL AND {qn(column)} <> ''"
            )
            values += [(f"{model._meta.label}.{column}", row[0]) for row in cursor.fetchall()]
    return values


def _snapshot():
    """What every person's encrypted fields read as, through the models."""
    return {
        person.pk: (
            sorted(e.address for e in person.emails.all()),
            sorted(p.number for p in person.phones.all()),
            sorted(n.body for n in person.notes.all()),
            person.sensitive_fields,
        )
        for person in Person.objects.order_by("pk")
    }


def test_rotate_keys_then_drop_old_key(use_keys, make_person, admin, coordinator):
    """Put a new key first, run rotate-keys: every stored value is under the new key and reads
    the same; then drop the old key and everything, sign-in secrets included, still reads."""
    old = "k1:" + crypto.generate_key()
    use_keys(old)
    # The fixture users' authenticators were written under the development key: re-seal them
    # under k1 so that, as in production, there is exactly one old key.
    for authenticator in Authenticator.objects.all():
        authenticator.data = {**authenticator.data, "secret": crypto.encrypt(TOTP_SECRET)}
        authenticator.save()
    for n in range(7):
        person = make_person(
            given_name=f"Persona{n}",
            emails=[EmailInput(address=f"persona{n}@example.net")],
            phones=[PhoneInput(number=f"(773) 555-01{n:02d}")],
            sensitive_fields={"allergy": f"peanuts {n}"},
        )
        note_create(actor=admin, person=person, body=f"Note number {n}")
    before = _snapshot()
    assert all(value.startswith("v1:k1:") for _label, value in _all_encrypted_raw())

    new = "k2:" + crypto.generate_key()
    use_keys(f"{new},{old}")
    out = StringIO()
    call_command("rotate_keys", "--batch-size", "3", stdout=out)

    values = _all_encrypted_raw()
    assert len(values) == 7 * 4
    for label, value in values:
        assert value.startswith("v1:k2:"), label
    assert _snapshot() == before
    assert "Done: " in out.getvalue()
    event = AuditEvent.objects.get(verb="keys.rotated")
    assert event.source == AuditEvent.Source.COMMAND
    assert event.detail["people.Email.address"] == 7

    use_keys(new)
    assert _snapshot() == before
    for authenticator in Authenticator.objects.filter(type=Authenticator.Type.TOTP):
        assert crypto.decrypt(authenticator.data["secret"]) == TOTP_SECRET


def test_rotate_keys_with_nothing_to_do(make_person):
    """With everything already under the primary key, the command rewrites nothing."""
    make_person(emails=[EmailInput(address="x@example.net")])
    values = _all_encrypted_raw()
    out = StringIO()
    call_command("rotate_keys", stdout=out)
    assert "Done: 0 values" in out.getvalue()
    assert _all_encrypted_raw() == values

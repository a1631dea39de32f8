"""Key rotation: every value written under an older key is rewritten under the primary one."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.db import connection

from conftest import TOTP_SECRET
from leaven.core import crypto
from leaven.core.keys import encrypted_columns, rotate_all
from leaven.core.models import AuditEvent
from leaven.people.models import Email, Note, Person, Phone
from leaven.people.services import EmailInput, PhoneInput, note_create


def _raw_values(model, column):
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {qn(column)} FROM {qn(model._meta.db_table)} "  # noqa: S608
            f"WHERE {qn(column)} IS NOT NULL AND {qn(column)} <> ''"
        )
        return [row[0] for row in cursor.fetchall()]


def _people(make_person, admin):
    ana = make_person(
        given_name="Ana",
        emails=[EmailInput(address="ana@example.net")],
        phones=[PhoneInput(number="312-555-0101")],
        sensitive_fields={"health": "asthma"},
    )
    luis = make_person(given_name="Luis", emails=[EmailInput(address="luis@example.net")])
    note_create(actor=admin, person=ana, body="Met at the parish on Sunday")
    return ana, luis


def test_encrypted_columns_are_found(db):
    """Rotation finds every encrypted column of every installed model by itself."""
    found = {(model, name) for model, name, _column in encrypted_columns()}
    assert (Email, "address") in found
    assert (Phone, "number") in found
    assert (Note, "body") in found
    assert (Person, "sensitive_fields") in found
    assert all(getattr(model._meta.get_field(name), "encrypted", False) for model, name in found)


def test_rotate_all_rewrites_under_primary(use_keys, key_spec, make_person, admin):
    """After a new key is put first, rotation leaves no value under the old key."""
    ana, _luis = _people(make_person, admin)
    old = key_spec()
    use_keys(f"k2:{crypto.generate_key()},{old}")
    counts = rotate_all(actor=admin, batch_size=1)
    assert counts["people.Email.address"] == 2
    assert counts["people.Phone.number"] == 1
    assert counts["people.Note.body"] == 1
    assert counts["people.Person.sensitive_fields"] == 1
    for model, _name, column in encrypted_columns():
        for value in _raw_values(model, column):
            assert value.startswith("v1:k2:"), (model, column)
    ana = Person.objects.get(pk=ana.pk)
    assert ana.sensitive_fields == {"health": "asthma"}
    assert ana.emails.get().address == "ana@example.net"
    assert ana.phones.get().number == "+13125550101"
    assert ana.notes.get().body == "Met at the parish on Sunday"


def test_rotate_all_twice_rewrites_nothing_the_second_time(use_keys, key_spec, make_person, admin):
    """Rotation is safe to repeat: the second run finds nothing to do."""
    _people(make_person, admin)
    use_keys(f"k2:{crypto.generate_key()},{key_spec()}")
    assert sum(rotate_all(actor=admin).values()) > 0
    before = {
        column: sorted(_raw_values(model, column)) for model, _n, column in encrypted_columns()
    }
    assert sum(rotate_all(actor=admin).values()) == 0
    after = {
        column: sorted(_raw_values(model, column)) for model, _n, column in encrypted_columns()
    }
    assert before == after


def test_rotate_all_records_one_event_without_personal_data(use_keys, key_spec, make_person, admin):
    """Each rotation leaves one keys.rotated event with counts and the new key id only."""
    _people(make_person, admin)
    use_keys(f"k2:{crypto.generate_key()},{key_spec()}")
    rotate_all(actor=admin)
    event = AuditEvent.objects.get(verb="keys.rotated")
    assert event.actor == admin
    assert event.detail["primary"] == "k2"
    text = str(event.detail)
    for secret in ("ana@example.net", "5550101", "asthma", "parish"):
        assert secret not in text


def test_rotate_all_rewrites_authenticator_secrets(use_keys, key_spec, coordinator):
    """Authenticator (TOTP) secrets are encrypted with the same keys and rotate with them,
    so dropping the old key does not lock anyone out."""
    authenticator = Authenticator.objects.get(user=coordinator, type=Authenticator.Type.TOTP)
    assert crypto.decrypt(authenticator.data["secret"]) == TOTP_SECRET
    old = key_spec()
    new = f"k2:{crypto.generate_key()}"
    use_keys(f"{new},{old}")
    rotate_all(actor=None)
    authenticator.refresh_from_db()
    assert authenticator.data["secret"].startswith("v1:k2:")
    use_keys(new)
    assert crypto.decrypt(authenticator.data["secret"]) == TOTP_SECRET


def test_rotate_all_rewrites_recovery_code_seeds(use_keys, key_spec, coordinator):
    """Recovery codes are derived from an encrypted seed; they still work after rotation."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    codes = RecoveryCodes.activate(coordinator).generate_codes()
    old = key_spec()
    new = f"k2:{crypto.generate_key()}"
    use_keys(f"{new},{old}")
    rotate_all(actor=None)
    use_keys(new)
    instance = Authenticator.objects.get(user=coordinator, type=Authenticator.Type.RECOVERY_CODES)
    assert instance.data["seed"].startswith("v1:k2:")
    assert RecoveryCodes(instance).generate_codes() == codes

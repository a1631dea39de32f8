"""The public join page: phone-first and bilingual, refuses bots (a honeypot, a minimum fill
time, a rate limit per address), keeps every answer when something is wrong, matches people
already known instead of duplicating them, and never says whether someone was known."""

from __future__ import annotations

import time

import pytest

from leaven.membership.forms import started_token
from leaven.membership.models import Membership, MembershipReminder
from leaven.people.models import Email, Person, Phone
from leaven.people.services import EmailInput, PhoneInput


def _url(tree):
    return f"/join/{tree.committee_a.slug}/"


def _form(tiers, **overrides):
    data = {
        "given_name": "Lucía",
        "family_name": "Hernández",
        "phone": "(312) 555-0142",
        "email": "lucia@example.org",
        "language": "es",
        "tier": str(tiers[0].pk),
        "amount": "5",
        "pay_with": "cash",
        "website": "",
        "started": started_token(time.time() - 30),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_get_page_in_spanish(client, tree, tiers):
    response = client.get(_url(tree), HTTP_ACCEPT_LANGUAGE="es")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Únase a Pilsen" in body
    assert "Escala móvil" in body
    assert 'name="website"' in body and 'name="started"' in body


def test_unit_without_tiers_has_no_join_page(client, tree, tiers):
    assert client.get(f"/join/{tree.committee_b.slug}/").status_code == 404
    assert client.get("/join/no-such-unit/").status_code == 404


def test_join_creates_person_membership_and_consent_only_when_ticked(client, tree, tiers):
    """A new member: one person in the committee, a pending membership at the amount they
    chose, a welcome message queued, SMS consent only because the box was ticked and no
    email news because that box was not."""
    response = client.post(_url(tree), _form(tiers, sms_consent="on"))
    assert response.status_code == 302
    assert response["Location"] == f"/join/{tree.committee_a.slug}/thanks/"
    person = Person.objects.get()
    assert (person.given_name, person.language, person.owner_unit) == (
        "Lucía",
        "es",
        tree.committee_a,
    )
    membership = Membership.objects.get()
    assert (membership.status, membership.amount_cents, membership.pay_with) == (
        "pending",
        500,
        "cash",
    )
    assert Phone.objects.get().sms_status == "opted_in"
    assert (
        Email.objects.get().status == "none"
    )  # no news box ticked: no consent, not an unsubscribe
    assert MembershipReminder.objects.get().kind == "welcome"


def test_no_sms_consent_without_the_box(client, tree, tiers):
    client.post(_url(tree), _form(tiers, email_consent="on"))
    assert Phone.objects.get().sms_status == "none"
    assert Email.objects.get().status == "subscribed"


def test_same_email_twice_updates_one_person_and_same_response(client, tree, tiers):
    """Joining twice with the same email leaves one person and one membership, and the
    answer is exactly the same as the first time: nothing tells whether the email was known.
    A phone typed on the second form is not attached to the matched record: knowing
    someone's email must not let anyone add their own number to that person."""
    first = client.post(_url(tree), _form(tiers, phone=""))
    second = client.post(
        _url(tree), _form(tiers, phone="(312) 555-0199", given_name="Lucia", sms_consent="on")
    )
    assert (first.status_code, first["Location"]) == (second.status_code, second["Location"])
    assert Person.objects.count() == 1
    assert Membership.objects.count() == 1
    person = Person.objects.get()
    assert person.given_name == "Lucía"
    assert not person.phones.exists()
    thanks_first = client.get(first["Location"]).content
    assert b"received your membership form" in thanks_first


def test_existing_person_in_the_organization_is_matched(client, tree, tiers, make_person):
    """Someone already in the database (here in a circle of the committee) is matched by
    phone, added to the committee, and their SMS opt-out is never lifted."""
    known = make_person(
        tree.circle_a,
        given_name="Rosa",
        phones=[PhoneInput(number="(312) 555-0142", sms_status="opted_out")],
        emails=[EmailInput(address="rosa@example.org", status="unsubscribed")],
    )
    response = client.post(
        _url(tree),
        _form(tiers, email="rosa@example.org", sms_consent="on", email_consent="on"),
    )
    assert response.status_code == 302
    assert Person.objects.count() == 1
    known.refresh_from_db()
    assert known.unit_links.filter(unit=tree.committee_a).exists()
    assert known.phones.get().sms_status == "opted_out"
    assert known.emails.get().status == "unsubscribed"
    assert Membership.objects.get().person == known


def test_person_in_another_organization_is_not_matched(client, tree, tiers, make_person):
    """Matching stays inside the organization's tree."""
    from leaven.core.models import OrgUnit
    from leaven.core.services import unit_create

    other = unit_create(
        actor=None, name="Elsewhere", kind=OrgUnit.Kind.NETWORK, parent=None, as_operator=True
    )
    from conftest import _user

    other_admin = _user("other-admin@example.org", "admin", other)
    make_person(
        other,
        actor=other_admin,
        given_name="Other",
        emails=[EmailInput(address="lucia@example.org")],
    )
    client.post(_url(tree), _form(tiers))
    assert Person.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"given_name": ""}, "given_name", "Este campo es obligatorio."),
        ({"phone": "", "email": ""}, "phone", "Indique un celular o un correo"),
        ({"email": "not-an-email"}, "email", "Escriba un correo electrónico válido"),
        ({"phone": "12"}, "phone", "Escriba un número de teléfono válido"),
        ({"amount": "0.5"}, "amount", "Elija un monto de al menos $1.00"),
        ({"amount": "diez"}, "amount", "Escriba un monto como 25 o 12.50"),
    ],
)
def test_bad_input_clear_spanish_messages_and_nothing_lost(
    client, tree, tiers, overrides, field, message
):
    response = client.post(_url(tree), _form(tiers, **overrides), HTTP_ACCEPT_LANGUAGE="es")
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert 'value="Hernández"' in body
    assert not Person.objects.exists() and not Membership.objects.exists()


def test_bad_input_in_english(client, tree, tiers):
    response = client.post(_url(tree), _form(tiers, phone="", email=""))
    assert "Give a mobile phone or an email so we can reach you." in response.content.decode()


def test_honeypot_refused_nothing_stored(client, tree, tiers):
    response = client.post(_url(tree), _form(tiers, website="http://spam.example"))
    assert response.status_code == 400
    assert not Person.objects.exists()


def test_too_fast_refused_then_accepted(client, tree, tiers):
    """A form sent a second after it was opened is refused with a fresh clock and every
    answer kept; sent again later it goes through."""
    response = client.post(_url(tree), _form(tiers, started=started_token(time.time())))
    assert response.status_code == 400
    assert "very fast" in response.content.decode()
    assert 'value="Lucía"' in response.content.decode()
    assert not Person.objects.exists()
    assert client.post(_url(tree), _form(tiers)).status_code == 302


def test_forged_or_missing_timestamp_refused(client, tree, tiers):
    for started in ["12345", ""]:
        response = client.post(_url(tree), _form(tiers, started=started))
        assert response.status_code == 400
    assert not Person.objects.exists()


def test_rate_limit_per_address(client, tree, tiers):
    """After ten sign-ups from one address the page refuses more for a while."""
    for n in range(10):
        response = client.post(_url(tree), _form(tiers, email=f"p{n}@example.org", phone=""))
        assert response.status_code == 302
    response = client.post(_url(tree), _form(tiers, email="p11@example.org", phone=""))
    assert response.status_code == 429
    assert Person.objects.count() == 10
    other = client.post(
        _url(tree), _form(tiers, email="p12@example.org", phone=""), REMOTE_ADDR="10.0.0.9"
    )
    assert other.status_code == 302


def test_card_needs_a_payment_link(client, tree, tiers, settings):
    """Without a configured payment link, card is not offered and is refused if forced."""
    assert 'value="card"' not in client.get(_url(tree)).content.decode()
    response = client.post(_url(tree), _form(tiers, pay_with="card"))
    assert response.status_code == 200
    assert not Membership.objects.exists()
    settings.LEAVEN_STRIPE_PAYMENT_LINK = "https://buy.stripe.com/test_abc"
    response = client.post(_url(tree), _form(tiers, pay_with="card"))
    thanks = client.get(response["Location"]).content.decode()
    reference = Membership.objects.get().reference
    assert f"https://buy.stripe.com/test_abc?client_reference_id={reference}" in thanks


def test_hardship_joins_at_zero(client, tree, tiers):
    client.post(_url(tree), _form(tiers, pay_with="hardship", amount=""))
    membership = Membership.objects.get()
    assert (membership.amount_cents, membership.status, membership.pay_with) == (
        0,
        "pending",
        "hardship",
    )


def test_outsider_is_like_anyone_on_the_public_page(client_for, outsider, tree, tiers):
    """The join page is public; signing in as another committee's coordinator gives no
    extra view of who is a member."""
    response = client_for(outsider).get(_url(tree))
    assert response.status_code == 200
    assert "Hernández" not in response.content.decode()


def test_fixed_tier_ignores_a_typed_amount(client, tree, tiers):
    """An amount typed before switching to a fixed tier does not block the form."""
    response = client.post(_url(tree), _form(tiers, tier=str(tiers[1].pk), amount="3"))
    assert response.status_code == 302
    assert Membership.objects.get().amount_cents == 6000

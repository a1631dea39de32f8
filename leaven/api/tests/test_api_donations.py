"""Donations over the API: dues payments, read-only, in Action Network's shape."""

from __future__ import annotations

import datetime as dt

import pytest

from leaven.api.tests.conftest import an_id

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 1, 10)


@pytest.fixture
def payment(tree, admin, make_person):
    from leaven.membership.services import membership_create, payment_record, tier_create

    tier = tier_create(
        actor=admin,
        owner_unit=tree.committee_a,
        name_en="Monthly",
        name_es="Mensual",
        amount_cents=1000,
        interval="monthly",
    )
    person = make_person(tree.committee_a, given_name="Rosa")
    membership = membership_create(
        actor=admin, person=person, unit=tree.committee_a, tier=tier, today=TODAY
    )
    return payment_record(
        actor=admin,
        membership=membership,
        amount_cents=2000,
        paid_on=TODAY,
        method="cash",
        receipt_number="R-17",
        today=TODAY,
    )


def test_donations_list_and_get_in_action_network_shape(api, payment):
    """A dues payment is a donation: amount as a string, currency, the unit as recipient,
    the payment method and receipt, monthly recurrence and a link to the donor."""
    page = api.get("/api/v2/donations").json()
    assert page["total_records"] == 1
    donation = page["_embedded"]["osdi:donations"][0]
    assert donation["amount"] == "20.00"
    assert donation["currency"] == "USD"
    assert donation["recipients"] == [{"display_name": "Pilsen", "amount": "20.00"}]
    assert donation["payment"]["method"] == "Cash"
    assert donation["payment"]["reference_number"] == "R-17"
    assert donation["action_network:recurrence"] == {"recurring": True, "period": "Monthly"}
    assert donation["voided"] is False
    person_href = donation["_links"]["osdi:person"]["href"]
    person = api.get(person_href.replace("http://testserver", "")).json()
    assert person["given_name"] == "Rosa"
    assert donation["action_network:person_id"] == an_id(person)
    one = api.get(f"/api/v2/donations/{an_id(donation)}")
    assert one.status_code == 200 and one.json() == donation


def test_person_donations_and_a_reversed_payment_is_voided(api, admin, payment):
    """The donor's own donations list it; after a reversal it shows voided, and the
    reversing entry is not a donation of its own."""
    from leaven.membership.services import payment_reverse

    donation = api.get("/api/v2/donations").json()["_embedded"]["osdi:donations"][0]
    person_id = donation["action_network:person_id"]
    mine = api.get(f"/api/v2/people/{person_id}/donations").json()
    assert [row["identifiers"] for row in mine["_embedded"]["osdi:donations"]] == [
        donation["identifiers"]
    ]
    payment_reverse(actor=admin, payment=payment, reason="counted twice", today=TODAY)
    page = api.get("/api/v2/donations").json()
    assert page["total_records"] == 1
    voided = page["_embedded"]["osdi:donations"][0]
    assert voided["voided"] is True and "voided_date" in voided


def test_outsider_key_gets_404_on_this_units_donation(api, other_api, payment):
    """A key of another committee sees no donations and gets 404 on this one and on the
    donor's donations."""
    donation = api.get("/api/v2/donations").json()["_embedded"]["osdi:donations"][0]
    assert other_api.get("/api/v2/donations").json()["total_records"] == 0
    assert other_api.get(f"/api/v2/donations/{an_id(donation)}").status_code == 404
    person_id = donation["action_network:person_id"]
    assert other_api.get(f"/api/v2/people/{person_id}/donations").status_code == 404


def test_donations_filter_by_created_date(api, payment):
    """`created_date` filters donations; a filter on an unknown field is a 400."""
    assert (
        api.get("/api/v2/donations", filter="created_date gt '2000-01-01'").json()["total_records"]
        == 1
    )
    assert (
        api.get("/api/v2/donations", filter="created_date gt '2999-01-01'").json()["total_records"]
        == 0
    )
    assert api.get("/api/v2/donations", filter="amount eq '20.00'").status_code == 400

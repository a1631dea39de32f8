"""Household pages: a person's address form and the household page with its residents."""

from __future__ import annotations

import pytest

from leaven.core.models import AuditEvent
from leaven.people import services
from leaven.people.models import Household, Person


@pytest.fixture
def home(make_person, admin, tree):
    """A committee A household with two residents, one of whom also lives in B's records."""
    household = services.household_get_or_create(
        actor=admin,
        owner_unit=tree.committee_a,
        street="1830 W. 18th Street",
        unit="Apt 2",
        city="Chicago",
        state="IL",
        zip_code="60608",
    )
    for given in ("Rocío", "Tomás"):
        person = make_person(given_name=given, family_name="Huerta")
        services.person_set_household(actor=admin, person=person, household=household)
    return household


def test_household_page_lists_residents(home, coordinator, client_for):
    """The household page shows the address and the residents the coordinator can see."""
    response = client_for(coordinator).get(f"/households/{home.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "1830 W. 18th Street" in content
    assert {p.given_name for p in response.context["residents"]} == {"Rocío", "Tomás"}


def test_household_page_for_viewer(home, viewer, client_for):
    """A viewer of the committee sees the household too."""
    assert client_for(viewer).get(f"/households/{home.pk}/").status_code == 200


def test_household_page_hides_residents_out_of_scope(
    home, make_person, admin, coordinator, client_for, tree
):
    """A resident whose record only another committee holds is not listed."""
    stranger = make_person(tree.committee_b, given_name="Extraño")
    services.person_set_household(actor=admin, person=stranger, household=home)
    response = client_for(coordinator).get(f"/households/{home.pk}/")
    assert "Extraño" not in response.content.decode()


def test_household_page_outsider_gets_404(home, outsider, client_for):
    """A coordinator of another committee gets a 404, like a household that does not exist,
    and the attempt is audited."""
    client = client_for(outsider)
    assert client.get(f"/households/{home.pk}/").status_code == 404
    assert client.get(f"/households/{home.pk + 1000}/").status_code == 404
    assert client.post(f"/households/{home.pk}/").status_code == 404
    events = AuditEvent.objects.filter(verb="access.denied", actor=outsider)
    assert {(e.object_type, e.object_id) for e in events} == {("household", str(home.pk))}
    assert events.count() == 2


def test_address_form_groups_spellings_into_one_household(
    home, make_person, coordinator, client_for
):
    """An address typed differently for the same dwelling joins the existing household."""
    person = make_person(given_name="Lupe", family_name="Huerta")
    response = client_for(coordinator).post(
        f"/people/{person.pk}/household/",
        {
            "street": "1830 west 18th st",
            "unit": "#2",
            "city": "CHICAGO",
            "state": "il",
            "zip_code": "60608",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/people/{person.pk}/"
    person.refresh_from_db()
    assert person.household == home
    assert Household.objects.count() == 1
    assert home.residents.count() == 3


def test_address_form_starts_with_current_address(home, coordinator, client_for):
    """A person's address form starts with their household's address."""
    person = home.residents.first()
    response = client_for(coordinator).get(f"/people/{person.pk}/household/")
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert (initial["street"], initial["unit"], initial["zip_code"]) == (
        "1830 W. 18th Street",
        "Apt 2",
        "60608",
    )


def test_address_form_moves_a_person(home, coordinator, client_for):
    """A new address moves the person to another household; the old one keeps the others."""
    person = home.residents.get(given_name="Tomás")
    client_for(coordinator).post(
        f"/people/{person.pk}/household/",
        {"street": "2200 S. Ashland Ave", "city": "Chicago", "state": "IL", "zip_code": "60608"},
    )
    person.refresh_from_db()
    assert person.household != home
    assert person.household.street == "2200 S. Ashland Ave"
    assert list(home.residents.values_list("given_name", flat=True)) == ["Rocío"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"street": "1 Main St", "city": "Chicago", "state": "I", "zip_code": ""}, "state"),
        ({"street": "1 Main St", "city": "Chicago", "state": "IL", "zip_code": "6060"}, "zip_code"),
        ({"street": "", "city": "Chicago", "state": "IL"}, "street"),
    ],
)
def test_address_form_errors_save_nothing(make_person, coordinator, client_for, data, field):
    """A malformed address is an error on the form, and no household is made."""
    person = make_person()
    response = client_for(coordinator).post(f"/people/{person.pk}/household/", data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert field in response.context["form"].errors or response.context["form"].non_field_errors()
    assert not Household.objects.exists()
    assert Person.objects.get(pk=person.pk).household is None


def test_address_form_outsider_gets_404(home, outsider, client_for):
    """A coordinator of another committee cannot open or post a committee A person's address."""
    person = home.residents.first()
    client = client_for(outsider)
    assert client.get(f"/people/{person.pk}/household/").status_code == 404
    response = client.post(
        f"/people/{person.pk}/household/", {"street": "9 Elm St", "city": "Chicago", "state": "IL"}
    )
    assert response.status_code == 404
    person.refresh_from_db()
    assert person.household == home
    assert Household.objects.count() == 1


def test_address_form_refused_to_viewer(home, viewer, client_for):
    """A viewer cannot change an address."""
    person = home.residents.first()
    assert client_for(viewer).get(f"/people/{person.pk}/household/").status_code == 404

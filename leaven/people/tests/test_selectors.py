"""Reads of people: the scoped list with keyset pages and filters, and single lookups."""

from __future__ import annotations

import pytest
from django.http import Http404

from leaven.core.models import AuditEvent
from leaven.people import selectors, services
from leaven.people.selectors import PersonFilters, person_count, person_list
from leaven.people.services import EmailInput, PhoneInput

FAMILIES = [
    "Abad",
    "Muñoz",
    "MUNOZ",
    "Núñez",
    "Ortiz",
    "Pérez",
    "Quispe",
    "Ruiz",
    "Smith",
    "Zárate",
]
GIVEN = ["Ana", "Beto", "Carla", "Diego", "Elena"]


@pytest.fixture
def crowd(make_person, tree):
    """Fifty people in committee A and its circle, with repeated names, and five in B."""
    people = []
    for n in range(50):
        unit = tree.circle_a if n % 5 == 0 else tree.committee_a
        people.append(
            make_person(
                unit, given_name=GIVEN[n % len(GIVEN)], family_name=FAMILIES[n % len(FAMILIES)]
            )
        )
    for n in range(5):
        make_person(tree.committee_b, given_name="Bea", family_name=f"Outside{n}")
    return people


def _walk_forward(actor, filters, page_size):
    pages, after = [], None
    while True:
        page = person_list(actor=actor, filters=filters, after=after, page_size=page_size)
        pages.append(page)
        if page.next_after is None:
            return pages
        after = page.next_after


def test_pages_forward_give_everyone_once_in_order(coordinator, crowd):
    """Walking with `after` gives every visible person exactly once, by family then given name."""
    pages = _walk_forward(coordinator, PersonFilters(), page_size=7)
    seen = [p.pk for page in pages for p in page.people]
    assert len(seen) == len(set(seen)) == 50
    expected = sorted(crowd, key=lambda p: (p.sort_name, p.pk))
    assert seen == [p.pk for p in expected]
    assert pages[0].prev_before is None
    assert all(page.prev_before is not None for page in pages[1:])
    assert [len(page.people) for page in pages] == [7] * 7 + [1]


def test_pages_backward_give_everyone_once_in_order(coordinator, crowd):
    """Walking back with `before` from the last page gives the same pages in reverse."""
    forward = _walk_forward(coordinator, PersonFilters(), page_size=7)
    backward = [forward[-1]]
    while backward[-1].prev_before is not None:
        backward.append(
            person_list(
                actor=coordinator,
                filters=PersonFilters(),
                before=backward[-1].prev_before,
                page_size=7,
            )
        )
    assert len(backward) == len(forward)
    seen = [p.pk for page in reversed(backward) for p in page.people]
    assert seen == [p.pk for page in forward for p in page.people]
    assert backward[-1].prev_before is None


def test_page_size_exact_multiple(coordinator, crowd):
    """When the people fill the pages exactly, the last page offers no next page."""
    pages = _walk_forward(coordinator, PersonFilters(), page_size=10)
    assert [len(page.people) for page in pages] == [10] * 5
    assert pages[-1].next_after is None


def test_empty_list(coordinator, tree):
    """With nobody to show, the page is empty and offers no links."""
    page = person_list(actor=coordinator, filters=PersonFilters())
    assert page.people == [] and page.next_after is None and page.prev_before is None


def test_outsider_sees_none_of_committee_a(outsider, crowd, tree):
    """A coordinator of another committee lists only their own people, whatever they ask."""
    page = person_list(actor=outsider, filters=PersonFilters(), page_size=100)
    assert {p.family_name for p in page.people} == {f"Outside{n}" for n in range(5)}
    assert person_list(actor=outsider, filters=PersonFilters(unit=tree.committee_a.pk)).people == []
    assert person_list(actor=outsider, filters=PersonFilters(q="munoz")).people == []
    assert person_count(actor=outsider, filters=PersonFilters()) == 5
    # An anchor taken from committee A's people leaks nothing either.
    page = person_list(actor=outsider, filters=PersonFilters(), after=crowd[0].pk)
    assert all(p.owner_unit_id == tree.committee_b.pk for p in page.people)


def test_filter_q_is_accent_and_case_insensitive(coordinator, crowd):
    """ "munoz", "MUÑOZ" and "Muñoz" all find both the Muñoz and the MUNOZ families."""
    for q in ("munoz", "MUÑOZ", "Muñoz", "mun"):
        people = person_list(actor=coordinator, filters=PersonFilters(q=q), page_size=100).people
        assert {p.family_name for p in people} == {"Muñoz", "MUNOZ"}, q
        assert len(people) == 10


def test_filter_q_given_name(coordinator, crowd):
    """A single word also matches the start of a given name."""
    people = person_list(actor=coordinator, filters=PersonFilters(q="elena"), page_size=100).people
    assert len(people) == 10
    assert {p.given_name for p in people} == {"Elena"}


def test_filter_q_two_words(make_person, coordinator, tree):
    """ "maria munoz" finds María Muñoz by given and family name, in either order."""
    maria = make_person(given_name="María", family_name="Muñoz")
    make_person(given_name="María", family_name="Ortiz")
    make_person(given_name="Marco", family_name="Muñoz")
    for q in ("maria munoz", "MUÑOZ María", "mar mun"):
        people = person_list(actor=coordinator, filters=PersonFilters(q=q)).people
        assert maria in people, q
    people = person_list(actor=coordinator, filters=PersonFilters(q="maria munoz")).people
    assert people == [maria]


def test_filter_tag(coordinator, crowd, tree):
    """Only people with the tag."""
    tag = services.tag_create(actor=coordinator, owner_unit=tree.committee_a, name="Choir")
    for person in crowd[:3]:
        services.person_tag(actor=coordinator, person=person, tag=tag)
    people = person_list(actor=coordinator, filters=PersonFilters(tag=tag.pk)).people
    assert {p.pk for p in people} == {p.pk for p in crowd[:3]}


def test_filter_unit_includes_subtree(coordinator, crowd, tree):
    """A unit filter takes people of the unit and of the units below it."""
    circle = person_list(
        actor=coordinator, filters=PersonFilters(unit=tree.circle_a.pk), page_size=100
    ).people
    assert len(circle) == 10
    committee = person_list(
        actor=coordinator, filters=PersonFilters(unit=tree.committee_a.pk), page_size=100
    ).people
    assert len(committee) == 50


def test_filter_unit_counts_joined_members(coordinator, make_person, tree):
    """A person who joined a circle is listed under it, though their record is the committee's."""
    person = make_person()
    services.person_join_unit(actor=coordinator, person=person, unit=tree.circle_a)
    people = person_list(actor=coordinator, filters=PersonFilters(unit=tree.circle_a.pk)).people
    assert people == [person]


def test_filter_stage_and_language(coordinator, make_person):
    """Stage and language filters pick exactly the matching people."""
    leader = make_person(given_name="Lea", stage="leader", language="es")
    make_person(given_name="Sam", stage="supporter", language="es")
    make_person(given_name="Ned", stage="leader", language="en")
    assert person_list(
        actor=coordinator, filters=PersonFilters(stage="leader", language="es")
    ).people == [leader]
    assert person_count(actor=coordinator, filters=PersonFilters(language="es")) == 2
    assert person_count(actor=coordinator, filters=PersonFilters(stage="leader")) == 2


def test_filter_has_phone_and_has_email(coordinator, make_person):
    """Has-phone and has-email filters work both ways."""
    both = make_person(
        given_name="Both",
        emails=[EmailInput(address="b@example.net")],
        phones=[PhoneInput(number="312-555-0101")],
    )
    phone_only = make_person(given_name="Phone", phones=[PhoneInput(number="312-555-0102")])
    neither = make_person(given_name="Neither")

    def ids(**kw):
        return {p.pk for p in person_list(actor=coordinator, filters=PersonFilters(**kw)).people}

    assert ids(has_phone=True) == {both.pk, phone_only.pk}
    assert ids(has_phone=False) == {neither.pk}
    assert ids(has_email=True) == {both.pk}
    assert ids(has_email=False) == {phone_only.pk, neither.pk}
    assert ids(has_phone=True, has_email=False) == {phone_only.pk}


def test_filters_combine_with_paging(coordinator, crowd):
    """Paging through a filtered list gives exactly the filtered people."""
    filters = PersonFilters(q="munoz")
    pages = _walk_forward(coordinator, filters, page_size=3)
    seen = [p.pk for page in pages for p in page.people]
    assert len(seen) == len(set(seen)) == 10


def test_filters_active():
    """A filter set knows whether anything is being filtered on."""
    assert not PersonFilters().active
    assert PersonFilters(q="x").active
    assert PersonFilters(has_phone=False).active


def test_person_get_for_actor(coordinator, viewer, make_person, tree):
    """People of the actor's units are found, circles included."""
    person = make_person(tree.circle_a)
    assert selectors.person_get_for_actor(actor=coordinator, pk=person.pk) == person
    assert selectors.person_get_for_actor(actor=viewer, pk=person.pk) == person


def test_person_get_for_actor_outsider_404_and_audited(outsider, make_person, tree):
    """An outsider gets a 404, the same as for nobody, and the attempt is audited."""
    person = make_person()
    with pytest.raises(Http404):
        selectors.person_get_for_actor(actor=outsider, pk=person.pk)
    event = AuditEvent.objects.get(verb="access.denied", actor=outsider)
    assert event.object_type == "person"
    assert event.object_id == str(person.pk)
    with pytest.raises(Http404):
        selectors.person_get_for_actor(actor=outsider, pk=person.pk + 1000)


def test_person_get_for_actor_with_stronger_permission(viewer, make_person):
    """A viewer finds a person to look at but not to see contacts of."""
    from leaven.core import permissions

    person = make_person()
    with pytest.raises(Http404):
        selectors.person_get_for_actor(
            actor=viewer, pk=person.pk, permission=permissions.PEOPLE_VIEW_CONTACTS
        )


def test_person_shared_with_another_committee(outsider, make_person, tree, admin):
    """A person who also joined committee B is visible to B's coordinator, and only B's
    units are shown to them."""
    person = make_person()
    services.person_join_unit(actor=admin, person=person, unit=tree.committee_b)
    assert selectors.person_get_for_actor(actor=outsider, pk=person.pk) == person
    assert selectors.person_units(actor=outsider, person=person) == [tree.committee_b]


def test_person_find_by_contact(make_person):
    """Finding by contact goes through the blind index and normalizes first."""
    ana = make_person(
        emails=[EmailInput(address="ana@example.net")], phones=[PhoneInput(number="312-555-0101")]
    )
    assert services.person_find_by_contact(email=" Ana@Example.net ") == [ana.pk]
    assert services.person_find_by_contact(phone="+1 312 555 0101") == [ana.pk]
    assert services.person_find_by_contact(email="ana@example.net", phone="312-555-0101") == [
        ana.pk
    ]
    assert services.person_find_by_contact(phone="312-555-0199") == []


def test_tags_for_actor(coordinator, outsider, tree, admin):
    """Tags of the actor's units and of the units above are usable; a sibling's are not."""
    own = services.tag_create(actor=admin, owner_unit=tree.committee_a, name="Own")
    network = services.tag_create(actor=admin, owner_unit=tree.network, name="Network")
    sibling = services.tag_create(actor=admin, owner_unit=tree.committee_b, name="Sibling")
    assert set(selectors.tags_for_actor(actor=coordinator)) == {own, network}
    assert set(selectors.tags_for_actor(actor=outsider)) == {sibling, network}
    with pytest.raises(Http404):
        selectors.tag_get_for_actor(actor=outsider, pk=own.pk)


def test_household_get_for_actor(coordinator, outsider, tree):
    """A household is found by its committee and is a 404 for an outsider, audited."""
    household = services.household_get_or_create(
        actor=coordinator,
        owner_unit=tree.committee_a,
        street="1 Main St",
        city="Chicago",
        state="IL",
    )
    assert selectors.household_get_for_actor(actor=coordinator, pk=household.pk) == household
    with pytest.raises(Http404):
        selectors.household_get_for_actor(actor=outsider, pk=household.pk)
    assert AuditEvent.objects.filter(
        verb="access.denied", actor=outsider, object_type="household"
    ).exists()


def test_person_timeline_hides_notes_from_captain(coordinator, captain, make_person):
    """Notes are on the timeline for a coordinator, not for a captain."""
    person = make_person()
    services.note_create(actor=coordinator, person=person, body="Private matter")
    services.person_set_stage(actor=coordinator, person=person, stage="contacted")
    kinds = {e.kind for e in selectors.person_timeline(actor=coordinator, person=person)}
    assert kinds == {"note", "stage"}
    kinds = {e.kind for e in selectors.person_timeline(actor=captain, person=person)}
    assert kinds == {"stage"}


def test_person_audit_trail_for_coordinator_not_captain(coordinator, captain, make_person):
    """A coordinator sees a person's audit trail; a captain does not."""
    person = make_person()
    assert selectors.person_audit_trail(actor=coordinator, person=person)
    assert selectors.person_audit_trail(actor=captain, person=person) == []

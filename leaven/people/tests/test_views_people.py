"""People pages: the list, a person's page and every form on it; scoped, with the outsider."""

from __future__ import annotations

import re

import pytest

from leaven.core.models import AuditEvent
from leaven.people import normalize, services
from leaven.people.models import (
    Affiliation,
    Email,
    Household,
    Note,
    Person,
    PersonUnit,
    Phone,
    Relationship,
    StageChange,
    Tag,
    Tagging,
)
from leaven.people.services import EmailInput, PhoneInput


@pytest.fixture
def ana(make_person, admin, tree):
    """A committee A person with an email, a phone, a tag, a note, a friend and an address."""
    person = make_person(
        given_name="Anabel",
        family_name="Quispe",
        emails=[EmailInput(address="anabel.q@example.net")],
        phones=[PhoneInput(number="312-555-0101")],
    )
    friend = make_person(given_name="Luisa", family_name="Quispe")
    tag = services.tag_create(actor=admin, owner_unit=tree.committee_a, name="Choir")
    services.person_tag(actor=admin, person=person, tag=tag)
    services.note_create(actor=admin, person=person, body="Prefers calls after six")
    services.person_join_unit(actor=admin, person=person, unit=tree.circle_a)
    services.relationship_create(actor=admin, person=person, other=friend, kind="friend")
    household = services.household_get_or_create(
        actor=admin, owner_unit=tree.committee_a, street="1 Main St", city="Chicago", state="IL"
    )
    services.person_set_household(actor=admin, person=person, household=household)
    return person


def _urls(person):
    """Every URL about one person, with a POST body that would change something."""
    p = person.pk
    email = person.emails.first()
    phone = person.phones.first()
    tag = person.taggings.first().tag
    rel = person.relationships.first()
    friend = rel.other
    return [
        # (url, GET allowed, POST data)
        (f"/people/{p}/", True, {}),
        (f"/people/{p}/edit/", True, {"given_name": "Hacked", "language": "en"}),
        (f"/people/{p}/emails/new/", True, {"address": "x@example.net", "status": "subscribed"}),
        (
            f"/people/{p}/emails/{email.pk}/",
            True,
            {"address": "x@example.net", "status": "unsubscribed"},
        ),
        (
            f"/people/{p}/phones/new/",
            True,
            {"number": "312-555-0199", "kind": "mobile", "sms_status": "none"},
        ),
        (
            f"/people/{p}/phones/{phone.pk}/",
            True,
            {"number": "312-555-0199", "kind": "home", "sms_status": "opted_out"},
        ),
        (f"/people/{p}/email/{email.pk}/remove/", False, {}),
        (f"/people/{p}/phone/{phone.pk}/remove/", False, {}),
        (f"/people/{p}/stage/", False, {"stage": "leader", "reason": "x"}),
        (f"/people/{p}/notes/", False, {"body": "outsider was here"}),
        (f"/people/{p}/tags/", False, {"name": "Hacked"}),
        (f"/people/{p}/tags/{tag.pk}/remove/", False, {}),
        (f"/people/{p}/units/", False, {"unit": person.owner_unit_id, "action": "leave"}),
        (f"/people/{p}/relationships/", False, {"other": friend.pk, "kind": "neighbor"}),
        (f"/people/{p}/relationships/{rel.pk}/remove/", False, {}),
        (
            f"/people/{p}/household/",
            True,
            {"street": "9 Elm St", "city": "Chicago", "state": "IL"},
        ),
        (f"/households/{person.household_id}/", True, {}),
    ]


def _state():
    """Everything a page could change, as comparable values."""
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
        Affiliation,
    ]
    state = {}
    for model in models:
        fields = [
            f.attname for f in model._meta.concrete_fields if not getattr(f, "encrypted", False)
        ]
        state[model.__name__] = sorted(model.objects.values_list(*fields), key=repr)
    state["contacts"] = sorted(
        [
            *Email.objects.values_list("address", flat=True),
            *Phone.objects.values_list("number", flat=True),
        ]
    )
    state["notes"] = sorted(Note.objects.values_list("body", flat=True))
    return state


# the outsider


def test_outsider_gets_404_on_every_url(ana, outsider, client_for):
    """A coordinator of another committee gets a 404 on every page about committee A's person."""
    client = client_for(outsider)
    for url, get_allowed, _data in _urls(ana):
        if get_allowed:
            assert client.get(url).status_code == 404, url


def test_outsider_post_gets_404_and_changes_nothing(ana, outsider, client_for):
    """Every POST by the outsider is a 404 and leaves the database as it was."""
    client = client_for(outsider)
    before = _state()
    for url, _get_allowed, data in _urls(ana):
        assert client.post(url, data).status_code == 404, url
    assert _state() == before
    assert not AuditEvent.objects.filter(actor=outsider).exclude(verb="access.denied").exists()


def _page(response, url):
    """A response's body with the per-request parts (CSRF tokens, its own path) blanked."""
    body = response.content.decode().replace(url, "<url>")
    return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', r"\1<token>", body)


def test_outsider_404_is_the_same_as_a_missing_record(ana, outsider, client_for):
    """What the outsider may not see answers exactly like what does not exist."""
    client = client_for(outsider)
    missing = Person.objects.order_by("-pk").first().pk + 1000
    for url, _get_allowed, data in _urls(ana):
        ghost = url.replace(f"/{ana.pk}/", f"/{missing}/", 1).replace(
            f"/households/{ana.household_id}/", f"/households/{missing}/"
        )
        hidden_get, ghost_get = client.get(url), client.get(ghost)
        assert hidden_get.status_code == ghost_get.status_code, url
        assert _page(hidden_get, url) == _page(ghost_get, ghost), url
        hidden_post, ghost_post = client.post(url, data), client.post(ghost, data)
        assert hidden_post.status_code == ghost_post.status_code == 404, url
        assert _page(hidden_post, url) == _page(ghost_post, ghost), url


def test_outsider_denials_are_audited(ana, outsider, client_for):
    """Each refused look at the person is written down as access.denied."""
    client_for(outsider).get(f"/people/{ana.pk}/")
    event = AuditEvent.objects.get(verb="access.denied", actor=outsider)
    assert (event.object_type, event.object_id) == ("person", str(ana.pk))
    assert event.source == AuditEvent.Source.PAGE


def test_outsider_list_and_create_do_not_reach_committee_a(ana, outsider, client_for, tree):
    """The outsider's list shows none of committee A; a create aimed at A is refused."""
    client = client_for(outsider)
    response = client.get("/people/", {"q": "quispe"})
    assert response.status_code == 200
    assert "Anabel" not in response.content.decode()
    response = client.get("/people/", {"unit": tree.committee_a.pk})
    assert "Anabel" not in response.content.decode()
    before = Person.objects.count()
    response = client.post(
        "/people/new/",
        {
            "owner_unit": tree.committee_a.pk,
            "given_name": "Intruder",
            "language": "en",
            "stage": "unknown",
        },
    )
    assert response.status_code == 200
    assert "owner_unit" in response.context["form"].errors
    assert Person.objects.count() == before


# the list


def test_list_shows_people_of_my_units(ana, coordinator, client_for, make_person, tree):
    """The list shows committee A's people, circles included, and nobody from B."""
    make_person(tree.circle_a, given_name="Cira", family_name="Quispe")
    make_person(tree.committee_b, given_name="Beto", family_name="Quispe")
    response = client_for(coordinator).get("/people/")
    assert response.status_code == 200
    names = {p.display_name for p in response.context["page"].people}
    assert names == {"Anabel Quispe", "Luisa Quispe", "Cira Quispe"}
    content = response.content.decode()
    assert "<html" in content
    assert "Beto" not in content


def test_list_filters(ana, coordinator, client_for, make_person, tree):
    """Name, stage, language, tag, unit and contact filters narrow the list."""
    make_person(given_name="María", family_name="Muñoz", stage="leader", language="es")
    client = client_for(coordinator)

    def names(**params):
        response = client.get("/people/", params)
        assert response.status_code == 200
        return {p.display_name for p in response.context["page"].people}

    assert names(q="maria munoz") == {"María Muñoz"}
    assert names(q="MUÑOZ") == {"María Muñoz"}
    assert names(stage="leader") == {"María Muñoz"}
    assert names(language="es") == {"María Muñoz"}
    assert names(tag=ana.taggings.get().tag_id) == {"Anabel Quispe"}
    assert names(unit=tree.circle_a.pk) == {"Anabel Quispe"}
    assert names(has_phone="yes") == {"Anabel Quispe"}
    assert names(has_email="no") == {"Luisa Quispe", "María Muñoz"}


def test_list_htmx_returns_rows_only(ana, coordinator, client_for):
    """An htmx request gets just the rows, to swap into the page."""
    response = client_for(coordinator).get("/people/", {"q": "anabel"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Anabel Quispe" in content
    assert "<html" not in content
    assert "<form" not in content
    assert [t.name for t in response.templates][0] == "people/_person_rows.html"


def test_list_pages_keep_names_out_of_urls(coordinator, client_for, make_person, settings):
    """Pages are keyed by person number; walking them shows everyone once."""
    settings.LEAVEN_PAGE_SIZE = 3
    for n in range(7):
        make_person(given_name=f"Persona{n}", family_name="Quispe")
    client = client_for(coordinator)
    seen, url = [], "/people/?q=quispe"
    while url:
        response = client.get(url)
        page = response.context["page"]
        seen += [p.pk for p in page.people]
        url = f"/people/?q=quispe&after={page.next_after}" if page.next_after else None
        if page.next_after:
            assert f"after={page.next_after}" in response.content.decode()
            assert "Persona" not in f"after={page.next_after}"
    assert len(seen) == len(set(seen)) == 7


def test_list_refused_to_responder(make_user, client_for, tree):
    """A responder, who sees no people, gets a 404 on the list."""
    responder = make_user("responder@example.org", "responder", tree.committee_a)
    assert client_for(responder).get("/people/").status_code == 404


# the person page


def test_person_page_shows_contacts_to_coordinator_and_is_audited(ana, coordinator, client_for):
    """A coordinator sees phones, emails and notes; the view of contacts is audited."""
    response = client_for(coordinator).get(f"/people/{ana.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "+13125550101" in content
    assert "anabel.q@example.net" in content
    assert "Prefers calls after six" in content
    assert "Luisa Quispe" in content
    assert "1 Main St" in content
    event = AuditEvent.objects.get(verb="person.viewed", actor=coordinator)
    assert event.object_id == str(ana.pk)
    assert event.source == AuditEvent.Source.PAGE


def test_viewer_sees_person_without_contacts(ana, viewer, client_for):
    """A viewer sees the name and stage but no phone, email or note, and no edit forms."""
    response = client_for(viewer).get(f"/people/{ana.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Anabel Quispe" in content
    assert "5550101" not in content
    assert "555-0101" not in content
    assert "anabel.q@example.net" not in content
    assert "Prefers calls" not in content
    assert response.context["can_contacts"] is False
    assert response.context["can_edit"] is False
    assert f"/people/{ana.pk}/edit/" not in content


def test_viewer_cannot_use_edit_pages(ana, viewer, client_for):
    """Edit pages are a 404 for a viewer, and their POSTs change nothing."""
    client = client_for(viewer)
    before = _state()
    for url, get_allowed, data in _urls(ana)[1:-1]:
        if get_allowed:
            assert client.get(url).status_code == 404, url
        assert client.post(url, data).status_code == 404, url
    assert _state() == before


def test_captain_sees_contacts_but_not_notes(ana, captain, client_for):
    """A captain sees contact details, but notes are for coordinators and up."""
    content = client_for(captain).get(f"/people/{ana.pk}/").content.decode()
    assert "+13125550101" in content
    assert "Prefers calls" not in content


# create and edit


def test_create_with_name_only(coordinator, client_for, tree):
    """A person is added with a given name only."""
    response = client_for(coordinator).post(
        "/people/new/",
        {
            "owner_unit": tree.committee_a.pk,
            "given_name": "Solo",
            "language": "es",
            "stage": "unknown",
        },
    )
    person = Person.objects.get(given_name="Solo")
    assert response.status_code == 302
    assert response["Location"] == f"/people/{person.pk}/"
    assert not person.emails.exists() and not person.phones.exists()
    assert person.language == "es"
    assert person.source == "page"
    assert AuditEvent.objects.get(verb="person.created").actor == coordinator


def test_create_with_email_and_phone(coordinator, client_for, tree):
    """Email and phone given on the form are saved normalized, with the SMS consent given."""
    client_for(coordinator).post(
        "/people/new/",
        {
            "owner_unit": tree.circle_a.pk,
            "given_name": "Rosa",
            "language": "en",
            "stage": "supporter",
            "email": "Rosa@Example.net",
            "phone": "(773) 555-0123",
            "sms_consent": "on",
        },
    )
    person = Person.objects.get(given_name="Rosa")
    assert person.owner_unit == tree.circle_a
    assert person.emails.get().address == "rosa@example.net"
    phone = person.phones.get()
    assert phone.number == "+17735550123"
    assert phone.sms_status == Phone.SMSStatus.OPTED_IN
    assert person.stage == "supporter"


def test_create_with_bad_phone_saves_nothing(coordinator, client_for, tree):
    """A bad phone on the create form is an error on that field and nobody is created."""
    response = client_for(coordinator).post(
        "/people/new/",
        {
            "owner_unit": tree.committee_a.pk,
            "given_name": "Rosa",
            "language": "en",
            "stage": "unknown",
            "phone": "555",
        },
    )
    assert response.status_code == 200
    assert "Enter a valid phone number." in response.content.decode()
    assert not Person.objects.filter(given_name="Rosa").exists()


def test_create_page_refused_to_viewer(viewer, client_for, tree):
    """Someone who cannot add people anywhere gets a 404 on the create page."""
    client = client_for(viewer)
    assert client.get("/people/new/").status_code == 404
    response = client.post(
        "/people/new/", {"owner_unit": tree.committee_a.pk, "given_name": "X", "language": "en"}
    )
    assert response.status_code == 404
    assert not Person.objects.exists()


def test_edit_person(ana, coordinator, client_for):
    """The edit form shows the current values and saves new ones."""
    client = client_for(coordinator)
    form = client.get(f"/people/{ana.pk}/edit/")
    assert form.status_code == 200
    assert form.context["form"].initial["given_name"] == "Anabel"
    response = client.post(
        f"/people/{ana.pk}/edit/",
        {"given_name": "Ana Belén", "family_name": "Quispe", "language": "es", "pronouns": "ella"},
    )
    assert response.status_code == 302
    ana.refresh_from_db()
    assert (ana.given_name, ana.language, ana.pronouns) == ("Ana Belén", "es", "ella")


# contact forms


def test_add_phone(ana, coordinator, client_for):
    """A phone added on its form is saved in E.164 form."""
    response = client_for(coordinator).post(
        f"/people/{ana.pk}/phones/new/",
        {"number": "872.555.0144", "kind": "home", "sms_status": "none"},
    )
    assert response.status_code == 302
    assert ana.phones.filter(kind="home").get().number == "+18725550144"


@pytest.mark.parametrize("bad", ["555", "hello", "(312) 555"])
def test_add_phone_bad_input(ana, coordinator, client_for, bad):
    """A bad number is a clear error on the number field, and nothing is saved."""
    before = _state()
    response = client_for(coordinator).post(
        f"/people/{ana.pk}/phones/new/", {"number": bad, "kind": "mobile", "sms_status": "none"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["number"] == ["Enter a valid phone number."]
    assert "Enter a valid phone number." in response.content.decode()
    assert _state() == before


def test_edit_phone_bad_input(ana, coordinator, client_for):
    """Editing a phone into a bad number shows the error and keeps the old number."""
    phone = ana.phones.get()
    response = client_for(coordinator).post(
        f"/people/{ana.pk}/phones/{phone.pk}/",
        {"number": "12", "kind": "mobile", "sms_status": "none"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["number"] == ["Enter a valid phone number."]
    assert Phone.objects.get(pk=phone.pk).number == "+13125550101"


def test_edit_phone(ana, coordinator, client_for):
    """A phone's number and consent can be changed on its form, which starts filled in."""
    phone = ana.phones.get()
    client = client_for(coordinator)
    initial = client.get(f"/people/{ana.pk}/phones/{phone.pk}/").context["form"].initial
    assert normalize.phone_normalize(initial["number"]) == "+13125550101"
    client.post(
        f"/people/{ana.pk}/phones/{phone.pk}/",
        {"number": "312-555-0188", "kind": "work", "sms_status": "opted_in", "urgent_alerts": "on"},
    )
    phone.refresh_from_db()
    assert (phone.number, phone.kind, phone.sms_status, phone.urgent_alerts) == (
        "+13125550188",
        "work",
        "opted_in",
        True,
    )


def test_sms_opt_out_cannot_be_lifted_on_the_page(ana, coordinator, client_for):
    """Opting a phone back in from the form is refused with a message on the field."""
    phone = ana.phones.get()
    client = client_for(coordinator)
    client.post(
        f"/people/{ana.pk}/phones/{phone.pk}/",
        {"number": "312-555-0101", "kind": "mobile", "sms_status": "opted_out"},
    )
    response = client.post(
        f"/people/{ana.pk}/phones/{phone.pk}/",
        {"number": "312-555-0101", "kind": "mobile", "sms_status": "opted_in"},
    )
    assert response.status_code == 200
    assert "sms_status" in response.context["form"].errors
    assert Phone.objects.get(pk=phone.pk).sms_status == "opted_out"


def test_add_email_bad_input(ana, coordinator, client_for):
    """A bad email is a clear error and nothing is saved."""
    response = client_for(coordinator).post(
        f"/people/{ana.pk}/emails/new/", {"address": "ana@", "status": "subscribed"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["address"] == ["Enter a valid email address."]
    assert ana.emails.count() == 1


def test_add_duplicate_email_is_refused(ana, coordinator, client_for):
    """Adding an address the person already has is a form error."""
    response = client_for(coordinator).post(
        f"/people/{ana.pk}/emails/new/", {"address": "ANABEL.Q@example.net", "status": "subscribed"}
    )
    assert response.status_code == 200
    assert "address" in response.context["form"].errors
    assert ana.emails.count() == 1


def test_edit_email(ana, coordinator, client_for):
    """An email can be unsubscribed from its form."""
    email = ana.emails.get()
    response = client_for(coordinator).post(
        f"/people/{ana.pk}/emails/{email.pk}/",
        {"address": "anabel.q@example.net", "status": "unsubscribed", "is_primary": "on"},
    )
    assert response.status_code == 302
    assert Email.objects.get(pk=email.pk).status == "unsubscribed"


def test_contact_of_another_person_is_404(ana, coordinator, client_for, make_person):
    """A contact id that belongs to someone else is a 404 under this person's URL."""
    other = make_person(given_name="Otra", phones=[PhoneInput(number="312-555-0166")])
    phone = other.phones.get()
    client = client_for(coordinator)
    assert client.get(f"/people/{ana.pk}/phones/{phone.pk}/").status_code == 404
    assert client.post(f"/people/{ana.pk}/phone/{phone.pk}/remove/").status_code == 404
    assert Phone.objects.filter(pk=phone.pk).exists()


def test_remove_contact(ana, coordinator, client_for):
    """A phone is removed; an unsubscribed email is kept with an explanation."""
    client = client_for(coordinator)
    phone = ana.phones.get()
    response = client.post(f"/people/{ana.pk}/phone/{phone.pk}/remove/")
    assert response.status_code == 302
    assert not ana.phones.exists()
    email = ana.emails.get()
    services.email_update(
        actor=coordinator,
        email=email,
        address=email.address,
        status="unsubscribed",
        is_primary=True,
    )
    response = client.post(f"/people/{ana.pk}/email/{email.pk}/remove/", follow=True)
    assert ana.emails.filter(pk=email.pk).exists()
    assert any(m.level_tag == "error" for m in response.context["messages"])


# stage, tag, note, unit, relationship


def test_stage_move(ana, coordinator, client_for):
    """Moving a person up the ladder saves the stage and the reason."""
    response = client_for(coordinator).post(
        f"/people/{ana.pk}/stage/", {"stage": "volunteer", "reason": "Came to the march"}
    )
    assert response.status_code == 302
    ana.refresh_from_db()
    assert ana.stage == "volunteer"
    change = StageChange.objects.get(person=ana)
    assert (change.to_stage, change.reason, change.actor) == (
        "volunteer",
        "Came to the march",
        coordinator,
    )


def test_stage_move_bad_stage(ana, coordinator, client_for):
    """An unknown stage changes nothing."""
    client_for(coordinator).post(f"/people/{ana.pk}/stage/", {"stage": "emperor"})
    ana.refresh_from_db()
    assert ana.stage == "unknown"


def test_tag(ana, coordinator, client_for, tree):
    """A new tag name creates the tag in the person's unit and applies it; × removes it."""
    client = client_for(coordinator)
    client.post(f"/people/{ana.pk}/tags/", {"name": "Bus captains"})
    tag = Tag.objects.get(name="Bus captains")
    assert tag.owner_unit == tree.committee_a
    assert Tagging.objects.filter(person=ana, tag=tag).exists()
    client.post(f"/people/{ana.pk}/tags/", {"name": "Choir"})
    assert Tag.objects.filter(name="Choir").count() == 1
    client.post(f"/people/{ana.pk}/tags/{tag.pk}/remove/")
    assert not Tagging.objects.filter(person=ana, tag=tag).exists()


def test_note(ana, coordinator, client_for):
    """A note is added to the timeline, stored encrypted, and shown on the page."""
    client = client_for(coordinator)
    client.post(f"/people/{ana.pk}/notes/", {"body": "Can drive on Saturdays"})
    assert ana.notes.filter(author=coordinator).get().body == "Can drive on Saturdays"
    assert "Can drive on Saturdays" in client.get(f"/people/{ana.pk}/").content.decode()


def test_empty_note_is_not_saved(ana, coordinator, client_for):
    """An empty note is refused."""
    client_for(coordinator).post(f"/people/{ana.pk}/notes/", {"body": ""})
    assert ana.notes.count() == 1


def test_unit_join_and_leave(make_person, coordinator, client_for, tree):
    """A person is added to a circle and removed from it."""
    person = make_person()
    client = client_for(coordinator)
    client.post(f"/people/{person.pk}/units/", {"unit": tree.circle_a.pk, "action": "join"})
    assert PersonUnit.objects.filter(person=person, unit=tree.circle_a).exists()
    client.post(f"/people/{person.pk}/units/", {"unit": tree.circle_a.pk, "action": "leave"})
    assert not PersonUnit.objects.filter(person=person, unit=tree.circle_a).exists()


def test_unit_join_outside_scope_refused(make_person, coordinator, client_for, tree):
    """A unit the coordinator does not work in is not offered and not accepted."""
    person = make_person()
    client_for(coordinator).post(
        f"/people/{person.pk}/units/", {"unit": tree.committee_b.pk, "action": "join"}
    )
    assert not PersonUnit.objects.filter(person=person, unit=tree.committee_b).exists()


def test_relationship(ana, coordinator, client_for, make_person):
    """A relationship to a person of the same committee is recorded by their number."""
    other = make_person(given_name="Pedro")
    client = client_for(coordinator)
    client.post(f"/people/{ana.pk}/relationships/", {"other": other.pk, "kind": "recruited_by"})
    rel = Relationship.objects.get(person=ana, other=other)
    assert rel.kind == "recruited_by"
    client.post(f"/people/{ana.pk}/relationships/{rel.pk}/remove/")
    assert not Relationship.objects.filter(pk=rel.pk).exists()


def test_relationship_to_outsiders_person_refused(ana, coordinator, client_for, make_person, tree):
    """A person number from another committee is answered like an unknown number."""
    theirs = make_person(tree.committee_b, given_name="Beto")
    response = client_for(coordinator).post(
        f"/people/{ana.pk}/relationships/", {"other": theirs.pk, "kind": "friend"}, follow=True
    )
    assert not Relationship.objects.filter(other=theirs).exists()
    assert any(m.level_tag == "error" for m in response.context["messages"])
    assert "Beto" not in response.content.decode()


def test_relationship_to_self_refused(ana, coordinator, client_for):
    """A person cannot be related to themselves."""
    client_for(coordinator).post(
        f"/people/{ana.pk}/relationships/", {"other": ana.pk, "kind": "friend"}
    )
    assert not Relationship.objects.filter(person=ana, other=ana).exists()


def test_household_form(make_person, coordinator, client_for):
    """An address entered for a person puts them in that household."""
    person = make_person()
    client = client_for(coordinator)
    assert client.get(f"/people/{person.pk}/household/").status_code == 200
    response = client.post(
        f"/people/{person.pk}/household/",
        {
            "street": "2400 S. Blue Island Avenue",
            "unit": "2F",
            "city": "Chicago",
            "state": "IL",
            "zip_code": "60608",
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.household.street == "2400 S. Blue Island Avenue"
    assert person.household.unit == "2F"


def test_remove_urls_reach_their_own_views(ana):
    """Removing a tag or a relationship never reaches the contact-removal view (which, given a
    phone with the same id, would delete the phone instead)."""
    from django.urls import resolve

    from leaven.people import views

    rel = ana.relationships.get()
    tag = ana.taggings.get().tag
    phone = ana.phones.get()
    assert resolve(f"/people/{ana.pk}/tags/{tag.pk}/remove/").func == views.person_untag
    assert (
        resolve(f"/people/{ana.pk}/relationships/{rel.pk}/remove/").func
        == views.relationship_delete
    )
    assert resolve(f"/people/{ana.pk}/phone/{phone.pk}/remove/").func == views.contact_remove
    assert resolve(f"/people/{ana.pk}/email/1/remove/").func == views.contact_remove


def test_untag_keeps_phones(ana, coordinator, client_for):
    """Removing a tag leaves the person's phones and emails alone."""
    tag = ana.taggings.get().tag
    client_for(coordinator).post(f"/people/{ana.pk}/tags/{tag.pk}/remove/")
    assert not ana.taggings.exists()
    assert ana.phones.count() == 1 and ana.emails.count() == 1


def test_contact_remove_of_unknown_kind_is_404(ana, coordinator, client_for):
    """Only emails and phones are removed through the contact URL."""
    phone = ana.phones.get()
    response = client_for(coordinator).post(f"/people/{ana.pk}/faxes/{phone.pk}/remove/")
    assert response.status_code == 404
    assert ana.phones.filter(pk=phone.pk).exists()

"""Unit pages: the list, a unit's page, adding a sub-unit and the unit's audit log."""

from __future__ import annotations

import pytest

from leaven.core.models import AuditEvent, OrgUnit


def test_unit_list_shows_my_units(coordinator, client_for, tree):
    """The unit list holds the coordinator's committee and its circle only."""
    response = client_for(coordinator).get("/units/")
    assert response.status_code == 200
    assert set(response.context["units"]) == {tree.committee_a, tree.circle_a}
    assert tree.committee_b.name not in response.content.decode()


def test_unit_detail(coordinator, client_for, make_person, tree):
    """A unit page shows its members, roles, sub-units and parents."""
    make_person(given_name="Ana", family_name="Quispe")
    make_person(tree.committee_b, given_name="Beto", family_name="Quispe")
    response = client_for(coordinator).get(f"/units/{tree.committee_a.slug}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Ana Quispe" in content
    assert "Beto" not in content
    assert tree.circle_a.name in content
    assert [r.role for r in response.context["roles"]] == ["coordinator"]
    assert response.context["ancestors"] == [tree.network, tree.region]
    assert response.context["can_manage"] is False
    assert response.context["can_audit"] is False


def test_unit_detail_members_page_through(coordinator, client_for, make_person, tree):
    """Members are listed 25 to a page."""
    for n in range(27):
        make_person(given_name=f"P{n:02d}", family_name="Quispe")
    client = client_for(coordinator)
    first = client.get(f"/units/{tree.committee_a.slug}/")
    second = client.get(f"/units/{tree.committee_a.slug}/?page=2")
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 2


def test_unit_detail_outsider_gets_404(outsider, client_for, tree):
    """A coordinator of another committee gets the same 404 as for a unit that does not exist."""
    client = client_for(outsider)
    assert client.get(f"/units/{tree.committee_a.slug}/").status_code == 404
    assert client.get(f"/units/{tree.circle_a.slug}/").status_code == 404
    assert client.get("/units/no-such-unit/").status_code == 404
    assert AuditEvent.objects.filter(verb="access.denied", actor=outsider).exists()


@pytest.mark.parametrize("who", ["organizer", "admin"])
def test_sub_unit_creation(request, who, client_for, tree):
    """An organizer or an admin adds a circle under the committee and lands on its page."""
    actor = request.getfixturevalue(who)
    client = client_for(actor)
    form = client.get(f"/units/{tree.committee_a.slug}/new/")
    assert form.status_code == 200
    kinds = [value for value, _label in form.context["form"].fields["kind"].choices]
    assert "circle" in kinds and "region" not in kinds
    response = client.post(
        f"/units/{tree.committee_a.slug}/new/",
        {
            "name": "Youth circle",
            "kind": "circle",
            "languages": ["en", "es"],
            "time_zone": "America/Chicago",
        },
    )
    unit = OrgUnit.objects.get(name="Youth circle")
    assert response.status_code == 302
    assert response["Location"] == f"/units/{unit.slug}/"
    assert unit.parent == tree.committee_a
    event = AuditEvent.objects.get(verb="unit.created", object_id=str(unit.pk))
    assert event.actor == actor
    assert event.source == AuditEvent.Source.PAGE


def test_sub_unit_creation_bad_kind_shows_error(organizer, client_for, tree):
    """A kind that may not sit under the unit is a form error; nothing is created."""
    before = OrgUnit.objects.count()
    response = client_for(organizer).post(
        f"/units/{tree.committee_a.slug}/new/",
        {"name": "Region", "kind": "region", "languages": ["en"], "time_zone": "UTC"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert OrgUnit.objects.count() == before


def test_sub_unit_creation_refused_for_coordinator(coordinator, client_for, tree):
    """A coordinator gets a 404 on the new-unit page and its POST creates nothing."""
    client = client_for(coordinator)
    before = OrgUnit.objects.count()
    assert client.get(f"/units/{tree.committee_a.slug}/new/").status_code == 404
    response = client.post(
        f"/units/{tree.committee_a.slug}/new/",
        {"name": "Sneaky", "kind": "circle", "languages": ["en"], "time_zone": "UTC"},
    )
    assert response.status_code == 404
    assert OrgUnit.objects.count() == before


def test_sub_unit_creation_outsider_gets_404(outsider, client_for, tree):
    """A coordinator of another committee gets a 404, GET and POST, and nothing is created."""
    client = client_for(outsider)
    before = OrgUnit.objects.count()
    assert client.get(f"/units/{tree.committee_a.slug}/new/").status_code == 404
    response = client.post(
        f"/units/{tree.committee_a.slug}/new/",
        {"name": "Sneaky", "kind": "circle", "languages": ["en"], "time_zone": "UTC"},
    )
    assert response.status_code == 404
    assert OrgUnit.objects.count() == before


def test_unit_audit_log_for_admin(admin, client_for, make_person, tree):
    """An admin reads the unit's audit log, which holds ids, never names."""
    person = make_person(given_name="Ana", family_name="Quispe")
    response = client_for(admin).get(f"/units/{tree.committee_a.slug}/audit/")
    assert response.status_code == 200
    verbs = {event.verb for event in response.context["page"].object_list}
    assert "person.created" in verbs
    content = response.content.decode()
    assert f"/people/{person.pk}/" in content
    assert "Quispe" not in content
    detail = client_for(admin).get(f"/units/{tree.committee_a.slug}/")
    assert detail.context["can_audit"] is True


@pytest.mark.parametrize("who", ["coordinator", "organizer", "captain", "viewer", "outsider"])
def test_unit_audit_log_refused_to_non_admins(request, who, client_for, tree):
    """Everyone but an admin gets a 404 on the unit's audit log."""
    actor = request.getfixturevalue(who)
    assert client_for(actor).get(f"/units/{tree.committee_a.slug}/audit/").status_code == 404


def test_sub_unit_created_closed_to_public_reports_unless_ticked(organizer, client_for, tree):
    """A new unit takes no public incident reports unless the box is ticked."""
    client = client_for(organizer)
    base = {"kind": "circle", "languages": ["en", "es"], "time_zone": "America/Chicago"}
    client.post(f"/units/{tree.committee_a.slug}/new/", {**base, "name": "Quiet circle"})
    client.post(
        f"/units/{tree.committee_a.slug}/new/",
        {**base, "name": "Rapid circle", "takes_public_reports": "on"},
    )
    assert OrgUnit.objects.get(name="Quiet circle").takes_public_reports is False
    assert OrgUnit.objects.get(name="Rapid circle").takes_public_reports is True


def test_unit_edit_opens_public_reports_and_is_audited(organizer, client_for, tree):
    """An organizer edits the committee: the form starts from its values, saving turns on
    public reports and the audit event names the changed field only."""
    client = client_for(organizer)
    url = f"/units/{tree.committee_a.slug}/edit/"
    form = client.get(url)
    assert form.status_code == 200
    assert form.context["form"]["name"].value() == "Pilsen"
    assert form.context["form"]["takes_public_reports"].value() is False
    response = client.post(
        url,
        {
            "name": "Pilsen",
            "languages": ["en", "es"],
            "time_zone": tree.committee_a.time_zone,
            "takes_public_reports": "on",
        },
    )
    assert (
        response.status_code == 302 and response["Location"] == f"/units/{tree.committee_a.slug}/"
    )
    tree.committee_a.refresh_from_db()
    assert tree.committee_a.takes_public_reports is True
    event = AuditEvent.objects.filter(verb="unit.updated").latest("pk")
    assert event.detail == {"fields": ["takes_public_reports"]} and event.actor == organizer
    page = client.get(f"/units/{tree.committee_a.slug}/").content.decode()
    assert "Takes public incident reports" in page


def test_unit_edit_blank_name_is_an_error_and_keeps_input(organizer, client_for, tree):
    """A blank name is refused beside the field; the ticked box is kept; nothing changes."""
    response = client_for(organizer).post(
        f"/units/{tree.committee_a.slug}/edit/",
        {"name": " ", "languages": ["en"], "time_zone": "UTC", "takes_public_reports": "on"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert response.context["form"]["takes_public_reports"].value() is True
    tree.committee_a.refresh_from_db()
    assert tree.committee_a.name == "Pilsen" and not tree.committee_a.takes_public_reports


@pytest.mark.parametrize("who", ["coordinator", "outsider"])
def test_unit_edit_refused_with_404(request, who, client_for, tree):
    """A coordinator of the committee and a coordinator of another committee get 404 on the
    edit page, GET and POST, and nothing changes."""
    client = client_for(request.getfixturevalue(who))
    url = f"/units/{tree.committee_a.slug}/edit/"
    assert client.get(url).status_code == 404
    data = {"name": "X", "languages": ["en"], "time_zone": "UTC", "takes_public_reports": "on"}
    assert client.post(url, data).status_code == 404
    tree.committee_a.refresh_from_db()
    assert tree.committee_a.name == "Pilsen" and not tree.committee_a.takes_public_reports

"""`person_relationships`: a person's ties, both ways, only to people the actor may see."""

from __future__ import annotations

from leaven.people import selectors, services


def test_ties_to_people_out_of_scope_are_left_out(make_person, tree, coordinator, admin):
    ana = make_person(given_name="Ana")
    luis = make_person(given_name="Luis")
    outside = make_person(tree.committee_b, given_name="Bea")
    services.relationship_create(actor=admin, person=ana, other=luis, kind="recruited_by")
    services.relationship_create(actor=admin, person=ana, other=outside, kind="friend")
    services.relationship_create(actor=admin, person=outside, other=ana, kind="neighbor")
    services.relationship_create(actor=admin, person=luis, other=ana, kind="family")

    mine, to_me = selectors.person_relationships(actor=coordinator, person=ana)
    assert [(rel.kind, other) for rel, other in mine] == [("recruited_by", luis)]
    assert [(rel.kind, other) for rel, other in to_me] == [("family", luis)]

    mine, to_me = selectors.person_relationships(actor=admin, person=ana)
    assert sorted(other.given_name for _rel, other in mine) == ["Bea", "Luis"]
    assert sorted(other.given_name for _rel, other in to_me) == ["Bea", "Luis"]


def test_a_circle_member_counts_as_visible(make_person, tree, coordinator, outsider):
    ana = make_person(given_name="Ana")
    circle_member = make_person(tree.circle_a, given_name="Rosa")
    services.relationship_create(actor=_admin(tree), person=ana, other=circle_member, kind="friend")
    mine, _to_me = selectors.person_relationships(actor=coordinator, person=ana)
    assert [other for _rel, other in mine] == [circle_member]
    assert selectors.person_relationships(actor=outsider, person=ana) == ([], [])


def _admin(tree):
    from leaven.core.models import User
    from leaven.core.services import role_grant

    user, _ = User.objects.get_or_create(email="rel-admin@example.org")
    role_grant(actor=None, user=user, unit=tree.network, role="admin", as_operator=True)
    return user

"""Rapid-response reads: the responder roster with consent shown from the person's phones,
the person picker, the unit's precincts and the unit a form starts on."""

from __future__ import annotations

import pytest
from django.http import Http404

from leaven.core.models import AuditEvent
from leaven.people.models import Phone
from leaven.people.services import PhoneInput
from leaven.rapid_response import selectors

pytestmark = pytest.mark.django_db


def test_roster_shows_consent_from_phones(tree, dispatcher, make_responder):
    """Ready needs a texting phone with round-the-clock consent; an opt-out shows as one."""
    ready = make_responder(0.1)
    texts_only = make_responder(0.2, urgent=False)
    opted_out = make_responder(0.3, sms="opted_out")
    rows = {
        row.responder.pk: row.consent
        for row in selectors.responder_rows(actor=dispatcher, unit=tree.committee_a)
    }
    assert rows == {
        ready.pk: selectors.Consent.READY,
        texts_only.pk: selectors.Consent.NO_URGENT,
        opted_out.pk: selectors.Consent.OPTED_OUT,
    }
    assert Phone.objects.get(person=opted_out.person).sms_status == Phone.SMSStatus.OPTED_OUT


def test_roster_of_a_unit_includes_units_below_and_hides_deactivated(
    tree, dispatcher, make_responder
):
    """Responders of a circle show on its committee's roster; deactivated ones apart."""
    from leaven.rapid_response import services

    circle = make_responder(0.1, unit=tree.circle_a)
    gone = make_responder(0.2)
    services.responder_set_active(actor=dispatcher, responder=gone, active=False)
    active = [
        r.responder.pk for r in selectors.responder_rows(actor=dispatcher, unit=tree.committee_a)
    ]
    inactive = [
        r.responder.pk
        for r in selectors.responder_rows(actor=dispatcher, unit=tree.committee_a, active=False)
    ]
    assert active == [circle.pk]
    assert inactive == [gone.pk]


def test_outsider_gets_404(tree, outsider, dispatcher_b, make_responder):
    """A coordinator or a dispatcher of another committee sees neither roster nor responder,
    and the attempt is audited."""
    responder = make_responder(0.1)
    for actor in (outsider, dispatcher_b):
        with pytest.raises(Http404):
            selectors.responder_rows(actor=actor, unit=tree.committee_a)
        with pytest.raises(Http404):
            selectors.responder_get_for_actor(actor=actor, pk=responder.pk)
        with pytest.raises(Http404):
            selectors.responder_candidates(actor=actor, unit=tree.committee_a, q="Mar")
    assert AuditEvent.objects.filter(verb="access.denied", actor=dispatcher_b).count() == 3


def test_candidates_are_people_of_the_unit_not_yet_on_the_roster(
    tree, dispatcher, make_person, make_responder
):
    """The picker finds people of the unit by name, never those of another committee nor
    those already on the roster."""
    ana = make_person(given_name="Ana", family_name="Reyes")
    make_person(tree.committee_b, given_name="Ana", family_name="Rivas")
    on_roster = make_responder(0.1)
    found = selectors.responder_candidates(actor=dispatcher, unit=tree.committee_a, q="ana")
    assert [p.pk for p in found] == [ana.pk]
    assert (
        selectors.responder_candidates(
            actor=dispatcher, unit=tree.committee_a, q=on_roster.person.given_name
        )
        == []
    )
    with pytest.raises(Http404):
        selectors.responder_person_get(
            actor=dispatcher,
            unit=tree.committee_a,
            pk=make_person(tree.committee_b, phones=[PhoneInput(number="+13125550999")]).pk,
        )


def test_unit_precincts_are_where_its_people_live(tree, make_person, pilsen_precinct):
    """A precinct counts for a unit once one of its people lives there."""
    precinct, household = pilsen_precinct
    assert selectors.unit_precincts(unit=tree.committee_a) == []
    make_person(household=household)
    assert selectors.unit_precincts(unit=tree.committee_a) == [(precinct.code, precinct.name)]
    assert selectors.unit_precincts(unit=tree.committee_b) == []


def test_default_unit_is_the_deepest_or_the_last_used(tree, dispatcher):
    """A dispatcher of the network and of a committee starts on the committee, or on the
    unit they used last if they still may."""
    from leaven.core.permissions import RAPID_DISPATCH
    from leaven.core.services import role_grant

    role_grant(actor=None, user=dispatcher, unit=tree.network, role="dispatcher", as_operator=True)
    from leaven.core.access import clear_access_cache

    clear_access_cache(dispatcher)
    assert (
        selectors.default_unit(actor=dispatcher, permission=RAPID_DISPATCH) == tree.committee_a.pk
    )
    assert (
        selectors.default_unit(actor=dispatcher, permission=RAPID_DISPATCH, last=tree.region.pk)
        == tree.region.pk
    )

"""Messaging reads are scoped: another committee's segments, broadcasts and texts are 404s
(and the denial is audited)."""

from __future__ import annotations

import pytest
from django.http import Http404

from leaven.core.models import AuditEvent
from leaven.messaging import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(organizer, tree, add_person):
    segment = services.segment_create(
        actor=organizer, owner_unit=tree.committee_a, name="All", conditions={}
    )
    broadcast = services.broadcast_create(
        actor=organizer, segment=segment, channel="sms", name="B", templates={"en": {"body": "x"}}
    )
    add_person(phone="+13125550123")
    inbound = services.inbound_receive(message_sid="SM1", from_number="+13125550123", body="hi")
    return segment, broadcast, inbound.message


def test_organizer_sees_their_records(organizer, records):
    segment, broadcast, inbound = records
    assert selectors.segment_get_for_actor(actor=organizer, pk=segment.pk) == segment
    assert list(selectors.broadcast_list_for_actor(actor=organizer)) == [broadcast]
    assert list(selectors.inbox_for_actor(actor=organizer)) == [inbound]


def test_outsider_gets_404_and_the_denial_is_audited(outsider, records):
    segment, broadcast, inbound = records
    for getter, pk in (
        (selectors.segment_get_for_actor, segment.pk),
        (selectors.broadcast_get_for_actor, broadcast.pk),
        (selectors.inbound_get_for_actor, inbound.pk),
    ):
        with pytest.raises(Http404):
            getter(actor=outsider, pk=pk)
    assert AuditEvent.objects.filter(verb="access.denied", actor=outsider).count() == 3
    assert not selectors.segment_list_for_actor(actor=outsider).exists()
    assert not selectors.inbox_for_actor(actor=outsider).exists()


def test_missing_record_is_the_same_404(organizer):
    with pytest.raises(Http404):
        selectors.broadcast_get_for_actor(actor=organizer, pk=999999)

"""Changing an event (event_update): fields in both languages, capacity rules, co-hosts and
partners the actor may pick, and a new time that reaches each person once, with reminders
moved to match."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from leaven.core.models import AuditEvent
from leaven.events import services
from leaven.events.models import RSVP, Event, EventMessage
from leaven.people.models import PartnerOrganization


def _update(event, actor, **changes):
    values = {
        "title_en": event.title_en,
        "title_es": event.title_es,
        "description_en": event.description_en,
        "description_es": event.description_es,
        "kind": event.kind,
        "visibility": event.visibility,
        "status": event.status,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "address": event.address,
        "online_url": event.online_url,
        "capacity": event.capacity,
        "release_at": event.release_at,
    }
    values.update(changes)
    return services.event_update(actor=actor, event=event, **values)


def _messages(rsvp, kind, state=EventMessage.State.PENDING):
    return EventMessage.objects.filter(rsvp=rsvp, kind=kind, state=state)


def test_fields_change_and_are_audited_with_ids_only(make_event, coordinator):
    """Titles, descriptions, place and point change; the audit names the fields, not
    their values."""
    event = make_event()
    _update(
        event, coordinator, title_en="KYR training", title_es="Taller CSD",
        description_es="Traiga a su familia.", address="1850 S Throop St",
        latitude=41.857, longitude=-87.657,
    )  # fmt: skip
    event.refresh_from_db()
    assert (event.title_en, event.title_es, event.address) == (
        "KYR training",
        "Taller CSD",
        "1850 S Throop St",
    )
    assert event.latitude == pytest.approx(41.857)
    audit = AuditEvent.objects.get(verb="event.updated")
    assert "title_en" in audit.detail["fields"] and "Throop" not in str(audit.detail)


def test_new_time_reaches_each_person_once_and_moves_reminders(make_event, coordinator, contact):
    """Going and waitlisted people get one message with the new time; reminders at the old
    time are withdrawn and new ones wait for the new time. Saving again without a change
    sends nothing more."""
    event = make_event(capacity=1)
    going = services.rsvp_submit(event=event, contact=contact(email="a@example.org"))
    waiting = services.rsvp_submit(event=event, contact=contact(email="b@example.org"))
    old_reminders = list(_messages(going, EventMessage.Kind.REMINDER))
    assert len(old_reminders) == 2
    later = event.starts_at + timedelta(days=2)
    _update(event, coordinator, starts_at=later, ends_at=later + timedelta(hours=2))
    _update(event, coordinator, starts_at=later, ends_at=later + timedelta(hours=2))
    for rsvp in (going, waiting):
        assert _messages(rsvp, EventMessage.Kind.UPDATED).count() == 1
    for old in old_reminders:
        old.refresh_from_db()
        assert old.state == EventMessage.State.WITHDRAWN
    new = _messages(going, EventMessage.Kind.REMINDER)
    assert sorted(m.due_at for m in new) == [
        later - timedelta(hours=24),
        later - timedelta(hours=2),
    ]
    assert not _messages(waiting, EventMessage.Kind.REMINDER).exists()
    assert AuditEvent.objects.filter(verb="event.updated").count() == 1


def test_two_moves_before_sending_leave_one_message(make_event, coordinator, contact):
    """A second move before the first message went out replaces it: one message, the
    latest time."""
    event = make_event()
    rsvp = services.rsvp_submit(event=event, contact=contact())
    for days in (1, 2):
        start = event.starts_at + timedelta(days=days)
        _update(event, coordinator, starts_at=start, ends_at=start + timedelta(hours=2))
    assert _messages(rsvp, EventMessage.Kind.UPDATED).count() == 1
    assert _messages(rsvp, EventMessage.Kind.UPDATED, EventMessage.State.WITHDRAWN).count() == 1


def test_moving_a_shift_tells_only_its_people_once(make_event, admin, contact):
    """A shift that moves tells its own people, once even when the event moves too; a
    cancelled RSVP hears nothing."""
    event = make_event()
    early = services.shift_add(
        actor=admin, event=event, label_en="Morning", starts_at=event.starts_at,
        ends_at=event.starts_at + timedelta(hours=1),
    )  # fmt: skip
    late = services.shift_add(
        actor=admin, event=event, label_en="Afternoon", starts_at=event.starts_at,
        ends_at=event.starts_at + timedelta(hours=1),
    )  # fmt: skip
    a = services.rsvp_submit(event=event, shift=early, contact=contact(email="a@example.org"))
    b = services.rsvp_submit(event=event, shift=late, contact=contact(email="b@example.org"))
    c = services.rsvp_submit(event=event, shift=late, contact=contact(email="c@example.org"))
    services.rsvp_cancel(rsvp=c)
    moved = services.ShiftChange(
        shift_id=early.pk, label_en="Morning", label_es="Mañana",
        starts_at=early.starts_at + timedelta(hours=1), ends_at=early.ends_at + timedelta(hours=1),
    )  # fmt: skip
    same = services.ShiftChange(
        shift_id=late.pk, label_en="Afternoon", starts_at=late.starts_at, ends_at=late.ends_at
    )
    _update(event, admin, shifts=[moved, same])
    assert _messages(a, EventMessage.Kind.UPDATED).count() == 1
    assert not _messages(b, EventMessage.Kind.UPDATED).exists()
    assert not EventMessage.objects.filter(rsvp=c, kind=EventMessage.Kind.UPDATED).exists()
    early.refresh_from_db()
    assert early.label_es == "Mañana"
    start = event.starts_at + timedelta(days=1)
    moved2 = services.ShiftChange(
        shift_id=early.pk, label_en="Morning", starts_at=start, ends_at=start + timedelta(hours=1)
    )
    _update(event, admin, starts_at=start, ends_at=start + timedelta(hours=3), shifts=[moved2])
    assert _messages(a, EventMessage.Kind.UPDATED).count() == 1
    assert _messages(b, EventMessage.Kind.UPDATED).count() == 1


def test_the_new_time_message_goes_out_in_the_persons_language(
    make_event, coordinator, contact, settings
):
    """The message says the time changed, in Spanish for a Spanish speaker."""
    from leaven.events.services_messages import message_render

    settings.LEAVEN_PUBLIC_URL = "http://testserver"
    event = make_event()
    rsvp = services.rsvp_submit(event=event, contact=contact(language="es"))
    later = event.starts_at + timedelta(days=1)
    _update(event, coordinator, starts_at=later, ends_at=later + timedelta(hours=2))
    subject, body = message_render(_messages(rsvp, EventMessage.Kind.UPDATED).get())
    assert subject == "Nuevo horario: Taller Conozca Sus Derechos"
    assert "El horario cambió" in body


def test_a_cancelled_event_sends_no_new_time(make_event, coordinator, contact):
    """Cancelling and moving at once tells no one of a new time and withdraws reminders."""
    event = make_event()
    rsvp = services.rsvp_submit(event=event, contact=contact())
    later = event.starts_at + timedelta(days=1)
    _update(
        event, coordinator, status=Event.Status.CANCELLED, starts_at=later,
        ends_at=later + timedelta(hours=2),
    )  # fmt: skip
    assert not EventMessage.objects.filter(rsvp=rsvp, kind=EventMessage.Kind.UPDATED).exists()
    assert not _messages(rsvp, EventMessage.Kind.REMINDER).exists()


def test_capacity_cannot_drop_below_places_taken_and_growing_fills_the_waitlist(
    make_event, coordinator, contact
):
    event = make_event(capacity=1)
    services.rsvp_submit(event=event, contact=contact(email="a@example.org"))
    services.rsvp_submit(event=event, contact=contact(email="b@example.org"))
    services.rsvp_submit(event=event, contact=contact(email="c@example.org"))
    with pytest.raises(ValidationError) as error:
        _update(event, coordinator, capacity=0 + 1, ends_at=event.starts_at)
    assert "ends_at" in error.value.message_dict
    _update(event, coordinator, capacity=2)
    assert RSVP.objects.filter(status="going").count() == 2
    with pytest.raises(ValidationError) as error:
        _update(event, coordinator, capacity=1)
    assert "capacity" in error.value.message_dict


def test_mobilization_seats_cannot_drop_below_held(make_event, admin, tree):
    event = make_event(capacity=10, is_mobilization=True)
    services.quota_add(actor=admin, event=event, unit=tree.circle_a, seats=6)
    with pytest.raises(ValidationError):
        _update(event, admin, capacity=5)
    _update(event, admin, capacity=6)
    event.refresh_from_db()
    assert event.capacity == 6


def test_co_hosts_and_partners_must_be_the_actors(make_event, coordinator, admin, tree):
    """A coordinator may add a circle of their committee as co-host and a partner of their
    committee, but not another committee or its partner."""
    mine = PartnerOrganization.objects.create(
        owner_unit=tree.committee_a, name="Parish", sector="faith"
    )
    theirs = PartnerOrganization.objects.create(
        owner_unit=tree.committee_b, name="Union local", sector="labor"
    )
    event = make_event()
    _update(event, coordinator, co_host_units=[tree.circle_a], partners=[mine])
    assert list(event.co_host_units.all()) == [tree.circle_a]
    assert list(event.partners.all()) == [mine]
    with pytest.raises(ValidationError) as error:
        _update(event, coordinator, co_host_units=[tree.circle_a, tree.committee_b])
    assert "co_host_units" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        _update(event, coordinator, partners=[mine, theirs])
    assert "partners" in error.value.message_dict
    # Someone higher up set a co-host the coordinator does not organize: it may stay.
    _update(event, admin, co_host_units=[tree.circle_a, tree.committee_b])
    _update(event, coordinator, co_host_units=[tree.circle_a, tree.committee_b], title_en="New")
    assert event.co_host_units.count() == 2


def test_create_checks_co_hosts_too(make_event, coordinator, tree):
    from django.utils import timezone

    with pytest.raises(ValidationError):
        services.event_create(
            actor=coordinator, owner_unit=tree.committee_a, title_en="March",
            starts_at=timezone.now() + timedelta(days=1),
            ends_at=timezone.now() + timedelta(days=1, hours=1),
            co_host_units=[tree.committee_b],
        )  # fmt: skip


def test_outsider_cannot_update(make_event, outsider):
    event = make_event()
    with pytest.raises(ValidationError):
        _update(event, outsider, title_en="Taken over")
    event.refresh_from_db()
    assert event.title_en == "Know Your Rights training"

"""Event services: RSVPs with capacity and a waitlist, matching people without lifting an
opt-out, pending messages in the person's language, check-in, walk-ins and the stage rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from leaven.core.models import AuditEvent
from leaven.events import services
from leaven.events.models import RSVP, EventMessage
from leaven.people.models import Email, Person, Phone, Stage
from leaven.people.services import PhoneInput


def test_capacity_fills_then_waitlist(make_event, contact):
    """With capacity 2, the third RSVP goes on the waitlist."""
    event = make_event(capacity=2)
    first = services.rsvp_submit(event=event, contact=contact(email="a@example.org"))
    second = services.rsvp_submit(event=event, contact=contact(email="b@example.org"))
    third = services.rsvp_submit(event=event, contact=contact(email="c@example.org"))
    assert [first.status, second.status, third.status] == ["going", "going", "waitlist"]
    assert EventMessage.objects.get(rsvp=third).kind == EventMessage.Kind.WAITLIST


def test_shift_capacity_is_per_shift(make_event, admin, contact):
    """Each shift has its own capacity; a full shift waitlists without touching the other."""
    event = make_event()
    early = services.shift_add(
        actor=admin, event=event, label_en="Morning", starts_at=event.starts_at,
        ends_at=event.starts_at + timedelta(hours=1), capacity=1,
    )  # fmt: skip
    late = services.shift_add(
        actor=admin, event=event, label_en="Afternoon", starts_at=event.starts_at,
        ends_at=event.starts_at + timedelta(hours=1), capacity=1,
    )  # fmt: skip
    a = services.rsvp_submit(event=event, shift=early, contact=contact(email="a@example.org"))
    b = services.rsvp_submit(event=event, shift=early, contact=contact(email="b@example.org"))
    c = services.rsvp_submit(event=event, shift=late, contact=contact(email="c@example.org"))
    assert (a.status, b.status, c.status) == ("going", "waitlist", "going")
    with pytest.raises(ValidationError):
        services.rsvp_submit(event=event, contact=contact(email="d@example.org"))


def test_duplicate_rsvp_updates_one_person(make_event, contact):
    """The same email twice is one person and one RSVP; the newer language wins."""
    event = make_event()
    first = services.rsvp_submit(event=event, contact=contact(language="en"))
    again = services.rsvp_submit(
        event=event, contact=contact(email="ROSA@example.org", language="es")
    )
    assert first.pk == again.pk
    assert Person.objects.count() == 1
    assert RSVP.objects.get().language == "es"


def test_rsvp_matches_existing_person_without_changing_them(make_person, make_event, contact):
    """An RSVP with a known phone attaches to that person and leaves their name alone."""
    known = make_person(given_name="Lucía", phones=[PhoneInput(number="312-555-0101")])
    event = make_event()
    rsvp = services.rsvp_submit(
        event=event, contact=contact(given_name="Someone else", email="", phone="3125550101")
    )
    known.refresh_from_db()
    assert rsvp.person_id == known.pk and not rsvp.is_new_person
    assert known.given_name == "Lucía"


def test_person_in_another_committee_is_not_matched(make_person, make_event, tree, contact):
    """Matching stays inside the event's unit: a person of another committee is not linked."""
    other = make_person(tree.committee_b, phones=[PhoneInput(number="312-555-0102")])
    rsvp = services.rsvp_submit(event=make_event(), contact=contact(email="", phone="312-555-0102"))
    assert rsvp.person_id != other.pk and rsvp.is_new_person


def test_no_sms_consent_without_the_box(make_event, contact):
    """A phone given without the box checked has no SMS consent; the email without its box
    is not subscribed to news."""
    rsvp = services.rsvp_submit(event=make_event(), contact=contact(phone="312-555-0103"))
    assert rsvp.person.phones.get().sms_status == Phone.SMSStatus.NONE
    assert rsvp.person.emails.get().status == Email.Status.NONE


def test_sms_consent_from_the_box(make_event, contact):
    rsvp = services.rsvp_submit(
        event=make_event(),
        contact=contact(phone="312-555-0104", sms_consent=True, email_consent=True),
    )
    assert rsvp.person.phones.get().sms_status == Phone.SMSStatus.OPTED_IN
    assert rsvp.person.emails.get().status == Email.Status.SUBSCRIBED


def test_opt_out_is_never_lifted(make_person, make_event, contact):
    """Checking the SMS box does not undo an earlier STOP."""
    person = make_person(
        phones=[PhoneInput(number="312-555-0105", sms_status=Phone.SMSStatus.OPTED_OUT)]
    )
    services.rsvp_submit(
        event=make_event(), contact=contact(email="", phone="312-555-0105", sms_consent=True)
    )
    assert person.phones.get().sms_status == Phone.SMSStatus.OPTED_OUT


def test_matched_phone_without_consent_gets_it_only_when_asked(make_person, make_event, contact):
    person = make_person(phones=[PhoneInput(number="312-555-0106")])
    event = make_event()
    services.rsvp_submit(event=event, contact=contact(email="", phone="312-555-0106"))
    assert person.phones.get().sms_status == Phone.SMSStatus.NONE
    services.rsvp_submit(
        event=event, contact=contact(email="", phone="312-555-0106", sms_consent=True)
    )
    assert person.phones.get().sms_status == Phone.SMSStatus.OPTED_IN


def test_rsvp_needs_a_name_and_a_contact(make_event, contact):
    with pytest.raises(ValidationError) as caught:
        services.rsvp_submit(event=make_event(), contact=contact(given_name=" ", email=""))
    assert set(caught.value.message_dict) == {"given_name", "email"}
    assert Person.objects.count() == 0


def test_confirmation_and_reminders_pending_in_persons_language(make_event, contact):
    """A confirmation now and reminders 24 and 2 hours before, all pending, in Spanish."""
    event = make_event()
    rsvp = services.rsvp_submit(event=event, contact=contact(language="es"))
    rows = list(EventMessage.objects.filter(rsvp=rsvp).order_by("due_at"))
    assert [m.kind for m in rows] == ["confirmation", "reminder", "reminder"]
    assert {m.language for m in rows} == {"es"}
    assert {m.state for m in rows} == {"pending"}
    assert rows[1].due_at == event.starts_at - timedelta(hours=24)
    assert rows[2].due_at == event.starts_at - timedelta(hours=2)


def test_cancel_moves_the_waitlist_in_order(make_event, contact):
    """Cancelling a place gives it to the first on the waitlist, who is told; reminders of
    the cancelled RSVP are withdrawn."""
    event = make_event(capacity=1)
    going = services.rsvp_submit(event=event, contact=contact(email="a@example.org"))
    first = services.rsvp_submit(event=event, contact=contact(email="b@example.org"))
    second = services.rsvp_submit(event=event, contact=contact(email="c@example.org"))
    services.rsvp_cancel(rsvp=going)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("going", "waitlist")
    assert EventMessage.objects.filter(rsvp=first, kind="promoted").exists()
    assert not EventMessage.objects.filter(rsvp=going, kind="reminder", state="pending").exists()


def test_check_in_and_stage_rule(make_event, captain, contact):
    """The second meeting attended makes a supporter a volunteer."""
    person_rsvps = []
    for days in (3, 10):
        event = make_event(starts_at=timezone.now() + timedelta(days=days))
        person_rsvps.append(services.rsvp_submit(event=event, contact=contact()))
    services.rsvp_check_in(actor=captain, rsvp=person_rsvps[0])
    person = Person.objects.get()
    assert person.stage == Stage.UNKNOWN
    services.rsvp_check_in(actor=captain, rsvp=person_rsvps[1])
    person.refresh_from_db()
    assert person.stage == Stage.VOLUNTEER
    assert person.stage_changes.filter(to_stage="volunteer").exists()


def test_stage_rule_is_configurable(make_event, captain, contact, settings):
    settings.LEAVEN_EVENTS_STAGE_RULE = {"after": 1, "stage": "supporter"}
    rsvp = services.rsvp_submit(event=make_event(), contact=contact())
    services.rsvp_check_in(actor=captain, rsvp=rsvp)
    assert Person.objects.get().stage == Stage.SUPPORTER


def test_walk_in_becomes_a_person_and_is_checked_in(make_event, captain, contact):
    rsvp = services.rsvp_walk_in(
        actor=captain, event=make_event(), contact=contact(given_name="Tomás", email="")
    )
    assert rsvp.attendance == "attended" and rsvp.source == "walk_in" and rsvp.is_new_person
    assert Person.objects.get().given_name == "Tomás"


def test_viewer_cannot_check_in(make_event, viewer, contact):
    rsvp = services.rsvp_submit(event=make_event(), contact=contact())
    with pytest.raises(ValidationError):
        services.rsvp_check_in(actor=viewer, rsvp=rsvp)


def test_mark_no_shows(make_event, captain, contact):
    event = make_event()
    came = services.rsvp_submit(event=event, contact=contact(email="a@example.org"))
    absent = services.rsvp_submit(event=event, contact=contact(email="b@example.org"))
    services.rsvp_check_in(actor=captain, rsvp=came)
    assert services.event_mark_no_shows(actor=captain, event=event) == 1
    absent.refresh_from_db()
    assert absent.attendance == "no_show"
    assert AuditEvent.objects.filter(verb="event.no_shows_marked").exists()


def test_audit_holds_ids_only(make_event, contact):
    services.rsvp_submit(event=make_event(), contact=contact(given_name="Rosa"))
    for event in AuditEvent.objects.all():
        assert "Rosa" not in str(event.detail) and "rosa@" not in str(event.detail)


def test_csv_safe_neutralizes_formulas():
    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert services.csv_safe(bad).startswith("'")
    assert services.csv_safe("Rosa") == "Rosa"


def test_event_end_after_start(admin, tree):
    now = timezone.now()
    with pytest.raises(ValidationError):
        services.event_create(
            actor=admin, owner_unit=tree.committee_a, title_en="x", starts_at=now, ends_at=now
        )


def test_outsider_cannot_create_event_in_another_committee(outsider, tree):
    now = timezone.now()
    with pytest.raises(ValidationError):
        services.event_create(
            actor=outsider, owner_unit=tree.committee_a, title_en="x", starts_at=now,
            ends_at=now + timedelta(hours=1),
        )  # fmt: skip

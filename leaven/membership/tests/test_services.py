"""The membership rules: payments move paid-through dates, the daily rules move statuses by
date (a moving clock passed as dates), corrections are new entries, and only the right
roles may change anything."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from leaven.membership import services
from leaven.membership.models import DuesPayment, MembershipReminder, Status

D = dt.date


def _pay(actor, membership, cents, day, method="cash"):
    return services.payment_record(
        actor=actor,
        membership=membership,
        amount_cents=cents,
        paid_on=day,
        method=method,
        today=day,
    )


def test_first_payment_activates_and_sets_paid_through(make_membership, captain):
    """A pending membership becomes active with its first payment, paid for one month."""
    membership = make_membership(today=D(2026, 1, 10))
    payment = _pay(captain, membership, 1000, D(2026, 1, 10))
    membership.refresh_from_db()
    assert membership.status == Status.ACTIVE
    assert membership.paid_through == D(2026, 2, 10)
    assert payment.receipt_number.startswith("R260110-")


def test_two_months_paid_at_once_and_month_end(make_membership, captain):
    """Paying twice the dues covers two months; a month end stays a month end."""
    membership = make_membership(today=D(2026, 1, 31))
    _pay(captain, membership, 2000, D(2026, 1, 31))
    membership.refresh_from_db()
    assert membership.paid_through == D(2026, 3, 31)


def test_grace_then_lapse_with_reminders_moving_clock(make_membership, captain):
    """Paid through Feb 10: still active on Feb 10, in grace from Feb 11 with a reminder,
    lapsed only once the 30-day grace period ends, with a lapse reminder. Running the rules
    twice on a day changes nothing more."""
    membership = make_membership(today=D(2026, 1, 10))
    _pay(captain, membership, 1000, D(2026, 1, 10))

    services.membership_apply_rules(today=D(2026, 2, 10))
    membership.refresh_from_db()
    assert membership.status == Status.ACTIVE

    result = services.membership_apply_rules(today=D(2026, 2, 11))
    membership.refresh_from_db()
    assert (membership.status, result.grace) == (Status.GRACE, 1)
    assert membership.grace_until == D(2026, 3, 12)
    assert membership.reminders.filter(kind="grace", state="pending").count() == 1

    again = services.membership_apply_rules(today=D(2026, 2, 11))
    assert again.grace == 0
    assert membership.reminders.filter(kind="grace").count() == 1

    services.membership_apply_rules(today=D(2026, 3, 12))
    membership.refresh_from_db()
    assert membership.status == Status.GRACE

    services.membership_apply_rules(today=D(2026, 3, 13))
    membership.refresh_from_db()
    assert membership.status == Status.LAPSED
    assert membership.status_since == D(2026, 3, 13)
    lapse = membership.reminders.get(kind="lapsed")
    assert (lapse.state, lapse.language) == ("pending", membership.person.language)
    steps = list(membership.status_changes.order_by("on", "id").values_list("to_status", flat=True))
    assert steps == ["pending", "active", "grace", "lapsed"]


def test_renewal_reminder_once_ahead_of_paid_through(make_membership, captain):
    """A renewal reminder is queued two weeks before the paid-through date, once."""
    membership = make_membership(today=D(2026, 1, 10))
    _pay(captain, membership, 1000, D(2026, 1, 10))
    assert services.membership_apply_rules(today=D(2026, 1, 26)).renewal_reminders == 0
    assert services.membership_apply_rules(today=D(2026, 1, 27)).renewal_reminders == 1
    assert services.membership_apply_rules(today=D(2026, 1, 28)).renewal_reminders == 0
    reminder = membership.reminders.get(kind="renewal")
    assert reminder.due == D(2026, 1, 27)


def test_payment_reactivates_a_lapsed_membership(make_membership, captain):
    """A lapsed member who pays again is active again, paid from the day they paid."""
    membership = make_membership(today=D(2026, 1, 10))
    _pay(captain, membership, 1000, D(2026, 1, 10))
    services.membership_apply_rules(today=D(2026, 2, 11))
    services.membership_apply_rules(today=D(2026, 3, 20))
    membership.refresh_from_db()
    assert membership.status == Status.LAPSED
    _pay(captain, membership, 1000, D(2026, 3, 20))
    membership.refresh_from_db()
    assert membership.status == Status.ACTIVE
    assert membership.paid_through == D(2026, 4, 20)
    assert membership.grace_until is None


def test_payment_in_grace_extends_from_old_paid_through(make_membership, captain):
    """Paying during grace restores active and continues from the old paid-through date."""
    membership = make_membership(today=D(2026, 1, 10))
    _pay(captain, membership, 1000, D(2026, 1, 10))
    services.membership_apply_rules(today=D(2026, 2, 15))
    _pay(captain, membership, 1000, D(2026, 2, 15))
    membership.refresh_from_db()
    assert membership.status == Status.ACTIVE
    assert membership.paid_through == D(2026, 3, 10)


def test_waiver_review_moves_to_grace_never_silently_lapses(make_membership, coordinator):
    """A hardship waiver holds until its review date; then the member is in grace with a
    review reminder, not lapsed."""
    membership = make_membership(today=D(2026, 1, 10))
    services.membership_waive(
        actor=coordinator,
        membership=membership,
        review_on=D(2026, 6, 1),
        reason="lost job",
        today=D(2026, 1, 10),
    )
    services.membership_apply_rules(today=D(2026, 5, 31))
    membership.refresh_from_db()
    assert (membership.status, membership.waiver_review_on) == (Status.WAIVED, D(2026, 6, 1))
    services.membership_apply_rules(today=D(2026, 6, 1))
    membership.refresh_from_db()
    assert membership.status == Status.GRACE
    assert membership.grace_until == D(2026, 7, 1)
    assert membership.reminders.filter(kind="waiver_review").exists()


def test_waiver_needs_a_future_review_date_and_a_manager(make_membership, coordinator, captain):
    membership = make_membership(today=D(2026, 1, 10))
    with pytest.raises(ValidationError):
        services.membership_waive(
            actor=coordinator,
            membership=membership,
            review_on=D(2026, 1, 10),
            reason="",
            today=D(2026, 1, 10),
        )
    with pytest.raises(ValidationError):
        services.membership_waive(
            actor=captain,
            membership=membership,
            review_on=D(2026, 3, 1),
            reason="",
            today=D(2026, 1, 10),
        )


def test_reversal_is_a_new_entry_and_rolls_back_paid_through(make_membership, captain, admin):
    """A correction never edits the original: it adds a negative entry that points at it,
    once, and takes back the months it credited."""
    membership = make_membership(today=D(2026, 1, 10))
    payment = _pay(captain, membership, 2000, D(2026, 1, 10))
    reversal = services.payment_reverse(
        actor=admin, payment=payment, reason="counted twice", today=D(2026, 1, 11)
    )
    membership.refresh_from_db()
    assert reversal.amount_cents == -2000 and reversal.reverses_id == payment.pk
    assert membership.paid_through == D(2026, 1, 10)
    payment.refresh_from_db()
    assert payment.amount_cents == 2000
    with pytest.raises(ValidationError):
        services.payment_reverse(actor=admin, payment=payment, reason="again", today=D(2026, 1, 11))
    with pytest.raises(ValueError):
        payment.amount_cents = 1
        payment.save()
    assert DuesPayment.objects.filter(membership=membership).count() == 2


def test_captain_records_cash_only(make_membership, captain, viewer):
    """A captain records cash but not card or check payments; a viewer records nothing."""
    membership = make_membership(today=D(2026, 1, 10))
    with pytest.raises(ValidationError):
        _pay(captain, membership, 1000, D(2026, 1, 10), method="check")
    with pytest.raises(ValidationError):
        _pay(viewer, membership, 1000, D(2026, 1, 10))
    assert not DuesPayment.objects.exists()


def test_outsider_cannot_record_or_change(make_membership, outsider):
    """A coordinator of another committee can neither record dues nor change the status."""
    membership = make_membership(today=D(2026, 1, 10))
    with pytest.raises(ValidationError):
        _pay(outsider, membership, 1000, D(2026, 1, 10))
    with pytest.raises(ValidationError):
        services.membership_set_status(
            actor=outsider,
            membership=membership,
            status="cancelled",
            reason="x",
            today=D(2026, 1, 10),
        )
    membership.refresh_from_db()
    assert membership.status == Status.PENDING


def test_bad_amounts_and_dates_refused(make_membership, captain):
    membership = make_membership(today=D(2026, 1, 10))
    for cents, day in [(0, D(2026, 1, 10)), (-5, D(2026, 1, 10)), (1000, D(2026, 1, 11))]:
        with pytest.raises(ValidationError):
            services.payment_record(
                actor=captain,
                membership=membership,
                amount_cents=cents,
                paid_on=day,
                method="cash",
                today=D(2026, 1, 10),
            )


def test_status_by_hand_needs_a_reason(make_membership, coordinator):
    membership = make_membership(today=D(2026, 1, 10))
    with pytest.raises(ValidationError):
        services.membership_set_status(
            actor=coordinator,
            membership=membership,
            status="cancelled",
            reason=" ",
            today=D(2026, 1, 10),
        )
    services.membership_set_status(
        actor=coordinator,
        membership=membership,
        status="cancelled",
        reason="moved away",
        today=D(2026, 1, 10),
    )
    change = membership.status_changes.first()
    assert (change.to_status, change.reason, change.actor) == (
        "cancelled",
        "moved away",
        coordinator,
    )


def test_sliding_scale_amount_checked(tree, tiers, admin, make_person):
    """A sliding-scale tier takes any amount from its minimum; a fixed one only its own."""
    sliding, yearly = tiers
    person = make_person()
    with pytest.raises(ValidationError):
        services.membership_create(
            actor=admin,
            person=person,
            unit=tree.committee_a,
            tier=sliding,
            amount_cents=50,
            today=D(2026, 1, 1),
        )
    with pytest.raises(ValidationError):
        services.membership_create(
            actor=admin,
            person=person,
            unit=tree.committee_a,
            tier=yearly,
            amount_cents=100,
            today=D(2026, 1, 1),
        )
    membership = services.membership_create(
        actor=admin,
        person=person,
        unit=tree.committee_a,
        tier=sliding,
        amount_cents=300,
        today=D(2026, 1, 1),
    )
    assert membership.amount_cents == 300


def test_yearly_tier_and_tier_of_another_unit(tree, tiers, other_tier, admin, make_person, captain):
    """A yearly payment covers twelve months; a tier of another committee is refused."""
    _sliding, yearly = tiers
    person = make_person()
    with pytest.raises(ValidationError):
        services.membership_create(
            actor=admin, person=person, unit=tree.committee_a, tier=other_tier, today=D(2026, 1, 1)
        )
    membership = services.membership_create(
        actor=admin, person=person, unit=tree.committee_a, tier=yearly, today=D(2026, 1, 1)
    )
    _pay(captain, membership, 6000, D(2026, 1, 5))
    membership.refresh_from_db()
    assert membership.paid_through == D(2027, 1, 5)


def test_circle_uses_the_committees_tiers(tree, tiers):
    """A circle without tiers of its own offers its committee's."""
    assert services.tiers_for_unit(unit=tree.circle_a) == list(tiers)
    assert services.tiers_for_unit(unit=tree.committee_b) == []


def test_reminders_are_pending_rows_in_the_members_language(make_membership, captain):
    membership = make_membership(today=D(2026, 1, 10), language="es")
    _pay(captain, membership, 1000, D(2026, 1, 10))
    services.membership_apply_rules(today=D(2026, 2, 11))
    reminder = MembershipReminder.objects.get(membership=membership, kind="grace")
    assert (reminder.language, reminder.state, reminder.person_id) == (
        "es",
        "pending",
        membership.person_id,
    )


def test_goal_needs_a_future_date(tree, coordinator):
    with pytest.raises(ValidationError):
        services.goal_set(
            actor=coordinator,
            unit=tree.committee_a,
            target_count=10,
            target_date=D(2026, 1, 1),
            today=D(2026, 1, 1),
        )
    goal = services.goal_set(
        actor=coordinator,
        unit=tree.committee_a,
        target_count=10,
        target_date=D(2026, 12, 31),
        today=D(2026, 1, 1),
    )
    assert goal.target_count == 10

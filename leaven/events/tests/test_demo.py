"""The demo events: three bilingual events with RSVPs and a bus with circle quotas."""

from __future__ import annotations

import random

from leaven.events.demo import events_demo
from leaven.events.models import RSVP, Quota


def test_events_demo(tree, make_person):
    people = [make_person(given_name=f"P{n}") for n in range(20)]
    people += [make_person(tree.circle_a, given_name=f"C{n}") for n in range(5)]
    events = events_demo(unit=tree.committee_a, people=people, rng=random.Random(7))
    assert [e.kind for e in events] == ["training", "house_meeting", "bus_trip"]
    assert all(e.title_es for e in events)
    assert RSVP.objects.filter(event=events[0]).count() == 25
    quota = Quota.objects.get(event=events[2])
    assert 0 < RSVP.objects.filter(quota=quota, status="going").count() <= quota.seats


def test_demo_bus_has_a_seat_history_over_days(tree, make_person, admin):
    """The bus's seats fill over the days before now, in order, for the dashboard chart."""
    from datetime import timedelta

    from django.utils import timezone

    from leaven.events.selectors import seat_history

    people = [make_person(tree.circle_a, given_name=f"C{n}") for n in range(6)]
    bus = events_demo(unit=tree.committee_a, people=people, rng=random.Random(3))[2]
    series = seat_history(actor=admin, event=bus)[0]
    moments = [at for at, _n in series.points]
    assert moments == sorted(moments)
    assert moments[0] < timezone.now() - timedelta(days=11)
    assert [n for _at, n in series.points][-1] == RSVP.objects.filter(
        quota=series.quota, status="going"
    ).count()

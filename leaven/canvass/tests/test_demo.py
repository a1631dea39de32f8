"""The demo canvassing: a bilingual script, turfs, a captain's assignment and door results."""

from __future__ import annotations

import random

from leaven.canvass.demo import canvass_demo
from leaven.canvass.models import Assignment, ContactAttempt, Script, Turf


def test_canvass_demo(tree, block, captain):
    made = canvass_demo(unit=tree.committee_a, people=block.people, rng=random.Random(4))
    script = Script.objects.get()
    assert made[0] == script and script.text_es and script.questions.count() == 3
    turfs = Turf.objects.filter(archived=False)
    assert sum(t.door_count for t in turfs) == 40
    assert Assignment.objects.filter(user=captain).count() == 1
    assert ContactAttempt.objects.count() > 10


def test_canvass_demo_without_households_makes_nothing(tree, make_person):
    assert canvass_demo(unit=tree.committee_b, people=[], rng=random.Random(1)) == []

"""Demo data for the demo organization."""

from __future__ import annotations

import random
from typing import Any

from leaven.core.models import OrgUnit
from leaven.people.models import Person


def rapid_response_demo(*, unit: OrgUnit, people: list[Person], rng: random.Random) -> list[Any]:
    """Nothing yet: returns the records it made."""
    return []

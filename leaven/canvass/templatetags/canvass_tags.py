"""Door results on the person and household pages (one include line each)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from leaven.canvass import selectors
from leaven.people.models import Household, Person

register = template.Library()


@register.simple_tag(takes_context=True)
def canvass_history(context: Any, subject: Person | Household) -> list[selectors.HistoryEntry]:
    """Contact attempts and answers about a person (or a household), newest first."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    language = (get_language() or "en")[:2]
    if isinstance(subject, Household):
        return selectors.household_canvass_history(actor=user, household=subject, language=language)
    return selectors.person_canvass_history(actor=user, person=subject, language=language)

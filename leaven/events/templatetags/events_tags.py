"""A person's events, for the one include on the person page."""

from __future__ import annotations

from typing import Any

from django import template

from leaven.core import access, permissions
from leaven.events import selectors, tokens
from leaven.people.models import Person

register = template.Library()


@register.simple_tag(takes_context=True)
def person_attendance(context: Any, person: Person) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not access.can_anywhere(user, permissions.EVENTS_VIEW):
        return {"rows": [], "feed": ""}
    rows = selectors.attendance_for_person(actor=user, person=person)
    return {"rows": rows, "feed": tokens.make(tokens.PERSON_FEED, person.pk) if rows else ""}

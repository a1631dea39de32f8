"""Small display helpers for people pages."""

from __future__ import annotations

from django import template

from leaven.people.normalize import phone_display

register = template.Library()


@register.filter(name="phone")
def phone(number: str) -> str:
    """A stored E.164 number as people read it: (312) 555-0142, or +52 55 1234 5678."""
    return phone_display(number) if number else ""

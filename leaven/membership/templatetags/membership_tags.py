from __future__ import annotations

from django import template

from leaven.membership.services import money as format_money

register = template.Library()


@register.filter
def money(cents: int | None, currency: str = "USD") -> str:
    return format_money(int(cents or 0), currency)


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def field(record: Any, name: str) -> Any:
    value = getattr(record, name, "")
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return value

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("messaging/_person_texts.html", takes_context=True)
def person_texts(context: Any, person: Any) -> dict[str, Any]:
    """Texts a person sent, for their page (empty if the viewer may not see messaging)."""
    from leaven.messaging.selectors import person_texts as texts

    return {"texts": list(texts(actor=context["request"].user, person=person))}

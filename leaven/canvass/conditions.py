"""A segment condition about door results, registered with the messaging app's registry:
{"kind": "canvass_result", "value": ["spoke", "not_home"]} matches people with such a
result on record."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from leaven.canvass.models import ContactAttempt, ResultCode


def canvass_result(value: Any) -> Q:
    if not isinstance(value, list) or not value or not set(value) <= set(ResultCode.values):
        raise ValidationError(_("Choose one or more door results."))
    return Q(Exists(ContactAttempt.objects.filter(person_id=OuterRef("pk"), result__in=value)))


def register() -> None:
    from leaven.messaging.segments import register_condition

    register_condition("canvass_result", canvass_result)

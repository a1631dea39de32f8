from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from leaven.api.models import Webhook

# The events Leaven sends today (submissions and signatures come later).
SENT = {
    Webhook.Topic.PERSON_CREATED,
    Webhook.Topic.PERSON_UPDATED,
    Webhook.Topic.TAGGING,
    Webhook.Topic.ATTENDANCE,
    Webhook.Topic.DONATION,
}


class ApiKeyForm(forms.Form):
    unit = forms.TypedChoiceField(label=_("Unit"), coerce=int)
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What uses this key, such as “data warehouse sync”."),
    )

    def __init__(self, *args: Any, units: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["unit"]).choices = units


class WebhookForm(forms.Form):
    unit = forms.TypedChoiceField(label=_("Unit"), coerce=int)
    url = forms.CharField(
        label=_("Endpoint address"),
        max_length=500,
        help_text=_("An https:// address that receives the events."),
    )
    topics = forms.MultipleChoiceField(
        label=_("Events to send"),
        choices=[(value, label) for value, label in Webhook.Topic.choices if value in SENT],
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, units: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["unit"]).choices = units

"""Forms: shape only; rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leaven.canvass.models import ResultCode
from leaven.messaging.models import Channel
from leaven.people.models import Stage

LANGUAGE_CHOICES = [("en", _("English")), ("es", _("Spanish"))]
MEMBERSHIP_STATUS_CHOICES = [
    ("active", _("Active")),
    ("grace", _("Grace period")),
    ("lapsed", _("Lapsed")),
    ("waived", _("Dues waived")),
    ("pending", _("Pending")),
]
CONSENT_CHOICES = [
    ("", _("Anyone")),
    ("email", _("Subscribed to email")),
    ("sms", _("Opted in to texts")),
    ("urgent", _("Opted in to round-the-clock alerts")),
]


def _codes(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    owner_unit = forms.TypedChoiceField(label=_("Unit"), coerce=int)
    match = forms.ChoiceField(
        label=_("People must match"),
        choices=[("and", _("all of these conditions")), ("or", _("any of these conditions"))],
        initial="and",
    )
    units = forms.TypedMultipleChoiceField(
        label=_("In these units (and the units below them)"), coerce=int, required=False
    )
    tags = forms.TypedMultipleChoiceField(
        label=_("With any of these tags"), coerce=int, required=False
    )
    stages = forms.MultipleChoiceField(
        label=_("At these stages"), choices=Stage.choices, required=False
    )
    languages = forms.MultipleChoiceField(
        label=_("Speaking"), choices=LANGUAGE_CHOICES, required=False
    )
    precincts = forms.CharField(
        label=_("Precincts"), required=False, help_text=_("Codes separated by commas.")
    )
    wards = forms.CharField(
        label=_("Wards"), required=False, help_text=_("Codes separated by commas.")
    )
    consent = forms.ChoiceField(label=_("Consent"), choices=CONSENT_CHOICES, required=False)
    membership_status = forms.MultipleChoiceField(
        label=_("Membership status"), choices=MEMBERSHIP_STATUS_CHOICES, required=False
    )
    tiers = forms.TypedMultipleChoiceField(label=_("Membership tier"), coerce=int, required=False)
    paid_since = forms.DateField(
        label=_("Paid dues on or after"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    rsvp_events = forms.TypedMultipleChoiceField(
        label=_("Said they will come to any of these events"), coerce=int, required=False
    )
    attended_events = forms.TypedMultipleChoiceField(
        label=_("Came to any of these events"), coerce=int, required=False
    )
    attended_within_days = forms.IntegerField(
        label=_("Came to any event in the last … days"),
        min_value=1,
        max_value=3660,
        required=False,
    )
    door_results = forms.MultipleChoiceField(
        label=_("Had any of these results at the door"),
        choices=ResultCode.choices,
        required=False,
    )
    exclude_tags = forms.TypedMultipleChoiceField(
        label=_("But not with these tags"), coerce=int, required=False
    )

    def __init__(
        self,
        *args: Any,
        units: list[tuple[int, str]],
        tags: list[tuple[int, str]],
        tiers: list[tuple[int, str]] | None = None,
        events: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_unit"].choices = units  # type: ignore[attr-defined]
        self.fields["units"].choices = units  # type: ignore[attr-defined]
        self.fields["tags"].choices = tags  # type: ignore[attr-defined]
        self.fields["exclude_tags"].choices = tags  # type: ignore[attr-defined]
        self.fields["tiers"].choices = tiers or []  # type: ignore[attr-defined]
        self.fields["rsvp_events"].choices = events or []  # type: ignore[attr-defined]
        self.fields["attended_events"].choices = events or []  # type: ignore[attr-defined]
        for name in (
            "units",
            "tags",
            "stages",
            "languages",
            "membership_status",
            "tiers",
            "rsvp_events",
            "attended_events",
            "door_results",
            "exclude_tags",
        ):
            self.fields[name].widget = forms.CheckboxSelectMultiple(
                choices=self.fields[name].choices  # type: ignore[attr-defined]
            )

    def conditions(self) -> dict[str, Any]:
        """The condition tree for the cleaned form (see leaven.messaging.segments)."""
        data = self.cleaned_data
        children: list[dict[str, Any]] = []
        for field, kind in (("units", "units"), ("tags", "tags"), ("stages", "stage")):
            if data.get(field):
                children.append({"kind": kind, "value": list(data[field])})
        if data.get("languages"):
            children.append({"kind": "language", "value": list(data["languages"])})
        for field, kind in (("precincts", "precinct"), ("wards", "ward")):
            codes = _codes(data.get(field) or "")
            if codes:
                children.append({"kind": kind, "value": codes})
        membership: dict[str, Any] = {}
        if data.get("membership_status"):
            membership["status"] = list(data["membership_status"])
        if data.get("tiers"):
            membership["tiers"] = list(data["tiers"])
        if data.get("paid_since"):
            membership["paid_since"] = data["paid_since"].isoformat()
        if membership:
            children.append({"kind": "membership", "value": membership})
        for field, kind in (("rsvp_events", "event_rsvp"), ("attended_events", "event_attended")):
            if data.get(field):
                children.append({"kind": kind, "value": list(data[field])})
        if data.get("attended_within_days"):
            children.append(
                {"kind": "attended_within_days", "value": int(data["attended_within_days"])}
            )
        if data.get("door_results"):
            children.append({"kind": "canvass_result", "value": list(data["door_results"])})
        parts: list[dict[str, Any]] = []
        if children:
            parts.append({"op": data.get("match") or "and", "children": children})
        if data.get("consent"):
            parts.append({"kind": "consent", "value": data["consent"]})
        if data.get("exclude_tags"):
            parts.append(
                {"op": "not", "children": [{"kind": "tags", "value": list(data["exclude_tags"])}]}
            )
        return {"op": "and", "children": parts}


def initial_from_conditions(tree: dict[str, Any]) -> dict[str, Any]:
    """Form values for a tree written by SegmentForm.conditions."""
    initial: dict[str, Any] = {"match": "and"}
    fields = {"units": "units", "tags": "tags", "stage": "stages", "language": "languages"}
    for part in tree.get("children") or []:
        if part.get("op") in ("and", "or"):
            initial["match"] = part["op"]
            for child in part.get("children") or []:
                kind = child.get("kind")
                if kind in fields:
                    initial[fields[kind]] = child.get("value")
                elif kind in ("precinct", "ward"):
                    initial[kind + "s"] = ", ".join(child.get("value") or [])
                elif kind == "membership":
                    value = child.get("value") or {}
                    initial["membership_status"] = value.get("status")
                    initial["tiers"] = value.get("tiers")
                    initial["paid_since"] = value.get("paid_since")
                elif kind == "event_rsvp":
                    initial["rsvp_events"] = child.get("value")
                elif kind == "event_attended":
                    initial["attended_events"] = child.get("value")
                elif kind == "attended_within_days":
                    initial["attended_within_days"] = child.get("value")
                elif kind == "canvass_result":
                    initial["door_results"] = child.get("value")
        elif part.get("kind") == "consent":
            initial["consent"] = part.get("value")
        elif part.get("op") == "not":
            initial["exclude_tags"] = (part.get("children") or [{}])[0].get("value")
    return initial


class BroadcastForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    segment = forms.TypedChoiceField(label=_("Segment"), coerce=int)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    urgent = forms.BooleanField(
        label=_("Urgent alert (texts only: any hour, only to people with round-the-clock consent)"),
        required=False,
    )
    event = forms.TypedChoiceField(
        label=_("Event for the link"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Write {event_link} in the message where the event's public page goes."),
    )
    subject_en = forms.CharField(label=_("Subject in English"), max_length=200, required=False)
    body_en = forms.CharField(
        label=_("Message in English"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )
    subject_es = forms.CharField(label=_("Subject in Spanish"), max_length=200, required=False)
    body_es = forms.CharField(
        label=_("Message in Spanish"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )

    def __init__(
        self,
        *args: Any,
        segments: list[tuple[int, str]],
        events: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = segments  # type: ignore[attr-defined]
        self.fields["event"].choices = [  # type: ignore[attr-defined]
            ("", _("No event")),
            *(events or []),
        ]

    def templates(self) -> dict[str, dict[str, str]]:
        data = self.cleaned_data
        return {
            code: {"subject": data.get(f"subject_{code}", ""), "body": data.get(f"body_{code}", "")}
            for code in ("en", "es")
        }


class ScheduleForm(forms.Form):
    scheduled_at = forms.DateTimeField(
        label=_("Send at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class TestSendForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)
    destination = forms.CharField(
        label=_("Your phone number (texts only)"), max_length=40, required=False
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply"), max_length=1600, widget=forms.Textarea(attrs={"rows": 3})
    )

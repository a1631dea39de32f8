from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from leaven.core import permissions
from leaven.core.forms import LANGUAGE_CHOICES, unit_choices
from leaven.rapid_response.models import Incident, IncidentType, Skill

WHEN_CHOICES = [
    ("0", _("Happening now")),
    ("15", _("About 15 minutes ago")),
    ("30", _("About 30 minutes ago")),
    ("60", _("About an hour ago")),
    ("180", _("Earlier today")),
]


class ReportForm(forms.Form):
    """The public report: what, where, when, what was seen, optional contact."""

    type = forms.ChoiceField(
        label=_("What did you see?"), choices=IncidentType.choices, widget=forms.RadioSelect
    )
    cross_streets = forms.CharField(
        label=_("Where? Cross streets or a landmark"),
        max_length=200,
        required=False,
        help_text=_("Or put a pin on the map."),
    )
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    lon = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    when = forms.ChoiceField(label=_("When?"), choices=WHEN_CHOICES, initial="0")
    description = forms.CharField(
        label=_("What did you see?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Agencies, vehicles, uniforms. Do not write anyone's name."),
    )
    officers = forms.IntegerField(
        label=_("How many officers?"), required=False, min_value=0, max_value=1000
    )
    contact = forms.CharField(
        label=_("Phone or email, if we may contact you"),
        required=False,
        max_length=200,
        help_text=_("Optional. Only dispatchers see it, and it is deleted after 30 days."),
    )
    # A field people never see: bots fill it in.
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["description"].label = _("Details")
        self.fields["cross_streets"].widget.attrs["autocomplete"] = "off"


class HotlineForm(ReportForm):
    """A hotline call taken by a dispatcher: the same, plus the unit and the caller's
    language."""

    unit = forms.TypedChoiceField(label=_("Committee"), coerce=int)
    language = forms.ChoiceField(label=_("Caller's language"), choices=LANGUAGE_CHOICES)
    lat = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    lon = forms.FloatField(label=_("Longitude"), required=False, min_value=-180, max_value=180)

    field_order = ["unit", "language", "type", "cross_streets", "lat", "lon", "when"]

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["website"]
        self.fields["type"].widget = forms.Select(choices=IncidentType.choices)
        self.fields["type"].label = _("What")
        self.fields["contact"].label = _("Caller's phone or email")
        self.fields["cross_streets"].help_text = _("Or the latitude and longitude below.")
        cast(forms.TypedChoiceField, self.fields["unit"]).choices = unit_choices(
            actor, permissions.RAPID_DISPATCH
        )


class StateForm(forms.Form):
    state = forms.ChoiceField(label=_("New state"), choices=Incident.State.choices)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class VerdictForm(forms.Form):
    state = forms.ChoiceField(
        choices=[
            (Incident.State.CONFIRMED, _("Confirmed: I see it")),
            (Incident.State.UNCONFIRMED, _("I could not confirm it")),
            (Incident.State.FALSE_ALARM, _("False alarm")),
        ]
    )
    note = forms.CharField(
        label=_("What you saw"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FollowUpForm(forms.Form):
    title = forms.CharField(label=_("What needs doing"), max_length=200)
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int)
    due = forms.DateField(
        label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, owners: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["owner"]).choices = owners


DAY_CHOICES = [
    ("0", _("Mon")),
    ("1", _("Tue")),
    ("2", _("Wed")),
    ("3", _("Thu")),
    ("4", _("Fri")),
    ("5", _("Sat")),
    ("6", _("Sun")),
]


class ResponderForm(forms.Form):
    """A responder's skills, languages, on-call hours and coarse area (a home precinct or a
    pin on the map, which is kept only as its H3 cell)."""

    skills = forms.MultipleChoiceField(
        label=_("Skills"),
        choices=Skill.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages for alerts"),
        choices=LANGUAGE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    always = forms.BooleanField(label=_("On call round the clock"), required=False, initial=True)
    days = forms.MultipleChoiceField(
        label=_("On-call days"),
        choices=DAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only when not on call round the clock."),
    )
    start = forms.TimeField(
        label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.TimeField(
        label=_("Until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("Hours may run past midnight, for example 22:00 until 06:00."),
    )
    precinct = forms.ChoiceField(
        label=_("Home precinct"),
        required=False,
        help_text=_(
            "Or leave it empty and tap the map near where they live. Only a coarse area "
            "of about 0.7 km² is kept, never the exact point."
        ),
    )
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    lon = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)

    def __init__(self, *args: Any, precincts: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not precincts:
            # No precinct known where the unit's people live: the map is the way.
            self.fields["precinct"].widget = forms.HiddenInput()
        cast(forms.ChoiceField, self.fields["precinct"]).choices = [
            ("", _("— a pin on the map —")),
            *[(code, f"{name} ({code})" if name != code else code) for code, name in precincts],
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("always"):
            if not data.get("days"):
                self.add_error("days", _("Choose the days this responder is on call."))
            if data.get("start") is None:
                self.add_error("start", _("Enter the time the on-call hours start."))
            if data.get("end") is None:
                self.add_error("end", _("Enter the time the on-call hours end."))
        return data

    def windows(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        if data.get("always"):
            return []
        return [
            {
                "days": [int(d) for d in data["days"]],
                "start": data["start"].strftime("%H:%M"),
                "end": data["end"].strftime("%H:%M"),
            }
        ]

    @staticmethod
    def initial_for(responder: Any) -> dict[str, Any]:
        windows = responder.windows or []
        first = windows[0] if windows else {}
        return {
            "skills": responder.skills,
            "languages": responder.languages,
            "always": not windows,
            "days": [str(d) for d in first.get("days", [])],
            "start": first.get("start"),
            "end": first.get("end"),
            "precinct": responder.precinct,
            "lat": None if responder.precinct else responder.lat,
            "lon": None if responder.precinct else responder.lon,
        }

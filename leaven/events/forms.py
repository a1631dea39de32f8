"""Shapes of the event pages' input. Rules live in the services."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leaven.events import tokens
from leaven.events.models import Event
from leaven.events.services import Contact
from leaven.people import normalize

LANGUAGE_CHOICES = [("en", "English"), ("es", "Español")]
LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def in_zone(value: datetime, zone: str) -> datetime:
    """A time typed on the page, read as wall-clock time in the event's time zone."""
    naive = timezone.make_naive(value) if timezone.is_aware(value) else value
    return naive.replace(tzinfo=ZoneInfo(zone))


class ContactFields(forms.Form):
    given_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        error_messages={"required": _("Please tell us your first name.")},
    )
    family_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    language = forms.ChoiceField(label=_("Language for messages"), choices=LANGUAGE_CHOICES)

    def clean_email(self) -> str:
        value: str = self.cleaned_data["email"].strip()
        return normalize.email_normalize(value) if value else ""

    def clean_phone(self) -> str:
        value: str = self.cleaned_data["phone"].strip()
        return normalize.phone_normalize(value) if value else ""

    def contact(self) -> Contact:
        data = self.cleaned_data
        return Contact(
            given_name=data["given_name"],
            family_name=data.get("family_name", ""),
            email=data.get("email", ""),
            phone=data.get("phone", ""),
            language=data.get("language", "en"),
            sms_consent=bool(data.get("sms_consent")),
            email_consent=bool(data.get("email_consent")),
        )


class RSVPForm(ContactFields):
    """The public RSVP form, with a honeypot and a signed start time against bots."""

    sms_consent = forms.BooleanField(
        label=_("Yes, send me text messages about this event and the organization."),
        required=False,
        help_text=_("Message and data rates may apply. Reply STOP to stop at any time."),
    )
    email_consent = forms.BooleanField(label=_("Yes, send me news by email."), required=False)
    heard = forms.ChoiceField(label=_("How did you hear about this?"), required=False)
    # Left empty by people; bots fill every field.
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    started = forms.CharField(widget=forms.HiddenInput)

    field_order = [
        "shift",
        "given_name",
        "family_name",
        "email",
        "email_consent",
        "phone",
        "sms_consent",
        "language",
        "heard",
    ]

    def __init__(self, *args: Any, event: Event, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event = event
        shifts = list(event.shifts.all())
        if shifts and not event.is_mobilization:
            self.fields["shift"] = forms.TypedChoiceField(
                label=_("Shift"),
                choices=[(s.pk, s.label(language)) for s in shifts],
                coerce=int,
                widget=forms.RadioSelect,
            )
        self.order_fields(self.field_order)
        choices: list[tuple[str, Any]] = [("", _("Choose (optional)"))]
        units = [event.owner_unit, *event.co_host_units.all()]
        units += list(event.owner_unit.children.filter(kind="circle"))
        choices += [(f"u{u.pk}", u.name) for u in dict.fromkeys(units)]
        choices += [(f"p{p.pk}", p.name) for p in event.partners.all()]
        self.fields["heard"].choices = choices  # type: ignore[attr-defined]
        self.fields["language"].initial = "es" if language.startswith("es") else "en"
        if not self.is_bound:
            self.initial["started"] = tokens.make(tokens.FORM_STARTED, int(time.time()))

    def clean_website(self) -> str:
        if self.cleaned_data["website"]:
            raise ValidationError(_("Please try again."), code="bot")
        return ""

    def clean_started(self) -> str:
        started = tokens.read(tokens.FORM_STARTED, self.cleaned_data["started"])
        minimum = getattr(settings, "LEAVEN_EVENTS_MIN_FILL_SECONDS", 3)
        if started is None or time.time() - started < minimum:
            raise ValidationError(_("Please try again."), code="bot")
        return ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("email") and not data.get("phone") and not self.has_error("email"):
            if not self.has_error("phone"):
                self.add_error("email", _("Please give an email address or a phone number."))
        if data.get("sms_consent") and not data.get("phone") and not self.has_error("phone"):
            self.add_error("phone", _("Give a mobile number to receive text messages."))
        return data

    @property
    def is_bot(self) -> bool:
        return any(
            e.code == "bot"
            for name in ("website", "started")
            for e in (self.errors.as_data().get(name) or [])
        )


class WalkInForm(ContactFields):
    sms_consent = forms.BooleanField(label=_("They said yes to text messages."), required=False)
    email_consent = forms.BooleanField(label=_("They said yes to news by email."), required=False)


class LeaderAddForm(ContactFields):
    given_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    member = forms.TypedChoiceField(
        label=_("Someone from your circle"), required=False, coerce=int, empty_value=None
    )
    sms_consent = forms.BooleanField(label=_("They said yes to text messages."), required=False)
    email_consent = forms.BooleanField(label=_("They said yes to news by email."), required=False)
    field_order = ["member", "given_name"]

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if members:
            self.fields["member"].choices = [("", _("Choose")), *members]  # type: ignore[attr-defined]
        else:
            del self.fields["member"]
        self.order_fields(self.field_order)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("member") and not data.get("given_name"):
            self.add_error("given_name", _("Choose someone or add a new person."))
        return data


class EventForm(forms.Form):
    title_en = forms.CharField(label=_("Title in English"), max_length=200)
    title_es = forms.CharField(label=_("Title in Spanish"), max_length=200, required=False)
    description_en = forms.CharField(
        label=_("Description in English"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    description_es = forms.CharField(
        label=_("Description in Spanish"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    owner_unit = forms.TypedChoiceField(label=_("Unit"), coerce=int)
    kind = forms.ChoiceField(label=_("Type"), choices=Event.Kind.choices)
    visibility = forms.ChoiceField(label=_("Who can see it"), choices=Event.Visibility.choices)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=LOCAL)
    ends_at = forms.DateTimeField(label=_("Ends"), widget=LOCAL)
    address = forms.CharField(label=_("Address"), max_length=250, required=False)
    online_url = forms.URLField(label=_("Online link"), required=False, assume_scheme="https")
    capacity = forms.IntegerField(
        label=_("Capacity or seats"),
        min_value=0,
        initial=0,
        help_text=_("0 means no limit. For a mobilization: all the seats."),
    )
    is_mobilization = forms.BooleanField(
        label=_("Mobilization: seats shared among circles and partners"), required=False
    )
    release_at = forms.DateTimeField(
        label=_("Release unused seats at"), required=False, widget=LOCAL
    )

    latitude = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(
        label=_("Longitude"), required=False, min_value=-180, max_value=180
    )
    co_host_units = forms.TypedMultipleChoiceField(
        label=_("Co-hosting units"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Units you organize that host this event with its unit."),
    )
    partners = forms.TypedMultipleChoiceField(
        label=_("Partner organizations"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        units: list[tuple[int, str]],
        co_hosts: list[tuple[int, str]] | None = None,
        partners: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if "owner_unit" in self.fields:
            self.fields["owner_unit"].choices = units  # type: ignore[attr-defined]
        for name, choices in (("co_host_units", co_hosts), ("partners", partners)):
            if choices:
                self.fields[name].choices = choices  # type: ignore[attr-defined]
            else:
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            if not self.has_error("latitude") and not self.has_error("longitude"):
                self.add_error("latitude", _("Give both latitude and longitude, or neither."))
        return data


class EventEditForm(EventForm):
    """The edit page: everything but the unit and whether it is a mobilization, plus the
    status."""

    status = forms.ChoiceField(label=_("Status"), choices=Event.Status.choices)

    field_order = [
        "title_en", "title_es", "description_en", "description_es", "kind", "visibility",
        "status", "starts_at", "ends_at", "address", "online_url", "latitude", "longitude",
        "capacity", "release_at", "co_host_units", "partners",
    ]  # fmt: skip

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, units=[], **kwargs)
        del self.fields["owner_unit"]
        del self.fields["is_mobilization"]
        if not event.is_mobilization:
            del self.fields["release_at"]
        self.order_fields(self.field_order)


class LinkIssueForm(forms.Form):
    days = forms.IntegerField(
        label=_("Link works for (days)"),
        min_value=1,
        max_value=366,
        help_text=_("It also stops when the event ends."),
    )


class ShiftForm(forms.Form):
    label_en = forms.CharField(label=_("Shift name in English"), max_length=120)
    label_es = forms.CharField(label=_("Shift name in Spanish"), max_length=120, required=False)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=LOCAL)
    ends_at = forms.DateTimeField(label=_("Ends"), widget=LOCAL)
    capacity = forms.IntegerField(label=_("Capacity"), min_value=0, initial=0)


class QuotaForm(forms.Form):
    holder = forms.ChoiceField(label=_("Circle or partner"))
    seats = forms.IntegerField(label=_("Seats"), min_value=1)

    def __init__(self, *args: Any, holders: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = holders  # type: ignore[attr-defined]


class VehicleForm(forms.Form):
    name = forms.CharField(label=_("Vehicle"), max_length=80)
    seats = forms.IntegerField(label=_("Seats"), min_value=1)

"""Forms check shape only; the services enforce the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leaven.people import normalize
from leaven.people.models import (
    CustomField,
    Email,
    PartnerOrganization,
    Phone,
    Relationship,
    Stage,
)

LANGUAGE_CHOICES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("pt", _("Portuguese")),
    ("vi", _("Vietnamese")),
    ("zh", _("Chinese")),
    ("ht", _("Haitian Creole")),
    ("ar", _("Arabic")),
    ("fr", _("French")),
]


def tristate(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


class PersonFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False, max_length=100)
    tag = forms.TypedChoiceField(label=_("Tag"), required=False, coerce=int, empty_value=None)
    unit = forms.TypedChoiceField(label=_("Unit"), required=False, coerce=int, empty_value=None)
    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("Any stage")), *Stage.choices]
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("Any language")), *LANGUAGE_CHOICES]
    )
    has_phone = forms.ChoiceField(
        label=_("Phone"),
        required=False,
        choices=[("", _("Any")), ("yes", _("Has a phone")), ("no", _("No phone"))],
    )
    has_email = forms.ChoiceField(
        label=_("Email"),
        required=False,
        choices=[("", _("Any")), ("yes", _("Has an email")), ("no", _("No email"))],
    )

    def __init__(
        self,
        *args: Any,
        tags: list[tuple[int, str]],
        units: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [("", _("Any tag")), *tags]  # type: ignore[attr-defined]
        self.fields["unit"].choices = [("", _("All my units")), *units]  # type: ignore[attr-defined]


class PersonForm(forms.Form):
    """A person's own fields, plus the custom fields their units define (``cf_<key>``)."""

    given_name = forms.CharField(label=_("Given name"), max_length=100)
    family_name = forms.CharField(label=_("Family name"), max_length=100, required=False)
    preferred_name = forms.CharField(label=_("Preferred name"), max_length=100, required=False)
    pronouns = forms.CharField(label=_("Pronouns"), max_length=40, required=False)
    language = forms.ChoiceField(label=_("Preferred language"), choices=LANGUAGE_CHOICES)
    source = forms.CharField(label=_("Source"), max_length=100, required=False)

    def __init__(self, *args: Any, custom_fields: list[CustomField] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for definition in custom_fields or []:
            self.fields[f"cf_{definition.key}"] = forms.CharField(
                label=definition.label,
                max_length=500,
                required=False,
                help_text=_("Stored encrypted.") if definition.sensitive else "",
            )


class PersonCreateForm(PersonForm):
    owner_unit = forms.TypedChoiceField(label=_("Unit"), coerce=int)
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices, initial=Stage.UNKNOWN)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    sms_consent = forms.BooleanField(
        label=_("They agreed to receive text messages"), required=False
    )

    def __init__(self, *args: Any, units: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_unit"].choices = units  # type: ignore[attr-defined]

    # A malformed email or phone is a shape error: show it beside its field.
    def clean_email(self) -> str:
        value: str = self.cleaned_data["email"]
        return normalize.email_normalize(value) if value.strip() else ""

    def clean_phone(self) -> str:
        value: str = self.cleaned_data["phone"]
        return normalize.phone_normalize(value) if value.strip() else ""


class EmailForm(forms.Form):
    address = forms.CharField(label=_("Email address"), max_length=254)
    status = forms.ChoiceField(label=_("Email consent"), choices=Email.Status.choices)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)

    def clean_address(self) -> str:
        return normalize.email_normalize(self.cleaned_data["address"])


class PhoneForm(forms.Form):
    number = forms.CharField(label=_("Phone number"), max_length=40)
    kind = forms.ChoiceField(label=_("Kind"), choices=Phone.Kind.choices)
    sms_status = forms.ChoiceField(label=_("SMS consent"), choices=Phone.SMSStatus.choices)
    urgent_alerts = forms.BooleanField(label=_("Round-the-clock urgent alerts"), required=False)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)

    def clean_number(self) -> str:
        return normalize.phone_normalize(self.cleaned_data["number"])


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)
    reason = forms.CharField(label=_("Why"), max_length=200, required=False)


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))


class TagForm(forms.Form):
    name = forms.CharField(label=_("Tag"), max_length=100)


class UnitJoinForm(forms.Form):
    unit = forms.TypedChoiceField(label=_("Unit"), coerce=int)

    def __init__(self, *args: Any, units: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = units  # type: ignore[attr-defined]


class RelationshipForm(forms.Form):
    kind = forms.ChoiceField(label=_("Relationship"), choices=Relationship.Kind.choices)
    other = forms.IntegerField(label=_("Person number"), min_value=1)


class HouseholdForm(forms.Form):
    street = forms.CharField(label=_("Street address"), max_length=200)
    unit = forms.CharField(label=_("Apartment or unit"), max_length=40, required=False)
    city = forms.CharField(label=_("City"), max_length=100)
    state = forms.CharField(label=_("State"), max_length=2, min_length=2)
    zip_code = forms.CharField(label=_("ZIP code"), max_length=10, required=False)


class CustomFieldForm(forms.Form):
    label = forms.CharField(label=_("Field name"), max_length=100)
    sensitive = forms.BooleanField(
        label=_("Sensitive: store encrypted, show only to coordinators and up"), required=False
    )


class PartnerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    sector = forms.ChoiceField(label=_("Sector"), choices=PartnerOrganization.Sector.choices)
    owner_unit = forms.TypedChoiceField(label=_("Unit"), coerce=int)

    def __init__(self, *args: Any, units: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_unit"].choices = units  # type: ignore[attr-defined]


class AffiliationForm(forms.Form):
    organization = forms.TypedChoiceField(label=_("Organization"), coerce=int)
    title = forms.CharField(label=_("Role or title"), max_length=100, required=False)

    def __init__(self, *args: Any, organizations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = organizations  # type: ignore[attr-defined]

from __future__ import annotations

import zoneinfo
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from leaven.core.models import OrgUnit
from leaven.core.services import ALLOWED_CHILDREN

LANGUAGE_CHOICES = [("en", _("English")), ("es", _("Spanish"))]


class UnitForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"))
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=LANGUAGE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=["en", "es"],
    )
    time_zone = forms.ChoiceField(label=_("Time zone"))
    takes_public_reports = forms.BooleanField(
        label=_("Take incident reports from the public"),
        required=False,
        help_text=_(
            "Opens this unit's public report page, where anyone can report immigration "
            "enforcement without signing in. Leave it off unless the unit runs rapid response."
        ),
    )

    def __init__(self, *args: Any, parent: OrgUnit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = ALLOWED_CHILDREN.get(parent.kind, set())
        kind_field = cast(forms.ChoiceField, self.fields["kind"])
        kind_field.choices = [(v, label) for v, label in OrgUnit.Kind.choices if v in allowed]
        _time_zone_choices(self, parent.time_zone)


class UnitEditForm(forms.Form):
    """A unit's name, languages, time zone and whether it takes public incident reports."""

    name = UnitForm.base_fields["name"]
    languages = UnitForm.base_fields["languages"]
    time_zone = forms.ChoiceField(label=_("Time zone"))
    takes_public_reports = UnitForm.base_fields["takes_public_reports"]

    def __init__(self, *args: Any, unit: OrgUnit, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "name": unit.name,
                "languages": unit.languages,
                "time_zone": unit.time_zone,
                "takes_public_reports": unit.takes_public_reports,
            },
        )
        super().__init__(*args, **kwargs)
        _time_zone_choices(self, unit.time_zone)


def _time_zone_choices(form: forms.Form, current: str) -> None:
    tz_field = cast(forms.ChoiceField, form.fields["time_zone"])
    zones = sorted(z for z in zoneinfo.available_timezones() if z.startswith("America/"))
    zones += ["Pacific/Honolulu", "UTC"]
    if current and current not in zones:
        zones.append(current)
    tz_field.choices = [(z, z) for z in zones]
    tz_field.initial = current


def form_add_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: beside its field when it names one the
    form has, else at the top."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = name if name in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for text in exc.messages:
            form.add_error(None, text)


def unit_choices(actor: Any, permission: str) -> list[tuple[int, str]]:
    """The units where the actor holds `permission`, indented by depth, for a select."""
    from leaven.core.selectors import unit_list_for_actor

    units = unit_list_for_actor(actor=actor, permission=permission)
    return [(unit.pk, "\u2003" * unit.depth + unit.name) for unit in units]

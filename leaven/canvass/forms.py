"""Forms for canvassing pages: they check shape only; the services check the rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from leaven.canvass.models import Question
from leaven.canvass.services import Choice
from leaven.core.forms import LANGUAGE_CHOICES
from leaven.people.models import Stage

TRISTATE = [("", _("Either")), ("yes", _("Yes")), ("no", _("No"))]


def tristate_value(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class CutForm(forms.Form):
    unit = forms.TypedChoiceField(label=_("Unit"), coerce=int)
    precincts = forms.CharField(
        label=_("Precincts"),
        required=False,
        max_length=2000,
        help_text=_("Precinct codes separated by commas."),
    )
    ward = forms.CharField(label=_("Ward"), required=False, max_length=40)
    polygon = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200_000)
    doors_per_turf = forms.IntegerField(
        label=_("Doors per turf"), min_value=5, max_value=500, initial=50
    )
    name = forms.CharField(label=_("Turf name"), required=False, max_length=180)
    script = forms.TypedChoiceField(label=_("Script"), coerce=int, required=False, empty_value=None)
    stages = forms.MultipleChoiceField(
        label=_("Stage"), choices=Stage.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    languages = forms.MultipleChoiceField(
        label=_("Language"),
        choices=LANGUAGE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    tags = forms.TypedMultipleChoiceField(label=_("Tags"), coerce=int, required=False)
    not_contacted_days = forms.IntegerField(
        label=_("Not contacted in the last (days)"), min_value=0, max_value=3650, required=False
    )
    members = forms.ChoiceField(label=_("Members"), choices=TRISTATE, required=False)
    registered = forms.ChoiceField(label=_("Registered voters"), choices=TRISTATE, required=False)

    def __init__(
        self,
        *args: Any,
        units: list[tuple[int, str]],
        scripts: list[tuple[int, str]],
        tags: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["unit"]).choices = units
        cast(forms.ChoiceField, self.fields["script"]).choices = [("", _("No script")), *scripts]
        cast(forms.ChoiceField, self.fields["tags"]).choices = tags
        self.fields["tags"].widget.attrs["size"] = min(6, max(2, len(tags)))

    def precinct_codes(self) -> tuple[str, ...]:
        text = self.cleaned_data.get("precincts") or ""
        return tuple(code.strip() for code in text.replace(";", ",").split(",") if code.strip())


class AssignForm(forms.Form):
    user = forms.TypedChoiceField(label=_("Canvasser"), coerce=int)
    starts_at = forms.DateTimeField(
        label=_("Shift starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("Shift ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args: Any, users: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["user"]).choices = users


class HandoffForm(forms.Form):
    user = forms.TypedChoiceField(label=_("Teammate"), coerce=int)

    def __init__(self, *args: Any, users: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["user"]).choices = users


class MoveDoorForm(forms.Form):
    to_turf = forms.TypedChoiceField(label=_("Move to turf"), coerce=int)

    def __init__(self, *args: Any, turfs: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["to_turf"]).choices = turfs


class ScriptForm(forms.Form):
    unit = forms.TypedChoiceField(label=_("Unit"), coerce=int)
    name = forms.CharField(label=_("Name"), max_length=200)
    text_en = forms.CharField(
        label=_("Script in English"), widget=forms.Textarea(attrs={"rows": 4})
    )
    text_es = forms.CharField(
        label=_("Script in Spanish"), widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, units: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["unit"]).choices = units


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Question.Kind.choices)
    text_en = forms.CharField(label=_("Question in English"), max_length=300)
    text_es = forms.CharField(label=_("Question in Spanish"), max_length=300)
    choices = forms.CharField(
        label=_("Answers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One answer a line: code | English | Spanish, e.g. yes | Yes | Sí."),
    )
    stage_rules = forms.CharField(
        label=_("Stage rules"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One rule a line: answer = stage, e.g. yes = supporter or 5 = volunteer."),
    )

    def clean_choices(self) -> list[Choice]:
        result = []
        for line in (self.cleaned_data.get("choices") or "").splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 3 or not all(parts):
                raise forms.ValidationError(
                    _("Write each answer as code | English | Spanish."), code="choices"
                )
            result.append(Choice(*parts))
        return result

    def clean_stage_rules(self) -> dict[str, str]:
        rules: dict[str, str] = {}
        stages = {str(label).lower(): value for value, label in Stage.choices}
        stages.update({value: value for value in Stage.values})
        for line in (self.cleaned_data.get("stage_rules") or "").splitlines():
            if not line.strip():
                continue
            answer, _sep, stage = line.partition("=")
            stage_value = stages.get(stage.strip().lower())
            if not answer.strip() or stage_value is None:
                raise forms.ValidationError(
                    _("Write each rule as answer = stage, with a stage of the ladder.")
                )
            rules[answer.strip()] = stage_value
        return rules

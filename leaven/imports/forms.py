"""Shapes of the import pages' forms; the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leaven.imports import pipeline
from leaven.imports.models import ImportJob


class UploadForm(forms.Form):
    unit = forms.TypedChoiceField(label=_("Import into"), coerce=int)
    file = forms.FileField(
        label=_("File"),
        help_text=_("A CSV or tab-delimited text file with a header row."),
    )

    def __init__(self, *args: Any, units: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = units  # type: ignore[attr-defined]


class PresetForm(forms.Form):
    """Start from a preset or a saved mapping."""

    source = forms.ChoiceField(label=_("Start from"))

    def __init__(self, *args: Any, saved: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, Any]] = [
            (f"preset:{key}", preset.label) for key, preset in pipeline.PRESETS.items()
        ]
        choices += [(f"saved:{pk}", name) for pk, name in saved]
        self.fields["source"].choices = choices  # type: ignore[attr-defined]


class MappingForm(forms.Form):
    """One select per Leaven field, listing the file's columns."""

    mode = forms.ChoiceField(
        label=_("If some rows have problems"),
        choices=[
            (ImportJob.Mode.VALID, _("Import the valid rows and list the rest in a reject file")),
            (ImportJob.Mode.ALL, _("Import nothing unless every row is valid")),
        ],
        widget=forms.RadioSelect,
        initial=ImportJob.Mode.VALID,
    )
    save_as = forms.CharField(label=_("Save this mapping as"), max_length=100, required=False)

    def __init__(
        self, *args: Any, header: list[str], initial_columns: dict[str, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        options = [("", _("(not in this file)")), *[(h, h) for h in header]]
        for name, label in pipeline.FIELDS.items():
            if name == "voter_state":
                continue
            self.fields[f"col_{name}"] = forms.ChoiceField(
                label=label,
                choices=options,
                required=name in pipeline.REQUIRED,
                initial=initial_columns.get(name, ""),
            )
        self.order_fields([f"col_{n}" for n in pipeline.FIELDS] + ["mode", "save_as"])

    def columns(self) -> dict[str, str]:
        return {
            name[4:]: value
            for name, value in self.cleaned_data.items()
            if name.startswith("col_") and value
        }

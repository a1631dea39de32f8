"""Forms check shape only; the services enforce the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from leaven.geo.models import Jurisdiction

# Boundary files of a whole state run to tens of megabytes.
MAX_UPLOAD_BYTES = int(getattr(settings, "LEAVEN_GEO_MAX_UPLOAD_BYTES", 100 * 1024 * 1024))


class _FileLimit:
    def clean_file(self: Any) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


class BoundaryImportForm(_FileLimit, forms.Form):
    file = forms.FileField(
        label=_("Boundary file"),
        help_text=_("GeoJSON or TopoJSON, in longitude and latitude (WGS 84)."),
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=Jurisdiction.Kind.choices, initial=Jurisdiction.Kind.PRECINCT
    )
    code_field = forms.CharField(
        label=_("Property with the code"),
        max_length=100,
        help_text=_("For example PREC_ID or ward."),
    )
    name_field = forms.CharField(
        label=_("Property with the name"),
        max_length=100,
        required=False,
        help_text=_("Leave empty to use the code as the name."),
    )
    parent = forms.CharField(
        label=_("Code of the parent jurisdiction"),
        max_length=60,
        required=False,
        help_text=_("For example the ward these precincts belong to."),
    )


class ResultsImportForm(_FileLimit, forms.Form):
    file = forms.FileField(
        label=_("Results file"),
        help_text=_("CSV with the columns precinct, contest, choice, votes."),
    )
    election = forms.CharField(label=_("Election"), max_length=200)
    election_date = forms.DateField(
        label=_("Election date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

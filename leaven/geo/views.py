"""Pages for geography: the map, a precinct, and the import page. Thin: parse the form, call
a selector or a service, render."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from leaven.core import access, permissions
from leaven.core.audit import audit_source
from leaven.core.forms import form_add_errors
from leaven.core.models import AuditEvent
from leaven.geo import selectors, services
from leaven.geo.forms import BoundaryImportForm, ResultsImportForm
from leaven.geo.models import Jurisdiction


@login_required
@require_GET
def map_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    config = {
        "data_url": reverse("geo:map_data"),
        "tiles": settings.LEAVEN_MAP_TILES,
        "labels": {
            "households": _("Households"),
            "people": _("People"),
            "registered": _("Registered"),
            "not_registered": _("Not registered"),
            "ward": _("Ward"),
            "precinct": _("Precinct"),
            "open": _("Open the precinct page"),
        },
    }
    context = {
        "config": config,
        "rows": selectors.precinct_rows(actor=user),
        "has_wards": Jurisdiction.objects.filter(kind=Jurisdiction.Kind.WARD).exists(),
        "can_manage": access.can_anywhere(user, permissions.GEO_MANAGE),
    }
    response = render(request, "geo/map.html", context)
    origin = _tile_origin(settings.LEAVEN_MAP_TILES)
    if origin:
        # Let this page, and only this page, load map tiles from the tile server.
        response._csp_update = {"img-src": [origin]}  # type: ignore[attr-defined]
    return response


def _tile_origin(template: str) -> str:
    """The scheme and host of a tile URL template, for the Content-Security-Policy."""
    parts = urlsplit(template)
    if parts.scheme not in {"https", "http"} or not parts.netloc:
        return ""
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


@login_required
@require_GET
def map_data(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(selectors.map_data(actor=request.user))
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def precinct_detail(request: HttpRequest, code: str) -> HttpResponse:
    precinct = selectors.jurisdiction_get(kind=Jurisdiction.Kind.PRECINCT, code=code)
    summary = selectors.precinct_summary(actor=request.user, precinct=precinct)
    return render(request, "geo/precinct_detail.html", {"summary": summary, "precinct": precinct})


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.can_anywhere(user, permissions.GEO_MANAGE):
        raise Http404
    which = request.POST.get("action", "") if request.method == "POST" else ""
    boundary_form = BoundaryImportForm(
        request.POST if which == "boundaries" else None,
        request.FILES if which == "boundaries" else None,
        prefix="boundary",
    )
    results_form = ResultsImportForm(
        request.POST if which == "results" else None,
        request.FILES if which == "results" else None,
        prefix="results",
    )
    summary = None
    if which == "boundaries" and boundary_form.is_valid():
        data = boundary_form.cleaned_data
        parent = None
        if data["parent"].strip():
            parent = selectors.jurisdiction_find_parent(code=data["parent"])
            if parent is None:
                boundary_form.add_error("parent", _("No jurisdiction has this code."))
        if not boundary_form.errors:
            try:
                with audit_source(AuditEvent.Source.PAGE):
                    summary = services.jurisdictions_import_geojson(
                        actor=user,
                        data=data["file"].read(),
                        kind=data["kind"],
                        code_field=data["code_field"],
                        name_field=data["name_field"],
                        parent=parent,
                    )
            except ValidationError as exc:
                form_add_errors(boundary_form, exc)
    elif which == "results" and results_form.is_valid():
        data = results_form.cleaned_data
        try:
            with audit_source(AuditEvent.Source.PAGE):
                result = services.election_results_import_csv(
                    actor=user,
                    data=data["file"].read(),
                    election=data["election"],
                    election_date=data["election_date"],
                )
        except ValidationError as exc:
            form_add_errors(results_form, exc)
        else:
            messages.success(
                request,
                _("Imported %(rows)s results in %(precincts)s precincts.")
                % {"rows": result.rows, "precincts": result.precincts},
            )
            return redirect("geo:import")
    return render(
        request,
        "geo/import.html",
        {"boundary_form": boundary_form, "results_form": results_form, "summary": summary},
    )

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from leaven.core import access, permissions, selectors, services
from leaven.core.forms import UnitEditForm, UnitForm, form_add_errors
from leaven.core.models import AuditEvent
from leaven.people.models import Stage
from leaven.people.selectors import PersonFilters, person_count, person_queryset_for_actor


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    can_people = access.can_anywhere(user, permissions.PEOPLE_VIEW)
    counts: dict[str, int] = {}
    recent_people = []
    if can_people:
        key = f"dashboard-counts:{user.pk}"
        counts = cache.get(key) or {}
        if not counts:
            counts = {"total": person_count(actor=user, filters=PersonFilters())}
            for stage in Stage.values:
                counts[stage] = person_count(actor=user, filters=PersonFilters(stage=stage))
            cache.set(key, counts, 60)
        recent_people = list(person_queryset_for_actor(actor=user).order_by("-modified_at")[:8])
    unit_ids = access.unit_ids_in_scope(user, permissions.PEOPLE_VIEW)
    recent = (
        AuditEvent.objects.filter(unit_id__in=unit_ids)
        .exclude(verb__in=["person.viewed", "access.denied"])
        .select_related("actor", "unit")[:12]
        if unit_ids
        else []
    )
    units = selectors.unit_list_for_actor(actor=user)[:50]
    stages = [(value, label, counts.get(value, 0)) for value, label in Stage.choices]
    return render(
        request,
        "core/dashboard.html",
        {
            "counts": counts,
            "stages": stages,
            "recent": recent,
            "recent_people": recent_people,
            "units": units,
            "can_people": can_people,
        },
    )


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    units = selectors.unit_list_for_actor(actor=request.user)
    return render(request, "core/unit_list.html", {"units": units})


@login_required
def unit_detail(request: HttpRequest, slug: str) -> HttpResponse:
    user = request.user
    unit = selectors.unit_get_for_actor(actor=user, slug=slug)
    children = selectors.unit_list_for_actor(actor=user).filter(parent=unit)
    members = (
        person_queryset_for_actor(actor=user)
        .filter(unit_links__unit=unit)
        .order_by("sort_name", "id")
    )
    page = Paginator(
        members.only("id", "given_name", "family_name", "preferred_name", "stage"), 25
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "core/unit_detail.html",
        {
            "unit": unit,
            "ancestors": selectors.unit_ancestors(unit=unit),
            "children": children,
            "roles": selectors.unit_roles(actor=user, unit=unit),
            "page": page,
            "can_manage": access.can(user, permissions.UNITS_MANAGE, unit),
            "can_audit": access.can(user, permissions.AUDIT_VIEW_UNIT, unit),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_create(request: HttpRequest, slug: str) -> HttpResponse:
    parent = selectors.unit_get_for_actor(
        actor=request.user, slug=slug, permission=permissions.UNITS_MANAGE
    )
    form = UnitForm(request.POST or None, parent=parent)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.unit_create(
                actor=request.user,
                parent=parent,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                languages=form.cleaned_data["languages"],
                time_zone=form.cleaned_data["time_zone"],
                takes_public_reports=form.cleaned_data["takes_public_reports"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Unit created."))
            return redirect("core:unit_detail", slug=unit.slug)
    return render(request, "core/unit_form.html", {"form": form, "parent": parent})


@login_required
@require_http_methods(["GET", "POST"])
def unit_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """Rename a unit, set its languages and time zone, and open or close its public
    incident report page."""
    unit = selectors.unit_get_for_actor(
        actor=request.user, slug=slug, permission=permissions.UNITS_MANAGE
    )
    form = UnitEditForm(request.POST or None, unit=unit)
    if request.method == "POST" and form.is_valid():
        try:
            services.unit_update(
                actor=request.user,
                unit=unit,
                name=form.cleaned_data["name"],
                languages=form.cleaned_data["languages"],
                time_zone=form.cleaned_data["time_zone"],
                takes_public_reports=form.cleaned_data["takes_public_reports"],
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Unit saved."))
            return redirect("core:unit_detail", slug=unit.slug)
    return render(request, "core/unit_edit.html", {"form": form, "unit": unit})


@login_required
def unit_audit(request: HttpRequest, slug: str) -> HttpResponse:
    unit = selectors.unit_get_for_actor(actor=request.user, slug=slug)
    events = selectors.audit_list_for_unit(actor=request.user, unit=unit)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "core/unit_audit.html", {"unit": unit, "page": page})

"""Rapid-response pages: the public report form, the hotline intake, the dispatcher
dashboard, the incident page and the links responders and verifiers tap."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leaven.core import access, permissions
from leaven.core.forms import LANGUAGE_CHOICES, form_add_errors, unit_choices
from leaven.core.http import client_address, signed_in_user, user_with_permission
from leaven.core.models import OrgUnit, User
from leaven.core.selectors import unit_get_by_id_for_actor
from leaven.people.models import Person
from leaven.rapid_response import selectors, services
from leaven.rapid_response.forms import (
    DAY_CHOICES,
    FollowUpForm,
    HotlineForm,
    ReportForm,
    ResponderForm,
    StateForm,
    VerdictForm,
)
from leaven.rapid_response.models import Alert, Incident, IncidentReport, Responder, Skill


def _report_input(form: ReportForm, language: str) -> services.ReportInput:
    data = form.cleaned_data
    return services.ReportInput(
        type=data["type"],
        seen_at=timezone.now() - dt.timedelta(minutes=int(data["when"])),
        lat=data.get("lat"),
        lon=data.get("lon"),
        cross_streets=data.get("cross_streets") or "",
        description=data.get("description") or "",
        officers=data.get("officers"),
        contact=data.get("contact") or "",
        language=language,
    )


def _map_config(points: list[dict[str, Any]], *, pick: bool = False) -> dict[str, Any]:
    return {
        "tiles": settings.LEAVEN_MAP_TILES,
        "points": points,
        "pick": pick,
        "centre": points[0]["at"] if points else [41.85, -87.65],
    }


# --------------------------------------------------------------------------- public


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, slug: str) -> HttpResponse:
    """The public report page: no sign-in, works without JavaScript (cross streets), a pin
    on the map with it. Never says anything about other reports."""
    unit = selectors.public_unit(slug=slug)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data.get("website"):
            # A bot: answer as if it worked, keep nothing.
            return redirect("rapid_response:report_thanks", slug=unit.slug)
        try:
            services.report_submit(
                actor=None,
                unit=unit,
                data=_report_input(form, get_language() or "en"),
                sender=client_address(request),
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            return redirect("rapid_response:report_thanks", slug=unit.slug)
    return render(
        request,
        "rapid_response/report.html",
        {"form": form, "unit": unit, "config": _map_config([], pick=True)},
    )


@require_GET
def report_thanks(request: HttpRequest, slug: str) -> HttpResponse:
    unit = selectors.public_unit(slug=slug)
    return render(request, "rapid_response/report_thanks.html", {"unit": unit})


@require_http_methods(["GET", "POST"])
def alert_link(request: HttpRequest, token: str) -> HttpResponse:
    """The page a responder or verifier opens from their text: answer going / can't, or give
    a verdict."""
    alert = selectors.alert_for_token(token=token)
    incident = alert.incident
    verdict = VerdictForm(request.POST or None) if alert.kind == Alert.Kind.VERIFY else None
    if request.method == "POST":
        try:
            if verdict is not None:
                if verdict.is_valid():
                    services.verifier_decide(
                        token=token,
                        state=verdict.cleaned_data["state"],
                        note=verdict.cleaned_data["note"],
                    )
                    messages.success(request, _("Thank you. The dispatchers have your answer."))
                    return redirect("rapid_response:alert_link", token=token)
            else:
                services.alert_answer(token=token, answer=request.POST.get("answer", ""))
                messages.success(request, _("Thank you. The dispatchers have your answer."))
                return redirect("rapid_response:alert_link", token=token)
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
            return redirect("rapid_response:alert_link", token=token)
    alert.refresh_from_db()
    return render(
        request,
        "rapid_response/alert_link.html",
        {"alert": alert, "incident": incident, "verdict": verdict, "token": token},
    )


# --------------------------------------------------------------------------- dispatchers


def _require_view(request: HttpRequest) -> User:
    return user_with_permission(request, permissions.RAPID_VIEW)


def _dashboard_context(user: User) -> dict[str, Any]:
    incidents = list(selectors.incident_list_for_actor(actor=user).order_by("-created_at")[:200])
    now = timezone.now()
    points = [
        {
            "at": [i.lat, i.lon],
            "label": f"{i.get_type_display()} · {i.get_state_display()}",
            "url": reverse("rapid_response:incident", args=[i.pk]),
            "state": i.state,
        }
        for i in incidents
        if i.lat is not None and i.lon is not None
    ]
    return {
        "incidents": incidents,
        "now": now,
        "config": _map_config(points),
        "can_dispatch": access.can_anywhere(user, permissions.RAPID_DISPATCH),
        "can_manage": access.can_anywhere(user, permissions.RAPID_MANAGE_RESPONDERS),
    }


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Open incidents on a map and in a list that refreshes itself."""
    user = _require_view(request)
    return render(request, "rapid_response/dashboard.html", _dashboard_context(user))


@login_required
@require_GET
def dashboard_rows(request: HttpRequest) -> HttpResponse:
    user = _require_view(request)
    return render(request, "rapid_response/_incident_rows.html", _dashboard_context(user))


@login_required
@require_http_methods(["GET", "POST"])
def hotline(request: HttpRequest) -> HttpResponse:
    """A dispatcher takes a call: the caller's language, one screen."""
    user = user_with_permission(request, permissions.RAPID_DISPATCH)
    start = selectors.default_unit(
        actor=user,
        permission=permissions.RAPID_DISPATCH,
        last=_int(str(request.session.get("rapid_hotline_unit", ""))),
    )
    form = HotlineForm(request.POST or None, actor=user, initial={"unit": start})
    if request.method == "POST" and form.is_valid():
        unit = unit_get_by_id_for_actor(
            actor=user, pk=form.cleaned_data["unit"], permission=permissions.RAPID_DISPATCH
        )
        request.session["rapid_hotline_unit"] = unit.pk
        try:
            incident = services.report_submit(
                actor=user,
                unit=unit,
                data=_report_input(form, form.cleaned_data["language"]),
                source=IncidentReport.Source.HOTLINE,
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Call recorded."))
            return redirect("rapid_response:incident", pk=incident.pk)
    return render(request, "rapid_response/hotline.html", {"form": form})


@login_required
@require_GET
def incident(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    found = selectors.incident_get_for_actor(actor=user, pk=pk)
    return render(request, "rapid_response/incident.html", _incident_context(user, found))


def _incident_context(user: User, incident: Incident, **forms: Any) -> dict[str, Any]:
    can_dispatch = access.can(user, permissions.RAPID_DISPATCH, incident.owner_unit)
    alerts = list(selectors.incident_alerts(actor=user, incident=incident))
    points = []
    if incident.lat is not None and incident.lon is not None:
        points.append(
            {
                "at": [incident.lat, incident.lon],
                "label": str(incident),
                "url": "",
                "state": incident.state,
            }
        )
    return {
        "incident": incident,
        "reports": selectors.incident_reports(actor=user, incident=incident),
        "changes": incident.changes.select_related("actor", "responder__person"),
        "verify_alerts": [a for a in alerts if a.kind == Alert.Kind.VERIFY],
        "respond_alerts": [a for a in alerts if a.kind == Alert.Kind.RESPOND],
        "going": sum(1 for a in alerts if a.kind == "respond" and a.ack == Alert.Ack.GOING),
        "rings": incident.rings.select_related("unit"),
        "follow_ups": incident.follow_ups.select_related("owner"),
        "can_dispatch": can_dispatch,
        "state_form": forms.get("state_form") or StateForm(initial={"state": incident.state}),
        "followup_form": forms.get("followup_form")
        or FollowUpForm(owners=selectors.followup_owner_choices(incident=incident)),
        "config": _map_config(points),
    }


@login_required
@require_POST
def incident_state(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    found = selectors.incident_get_for_actor(actor=user, pk=pk)
    form = StateForm(request.POST)
    if form.is_valid():
        try:
            services.incident_set_state(
                actor=user,
                incident=found,
                state=form.cleaned_data["state"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("State changed."))
            return redirect("rapid_response:incident", pk=pk)
    context = _incident_context(user, found, state_form=form)
    return render(request, "rapid_response/incident.html", context, status=400)


@login_required
@require_POST
def incident_verify(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    found = selectors.incident_get_for_actor(actor=user, pk=pk)
    try:
        asked = services.verifiers_request(actor=user, incident=found)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(
            request, _("%(count)s verifiers were asked to go.") % {"count": len(asked)}
        )
    return redirect("rapid_response:incident", pk=pk)


@login_required
@require_POST
def incident_hold(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    found = selectors.incident_get_for_actor(actor=user, pk=pk)
    try:
        services.incident_set_legal_hold(
            actor=user, incident=found, hold=request.POST.get("hold") == "1"
        )
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    return redirect("rapid_response:incident", pk=pk)


@login_required
@require_POST
def incident_followup(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    found = selectors.incident_get_for_actor(actor=user, pk=pk)
    owners = selectors.followup_owner_choices(incident=found)
    form = FollowUpForm(request.POST, owners=owners)
    if form.is_valid():
        owner = User.objects.filter(pk=form.cleaned_data["owner"]).first()
        try:
            if owner is None:
                raise ValidationError({"owner": _("Choose an owner.")})
            services.followup_create(
                actor=user,
                incident=found,
                owner=owner,
                title=form.cleaned_data["title"],
                due=form.cleaned_data["due"],
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Follow-up created."))
            return redirect("rapid_response:incident", pk=pk)
    context = _incident_context(user, found, followup_form=form)
    return render(request, "rapid_response/incident.html", context, status=400)


# --------------------------------------------------------------------------- responders


def _require_manage(request: HttpRequest) -> User:
    return user_with_permission(request, permissions.RAPID_MANAGE_RESPONDERS)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _roster_unit(request: HttpRequest, user: User) -> OrgUnit:
    """The unit the roster pages work on: ?unit= (re-checked), else the last one used, else
    the actor's own committee."""
    chosen = _int(request.GET.get("unit") or request.POST.get("unit"))
    if chosen is None:
        chosen = selectors.default_unit(
            actor=user,
            permission=permissions.RAPID_MANAGE_RESPONDERS,
            last=_int(str(request.session.get("rapid_roster_unit", ""))),
        )
    if chosen is None:
        raise Http404
    unit = unit_get_by_id_for_actor(
        actor=user, pk=chosen, permission=permissions.RAPID_MANAGE_RESPONDERS
    )
    request.session["rapid_roster_unit"] = unit.pk
    return unit


def _consent_label(consent: str) -> str:
    return {
        selectors.Consent.READY: _("Takes round-the-clock alerts"),
        selectors.Consent.NO_URGENT: _("Texts only: no round-the-clock consent"),
        selectors.Consent.OPTED_OUT: _("Opted out of texts"),
        selectors.Consent.NO_CONSENT: _("No text consent"),
        selectors.Consent.NO_PHONE: _("No phone"),
    }.get(consent, "")


def _hours_label(windows: list[dict[str, Any]]) -> str:
    if not windows:
        return _("Round the clock")
    names = dict(DAY_CHOICES)
    parts = []
    for window in windows:
        days = ", ".join(str(names.get(str(d), d)) for d in window.get("days", []))
        parts.append(f"{days} {window.get('start', '')}–{window.get('end', '')}")
    return "; ".join(parts)


def _roster_row(row: selectors.ResponderRow) -> dict[str, Any]:
    responder = row.responder
    skills = dict(Skill.choices)
    languages = dict(LANGUAGE_CHOICES)
    return {
        "responder": responder,
        "consent": row.consent,
        "consent_label": _consent_label(row.consent),
        "precinct_name": row.precinct_name,
        "skills_label": ", ".join(str(skills.get(s, s)) for s in responder.skills),
        "languages_label": ", ".join(str(languages.get(c, c)) for c in responder.languages),
        "hours_label": _hours_label(responder.windows),
    }


def _area_map(lat: float | None, lon: float | None, unit: OrgUnit) -> dict[str, Any]:
    config = _map_config([], pick=True)
    if lat is not None and lon is not None:
        config["centre"] = [lat, lon]
    return config


@login_required
@require_GET
def responders(request: HttpRequest) -> HttpResponse:
    """The unit's responder roster: skills, languages, on-call hours, area and whether their
    phone takes round-the-clock alerts."""
    user = _require_manage(request)
    unit = _roster_unit(request, user)
    show_inactive = request.GET.get("inactive") == "1"
    rows = selectors.responder_rows(actor=user, unit=unit, active=not show_inactive)
    return render(
        request,
        "rapid_response/responders.html",
        {
            "unit": unit,
            "rows": [_roster_row(row) for row in rows],
            "show_inactive": show_inactive,
            "units": unit_choices(user, permissions.RAPID_MANAGE_RESPONDERS),
            "day_names": dict(DAY_CHOICES),
        },
    )


def _save_responder(
    request: HttpRequest, user: User, unit: OrgUnit, person: Person, form: ResponderForm
) -> Responder | None:
    data = form.cleaned_data
    try:
        return services.responder_save(
            actor=user,
            person=person,
            unit=unit,
            lat=data.get("lat"),
            lon=data.get("lon"),
            precinct=data.get("precinct") or "",
            skills=data["skills"],
            languages=data["languages"],
            windows=form.windows(),
        )
    except ValidationError as exc:
        form_add_errors(form, exc)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def responder_add(request: HttpRequest) -> HttpResponse:
    """Add a person of the unit to the roster: find them by name, then their skills,
    languages, hours and area."""
    user = _require_manage(request)
    unit = _roster_unit(request, user)
    precincts = selectors.unit_precincts(unit=unit)
    q = (request.GET.get("q") or request.POST.get("q") or "").strip()
    picked = _int(request.POST.get("person")) if request.method == "POST" else None
    initial = {"always": True}
    form = ResponderForm(request.POST or None, precincts=precincts, initial=initial)
    person_error = ""
    if request.method == "POST":
        person = (
            selectors.responder_person_get(actor=user, unit=unit, pk=picked)
            if picked is not None
            else None
        )
        if person is None:
            person_error = _("Choose a person from the list.")
            form.is_valid()
        elif form.is_valid():
            if _save_responder(request, user, unit, person, form) is not None:
                messages.success(request, _("Responder added."))
                return redirect(f"{reverse('rapid_response:responders')}?unit={unit.pk}")
    else:
        form = ResponderForm(
            precincts=precincts,
            initial={"always": True, "languages": [lang for lang in (unit.languages or ["en"])]},
        )
    candidates = selectors.responder_candidates(actor=user, unit=unit, q=q) if q else []
    template = (
        "rapid_response/_candidates.html"
        if request.headers.get("HX-Request") and request.method == "GET"
        else "rapid_response/responder_form.html"
    )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        template,
        {
            "unit": unit,
            "form": form,
            "q": q,
            "candidates": candidates,
            "picked": picked,
            "person_error": person_error,
            "adding": True,
            "config": _area_map(None, None, unit),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def responder_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _require_manage(request)
    responder = selectors.responder_get_for_actor(actor=user, pk=pk)
    unit = responder.owner_unit
    precincts = selectors.unit_precincts(unit=unit)
    if responder.precinct and responder.precinct not in dict(precincts):
        precincts = [(responder.precinct, responder.precinct), *precincts]
    form = ResponderForm(
        request.POST or None, precincts=precincts, initial=ResponderForm.initial_for(responder)
    )
    consent = selectors.consent_status(list(responder.person.phones.all()))
    if request.method == "POST" and form.is_valid():
        if _save_responder(request, user, unit, responder.person, form) is not None:
            messages.success(request, _("Responder saved."))
            return redirect(f"{reverse('rapid_response:responders')}?unit={unit.pk}")
    return render(
        request,
        "rapid_response/responder_form.html",
        {
            "unit": unit,
            "form": form,
            "responder": responder,
            "consent": consent,
            "consent_label": _consent_label(consent),
            "adding": False,
            "config": _area_map(responder.lat, responder.lon, unit),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def responder_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = _require_manage(request)
    responder = selectors.responder_get_for_actor(actor=user, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.responder_set_active(actor=user, responder=responder, active=active)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(
            request,
            _("Responder is back on the roster.") if active else _("Responder deactivated."),
        )
    return redirect(f"{reverse('rapid_response:responders')}?unit={responder.owner_unit_id}")

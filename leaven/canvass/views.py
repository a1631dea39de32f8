"""Canvassing pages and the offline walk page's JSON endpoints. Thin: parse, call a selector
or a service, render."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leaven.canvass import selectors, services
from leaven.canvass.forms import (
    AssignForm,
    CutForm,
    HandoffForm,
    MoveDoorForm,
    QuestionForm,
    ScriptForm,
    tristate_value,
)
from leaven.canvass.models import Assignment, ResultCode
from leaven.core import access, permissions
from leaven.core.audit import audit_record
from leaven.core.forms import form_add_errors, unit_choices
from leaven.core.http import signed_in_user, user_with_permission
from leaven.core.models import User
from leaven.core.selectors import unit_get_by_id_for_actor
from leaven.people.models import Stage
from leaven.people.selectors import tags_for_actor


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Organizers: the turf list. Captains: my turfs and my precinct."""
    user = user_with_permission(request, permissions.CANVASS_VIEW)
    mine = list(selectors.my_assignments(actor=user))
    my_codes = sorted({a.turf.precinct_code for a in mine if a.turf.precinct_code})
    strength = selectors.strength_by_precinct(actor=user, codes=my_codes) if my_codes else {}
    can_manage = access.can_anywhere(user, permissions.CANVASS_MANAGE)
    turfs = list(selectors.turf_list_for_actor(actor=user)[:200]) if can_manage or not mine else []
    return render(
        request,
        "canvass/home.html",
        {
            "assignments": mine,
            "my_precincts": [strength[c] for c in my_codes if c in strength],
            "turfs": turfs,
            "can_manage": can_manage,
            "wards": selectors.ward_codes(actor=user),
        },
    )


def _cut_form(request: HttpRequest, user: User) -> CutForm:
    return CutForm(
        request.POST or None,
        units=unit_choices(user, permissions.CANVASS_MANAGE),
        scripts=[
            (s.pk, s.name)
            for s in selectors.script_list_for_actor(actor=user)
            if access.can(user, permissions.CANVASS_MANAGE, s.owner_unit)
        ],
        tags=[(t.pk, t.name) for t in tags_for_actor(actor=user)],
        initial={"ward": request.GET.get("ward", "")[:40]},
    )


@login_required
@require_http_methods(["GET", "POST"])
def turf_cut(request: HttpRequest) -> HttpResponse:
    user = user_with_permission(request, permissions.CANVASS_MANAGE)
    form = _cut_form(request, user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = unit_get_by_id_for_actor(
            actor=user, pk=data["unit"], permission=permissions.CANVASS_MANAGE
        )
        script = None
        if data.get("script"):
            script = selectors.script_get_for_actor(actor=user, pk=data["script"])
        try:
            turfs = services.turf_cut(
                actor=user,
                unit=unit,
                area=services.Area(
                    precincts=form.precinct_codes(),
                    ward=data.get("ward", "").strip(),
                    polygon=data.get("polygon", ""),
                ),
                filters=services.DoorFilters(
                    stages=tuple(data.get("stages") or ()),
                    tag_ids=tuple(data.get("tags") or ()),
                    languages=tuple(data.get("languages") or ()),
                    not_contacted_days=data.get("not_contacted_days"),
                    members=tristate_value(data.get("members") or ""),
                    registered=tristate_value(data.get("registered") or ""),
                ),
                doors_per_turf=data["doors_per_turf"],
                name=data.get("name", ""),
                script=script,
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            doors = sum(t.door_count for t in turfs)
            messages.success(
                request,
                _("Cut %(doors)s doors into %(turfs)s turfs.")
                % {"doors": doors, "turfs": len(turfs)},
            )
            return redirect(reverse("canvass:turf_cut") + "#turf-map")
    return render(
        request,
        "canvass/cut.html",
        {
            "form": form,
            "turfs": list(selectors.turf_list_for_actor(actor=user)[:200]),
            "map_config": {
                "data_url": reverse("canvass:turf_map_data"),
                "boundaries_url": reverse("geo:map_data"),
                "labels": {"doors": _("doors"), "clear": _("Clear the drawing")},
                "tiles": getattr(settings, "LEAVEN_MAP_TILES", ""),
            },
        },
    )


@login_required
@require_GET
def turf_map_data(request: HttpRequest) -> JsonResponse:
    """The actor's active turfs as GeoJSON: each turf's doors (points, no names) and its
    door count, for the map."""
    user = user_with_permission(request, permissions.CANVASS_VIEW)
    only = request.GET.get("turf")
    turfs = selectors.turf_list_for_actor(actor=user)
    if only and only.isdigit():
        turfs = turfs.filter(pk=int(only))
    shown = list(turfs[:300])
    coords = selectors.turf_routes(turfs=shown)
    features = [
        {
            "type": "Feature",
            "properties": {
                "id": turf.pk,
                "name": turf.name,
                "color": turf.color,
                "doors": turf.door_count,
                "url": reverse("canvass:turf_detail", args=[turf.pk]),
            },
            "geometry": {"type": "LineString", "coordinates": coords[turf.pk]},
        }
        for turf in shown
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


def _walker_choices(turf: Any) -> list[tuple[int, str]]:
    return [(u.pk, str(u)) for u in selectors.walkers_for_turf(turf=turf)]


@login_required
def turf_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The walk list: households in walking order with residents, language, stage and last
    contact; assignments; moving doors."""
    user = signed_in_user(request)
    turf = selectors.turf_get_for_actor(actor=user, pk=pk)
    can_manage = access.can(user, permissions.CANVASS_MANAGE, turf.owner_unit)
    now = timezone.localtime()
    assign_form = AssignForm(
        users=_walker_choices(turf),
        initial={
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    others = [
        (t.pk, f"{t.name} ({t.door_count})")
        for t in selectors.turf_list_for_actor(actor=user).filter(owner_unit=turf.owner_unit)
        if t.pk != turf.pk
    ]
    assignments = list(selectors.turf_assignments(turf=turf))
    handoff_users = [(u, label) for u, label in _walker_choices(turf)]
    return render(
        request,
        "canvass/turf_detail.html",
        {
            "turf": turf,
            "doors": selectors.walk_list(actor=user, turf=turf),
            "can_manage": can_manage,
            "assign_form": assign_form if can_manage else None,
            "move_form": MoveDoorForm(turfs=others) if can_manage and others else None,
            "assignments": assignments,
            "handoff_form": HandoffForm(users=handoff_users),
            "map_config": {
                "data_url": reverse("canvass:turf_map_data") + f"?turf={turf.pk}",
                "labels": {"doors": _("doors")},
                "tiles": getattr(settings, "LEAVEN_MAP_TILES", ""),
            },
        },
    )


@login_required
@require_POST
def turf_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    turf = selectors.turf_get_for_actor(actor=user, pk=pk, permission=permissions.CANVASS_MANAGE)
    form = AssignForm(request.POST, users=_walker_choices(turf))
    if form.is_valid():
        canvasser = (
            selectors.walkers_for_turf(turf=turf).filter(pk=form.cleaned_data["user"]).first()
        )
        if canvasser is None:
            raise Http404
        try:
            services.assignment_create(
                actor=user,
                turf=turf,
                user=canvasser,
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Turf assigned."))
            return redirect("canvass:turf_detail", pk=turf.pk)
    for errors in form.errors.values():
        for text in errors:
            messages.error(request, str(text))
    return redirect("canvass:turf_detail", pk=turf.pk)


@login_required
@require_POST
def door_move(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    door = selectors.turf_door_get_for_actor(actor=user, pk=pk)
    target_ids = [
        (t.pk, t.name)
        for t in selectors.turf_list_for_actor(actor=user).filter(
            owner_unit_id=door.turf.owner_unit_id
        )
    ]
    form = MoveDoorForm(request.POST, turfs=target_ids)
    source = door.turf_id
    if form.is_valid():
        target = selectors.turf_get_for_actor(
            actor=user, pk=form.cleaned_data["to_turf"], permission=permissions.CANVASS_MANAGE
        )
        try:
            services.turf_door_move(actor=user, door=door, to_turf=target)
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
        else:
            messages.success(request, _("Door moved; both turfs were re-routed."))
    else:
        messages.error(request, _("Choose a turf to move the door to."))
    return redirect("canvass:turf_detail", pk=source)


@login_required
@require_POST
def assignment_handoff(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    assignment = selectors.assignment_get_for_actor(actor=user, pk=pk)
    turf = assignment.turf
    form = HandoffForm(request.POST, users=_walker_choices(turf))
    if form.is_valid():
        teammate = (
            selectors.walkers_for_turf(turf=turf).filter(pk=form.cleaned_data["user"]).first()
        )
        if teammate is None:
            raise Http404
        try:
            services.assignment_handoff(actor=user, assignment=assignment, to_user=teammate)
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
        else:
            messages.success(request, _("Turf handed to %(name)s.") % {"name": str(teammate)})
    else:
        messages.error(request, _("Choose a teammate."))
    if access.can(user, permissions.CANVASS_VIEW, turf.owner_unit):
        return redirect("canvass:turf_detail", pk=turf.pk)
    return redirect("canvass:home")


@login_required
@require_POST
def assignment_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    assignment = selectors.assignment_get_for_actor(actor=user, pk=pk)
    try:
        services.assignment_revoke(actor=user, assignment=assignment)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(
            request,
            _("Assignment revoked. The phone will wipe the walk list when it next connects."),
        )
    return redirect("canvass:turf_detail", pk=assignment.turf_id)


# -- Scripts --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def script_list(request: HttpRequest) -> HttpResponse:
    user = user_with_permission(request, permissions.CANVASS_VIEW)
    can_manage = access.can_anywhere(user, permissions.CANVASS_MANAGE)
    form = ScriptForm(request.POST or None, units=unit_choices(user, permissions.CANVASS_MANAGE))
    if request.method == "POST":
        if not can_manage:
            raise Http404
        if form.is_valid():
            unit = unit_get_by_id_for_actor(
                actor=user, pk=form.cleaned_data["unit"], permission=permissions.CANVASS_MANAGE
            )
            try:
                script = services.script_create(
                    actor=user,
                    owner_unit=unit,
                    name=form.cleaned_data["name"],
                    text_en=form.cleaned_data["text_en"],
                    text_es=form.cleaned_data["text_es"],
                )
            except ValidationError as exc:
                form_add_errors(form, exc)
            else:
                return redirect("canvass:script_detail", pk=script.pk)
    return render(
        request,
        "canvass/scripts.html",
        {
            "scripts": selectors.script_list_for_actor(actor=user),
            "form": form if can_manage else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def script_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    script = selectors.script_get_for_actor(actor=user, pk=pk)
    can_manage = access.can(user, permissions.CANVASS_MANAGE, script.owner_unit)
    form = QuestionForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise Http404
        if form.is_valid():
            try:
                services.question_add(
                    actor=user,
                    script=script,
                    kind=form.cleaned_data["kind"],
                    text_en=form.cleaned_data["text_en"],
                    text_es=form.cleaned_data["text_es"],
                    choices=form.cleaned_data["choices"],
                    stage_rules=form.cleaned_data["stage_rules"],
                )
            except ValidationError as exc:
                form_add_errors(form, exc)
            else:
                messages.success(request, _("Question added."))
                return redirect("canvass:script_detail", pk=script.pk)
    stages = dict(Stage.choices)
    questions = [
        (q, [(answer, stages.get(stage, stage)) for answer, stage in q.stage_rules.items()])
        for q in script.questions.all()
    ]
    return render(
        request,
        "canvass/script_detail.html",
        {
            "script": script,
            "questions": questions,
            "form": form if can_manage else None,
            "result_codes": ResultCode.choices,
        },
    )


# -- Precinct strength ----------------------------------------------------------------------


@login_required
def precinct_strength(request: HttpRequest, code: str) -> HttpResponse:
    user = user_with_permission(request, permissions.CANVASS_VIEW)
    strength = selectors.precinct_strength(actor=user, code=code)
    return render(
        request,
        "canvass/strength.html",
        {"row": strength, "results": selectors.election_results(code=code)},
    )


@login_required
def ward_list(request: HttpRequest) -> HttpResponse:
    user = user_with_permission(request, permissions.CANVASS_VIEW)
    return render(request, "canvass/wards.html", {"wards": selectors.ward_codes(actor=user)})


@login_required
def ward_ranking(request: HttpRequest, code: str) -> HttpResponse:
    user = user_with_permission(request, permissions.CANVASS_VIEW)
    by_strength, by_potential = selectors.ward_ranking(actor=user, ward=code)
    results = {row.code: selectors.election_results(code=row.code)[:1] for row in by_strength}
    return render(
        request,
        "canvass/ward.html",
        {
            "ward": code,
            "by_strength": [(row, results.get(row.code, [])) for row in by_strength],
            "by_potential": by_potential,
        },
    )


# -- The offline walk page ------------------------------------------------------------------


@login_required
@never_cache
def walk(request: HttpRequest, pk: int) -> HttpResponse:
    """The phone page. Holds no personal data itself: the walk list is fetched as JSON,
    encrypted in the browser and kept in IndexedDB until the shift ends."""
    user = signed_in_user(request)
    assignment = selectors.assignment_get_for_actor(actor=user, pk=pk)
    return render(
        request,
        "canvass/walk.html",
        {
            "assignment": assignment,
            "result_codes": ResultCode.choices,
            "walk_config": {
                "assignment": assignment.pk,
                "walklist_url": reverse("canvass:walklist", args=[assignment.pk]),
                "sync_url": reverse("canvass:sync", args=[assignment.pk]),
                "sw_url": reverse("canvass:service_worker"),
                "scope": "/",
                "page_url": reverse("canvass:walk", args=[assignment.pk]),
                "language": get_language() or "en",
                "results": [
                    {"code": code, "label": str(label)} for code, label in ResultCode.choices
                ],
                "stages": {value: str(label) for value, label in Stage.choices},
            },
        },
    )


def _json_login_required(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"signed_out": True}, status=401)
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return JsonResponse({"not_found": True}, status=404)

    return wrapper


def _ended(assignment: Assignment) -> JsonResponse | None:
    """The signal that tells the phone to wipe: revoked or past the shift's end."""
    if assignment.revoked_at is not None:
        return JsonResponse({"revoked": True}, status=410)
    if services.assignment_expires_at(assignment) <= timezone.now():
        return JsonResponse({"expired": True}, status=410)
    return None


@never_cache
@require_GET
@_json_login_required
def walklist(request: HttpRequest, pk: int) -> JsonResponse:
    user = signed_in_user(request)
    assignment = selectors.assignment_get_for_actor(actor=user, pk=pk)
    ended = _ended(assignment)
    if ended is not None:
        return ended
    payload = selectors.walk_list_payload(actor=user, assignment=assignment)
    audit_record(
        actor=user,
        verb="canvass.walklist_downloaded",
        obj=assignment,
        unit=assignment.turf.owner_unit,
        detail={"turf": assignment.turf_id, "doors": len(payload["doors"])},
    )
    return JsonResponse(payload)


@never_cache
@require_POST
@_json_login_required
def sync(request: HttpRequest, pk: int) -> JsonResponse:
    """Results from the phone, each with a client UUID: a repeated sync adds nothing."""
    user = signed_in_user(request)
    assignment = selectors.assignment_get_for_actor(actor=user, pk=pk)
    ended = _ended(assignment)
    if ended is not None:
        return ended
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"error": _("The results could not be read.")}, status=400)
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        return JsonResponse({"error": _("The results could not be read.")}, status=400)
    try:
        outcome = services.results_record(
            actor=user, assignment=assignment, turf=assignment.turf, results=results
        )
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    return JsonResponse(
        {
            "created": outcome.created,
            "duplicates": outcome.duplicates,
            "answers": outcome.answers,
            "rejected": outcome.rejected,
        }
    )


SERVICE_WORKER_PATH = "canvass/sw.js"


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker. Its scope is the whole site (allowed by the header) so that it
    sees a sign-out from any page; it caches only the walk page and its assets."""
    from django.contrib.staticfiles import finders

    found = finders.find(SERVICE_WORKER_PATH)
    if not found:  # pragma: no cover - shipped with the app
        raise Http404
    path = found if isinstance(found, str) else found[0]
    with open(path, encoding="utf-8") as handle:
        body = handle.read()
    body = body.replace("__LOGOUT_PATH__", reverse("account_logout"))
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    # Scope "/" so that signing out from any page wipes the walk list.
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response

"""Event pages: the organizers' pages (signed in) and the public pages (RSVP, cancel, a
circle leader's seats, calendar files)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leaven.core import access, permissions
from leaven.core.forms import form_add_errors
from leaven.core.models import OrgUnit
from leaven.core.selectors import unit_list_for_actor
from leaven.events import ics, selectors, services, tokens
from leaven.events.forms import (
    EventForm,
    LeaderAddForm,
    QuotaForm,
    RSVPForm,
    ShiftForm,
    VehicleForm,
    WalkInForm,
    in_zone,
)
from leaven.events.models import RSVP, Event
from leaven.people.models import PartnerOrganization, Person


def _lang() -> str:
    return "es" if (get_language() or "en").startswith("es") else "en"


def _ics(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


# Public pages ---------------------------------------------------------------------------


def _rate_limited(request: HttpRequest) -> bool:
    address = request.META.get("REMOTE_ADDR", "")
    key = "events:rsvp:" + hashlib.sha256(address.encode()).hexdigest()[:32]
    limit = getattr(settings, "LEAVEN_EVENTS_RSVP_PER_HOUR", 20)
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:
        count = 1
    return bool(count > limit)


def _heard(event: Event, value: str) -> tuple[OrgUnit | None, PartnerOrganization | None]:
    if value.startswith("u") and value[1:].isdigit():
        unit = OrgUnit.objects.filter(pk=int(value[1:])).first()
        return unit, None
    if value.startswith("p") and value[1:].isdigit():
        return None, event.partners.filter(pk=int(value[1:])).first()
    return None, None


def event_public(request: HttpRequest, slug: str) -> HttpResponse:
    event = selectors.event_get_public(slug=slug, user=request.user)
    language = _lang()
    form = RSVPForm(request.POST or None, event=event, language=language)
    status = 200
    if request.method == "POST":
        if _rate_limited(request):
            form.add_error(None, _("Too many RSVPs from this connection. Please try later."))
            status = 429
        elif form.is_valid():
            unit, partner = _heard(event, form.cleaned_data.get("heard") or "")
            shift_pk = form.cleaned_data.get("shift")
            shift = event.shifts.filter(pk=shift_pk).first() if shift_pk else None
            try:
                rsvp = services.rsvp_submit(
                    event=event,
                    contact=form.contact(),
                    shift=shift,
                    heard_unit=unit,
                    heard_partner=partner,
                )
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                return render(
                    request,
                    "events/rsvp_done.html",
                    {
                        "event": event,
                        "title": event.title(language),
                        "waitlist": rsvp.status == RSVP.Status.WAITLIST,
                        "given_name": form.cleaned_data["given_name"],
                        "cancel_url": reverse(
                            "events:rsvp_cancel", args=[tokens.make(tokens.CANCEL, rsvp.pk)]
                        ),
                    },
                )
        elif form.is_bot:
            status = 400
        if status == 200:
            status = 400
    shifts = [(s, s.label(language), services.has_room(event, s)) for s in event.shifts.all()]
    context = {
        "event": event,
        "title": event.title(language),
        "description": event.description(language),
        "form": form,
        "shifts": shifts,
        "full": not event.shifts.exists() and not services.has_room(event),
        "open": event.status == Event.Status.SCHEDULED and event.ends_at > timezone.now(),
    }
    return render(request, "events/public.html", context, status=status)


def event_ics(request: HttpRequest, slug: str) -> HttpResponse:
    event = selectors.event_get_public(slug=slug, user=request.user)
    return _ics(
        ics.calendar_bytes([event], name=event.title(_lang()), language=_lang()), "event.ics"
    )


def rsvp_cancel(request: HttpRequest, token: str) -> HttpResponse:
    rsvp = selectors.rsvp_from_cancel_token(token=token)
    event = rsvp.event
    done = rsvp.status == RSVP.Status.CANCELLED
    if request.method == "POST" and not done:
        services.rsvp_cancel(rsvp=rsvp)
        done = True
    return render(
        request,
        "events/rsvp_cancel.html",
        {"event": event, "title": event.title(_lang()), "done": done},
    )


def leader(request: HttpRequest, token: str) -> HttpResponse:
    """A circle leader's page for their group's seats, opened from a signed link. It shows
    this group's seats and nothing of any other group's."""
    quota = selectors.quota_from_leader_token(token=token)
    event = quota.event
    members = [(p.pk, p.display_name) for p in selectors.quota_members_to_seat(quota=quota)]
    form = LeaderAddForm(request.POST or None, members=members, initial={"language": _lang()})
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "add")
        try:
            if action == "release":
                released = services.quota_release(quota=quota)
                messages.success(
                    request, _("%(count)d seats went back to the pool.") % {"count": released}
                )
                return redirect("events:leader", token=token)
            if action == "free":
                value = request.POST.get("rsvp") or ""
                rsvp = (
                    selectors.quota_seats(quota=quota).filter(pk=int(value)).first()
                    if value.isdigit()
                    else None
                )
                if rsvp is None:
                    raise Http404
                services.quota_seat_free(quota=quota, rsvp=rsvp)
                messages.success(request, _("The seat is free again."))
                return redirect("events:leader", token=token)
            if form.is_valid():
                member = form.cleaned_data.get("member")
                person = None
                if member:
                    person = Person.objects.filter(pk=member).first()
                services.quota_seat_fill(
                    quota=quota,
                    person=person,
                    contact=None if person else form.contact(),
                )
                messages.success(request, _("Seat filled."))
                return redirect("events:leader", token=token)
            status = 400
        except ValidationError as error:
            form_add_errors(form, error)
            status = 400
    seats = list(selectors.quota_seats(quota=quota))
    context = {
        "event": event,
        "title": event.title(_lang()),
        "quota": quota,
        "seats": seats,
        "left": quota.held - len(seats),
        "form": form,
    }
    return render(request, "events/leader.html", context, status=status)


def unit_feed(request: HttpRequest, token: str) -> HttpResponse:
    unit = selectors.unit_from_feed_token(token=token)
    events = selectors.unit_feed_events(unit=unit)
    return _ics(ics.calendar_bytes(events, name=unit.name, language=_lang()), "events.ics")


def person_feed(request: HttpRequest, token: str) -> HttpResponse:
    person = selectors.person_from_feed_token(token=token)
    events = selectors.person_feed_events(person=person)
    language = person.language or "en"
    return _ics(ics.calendar_bytes(events, name="Leaven", language=language), "my-events.ics")


# Organizers' pages ----------------------------------------------------------------------


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    past = request.GET.get("past") == "1"
    events = selectors.event_list_for_actor(actor=user, upcoming=not past)
    units = list(unit_list_for_actor(actor=user, permission=permissions.EVENTS_VIEW)[:50])
    feeds = [(u, tokens.make(tokens.UNIT_FEED, u.pk)) for u in units[:10]]
    return render(
        request,
        "events/event_list.html",
        {
            "events": events.order_by("-starts_at" if past else "starts_at")[:200],
            "past": past,
            "can_manage": access.can_anywhere(user, permissions.EVENTS_MANAGE),
            "feeds": feeds,
        },
    )


@login_required
def event_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = [
        (u.pk, u.name)
        for u in unit_list_for_actor(actor=user, permission=permissions.EVENTS_MANAGE)
    ]
    if not units:
        raise Http404
    form = EventForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = unit_list_for_actor(actor=user, permission=permissions.EVENTS_MANAGE).get(
            pk=data["owner_unit"]
        )
        zone = unit.time_zone
        try:
            event = services.event_create(
                actor=user,
                owner_unit=unit,
                title_en=data["title_en"],
                title_es=data["title_es"],
                description_en=data["description_en"],
                description_es=data["description_es"],
                kind=data["kind"],
                visibility=data["visibility"],
                starts_at=in_zone(data["starts_at"], zone),
                ends_at=in_zone(data["ends_at"], zone),
                time_zone=zone,
                address=data["address"],
                online_url=data["online_url"],
                capacity=data["capacity"],
                is_mobilization=data["is_mobilization"],
                release_at=in_zone(data["release_at"], zone) if data["release_at"] else None,
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("Event created."))
            return redirect("events:event_detail", pk=event.pk)
    return render(request, "events/event_form.html", {"form": form})


def _holders(event: Event) -> list[tuple[str, str]]:
    circles = OrgUnit.objects.filter(
        path__startswith=event.owner_unit.path, kind=OrgUnit.Kind.CIRCLE
    ).order_by("name")
    holders = [(f"u{u.pk}", u.name) for u in circles]
    partners = PartnerOrganization.objects.filter(
        owner_unit_id__in=[int(p) for p in event.owner_unit.path.strip("/").split("/") if p]
    ).order_by("name")
    holders += [(f"p{p.pk}", p.name) for p in [*partners, *event.partners.all()]]
    return list(dict.fromkeys(holders))


@login_required
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    event = selectors.event_get_for_actor(actor=user, pk=pk)
    language = _lang()
    can_manage = access.can(user, permissions.EVENTS_MANAGE, event.owner_unit)
    rsvps = selectors.rsvp_list(actor=user, event=event)
    quotas = []
    for row in (
        selectors.mobilization_dashboard(actor=user, event=event) if event.is_mobilization else []
    ):
        if row.quota is not None:
            quotas.append((row, tokens.make(tokens.LEADER, row.quota.pk)))
    context = {
        "event": event,
        "title": event.title(language),
        "can_manage": can_manage,
        "can_checkin": access.can(user, permissions.EVENTS_CHECKIN, event.owner_unit),
        "rsvps": rsvps,
        "going": rsvps.filter(status=RSVP.Status.GOING).count(),
        "waiting": rsvps.filter(status=RSVP.Status.WAITLIST).count(),
        "shifts": [
            (s, s.label(language), s.rsvps.filter(status=RSVP.Status.GOING).count())
            for s in event.shifts.all()
        ],
        "quotas": quotas,
        "pool": services.pool_seats(event) if event.is_mobilization else None,
        "vehicles": event.vehicles.all(),
        "shift_form": ShiftForm(prefix="shift") if can_manage else None,
        "quota_form": QuotaForm(prefix="quota", holders=_holders(event)) if can_manage else None,
        "vehicle_form": VehicleForm(prefix="vehicle") if can_manage else None,
        "public_url": request.build_absolute_uri(reverse("events:event_public", args=[event.slug])),
    }
    return render(request, "events/event_detail.html", context)


@login_required
@require_POST
def event_add(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """Add a shift, a quota or a vehicle to an event."""
    user = request.user
    event = selectors.event_get_for_actor(actor=user, pk=pk, permission=permissions.EVENTS_MANAGE)
    zone = event.time_zone
    form: Any
    try:
        if what == "shift":
            form = ShiftForm(request.POST, prefix="shift")
            if form.is_valid():
                d = form.cleaned_data
                services.shift_add(
                    actor=user, event=event, label_en=d["label_en"], label_es=d["label_es"],
                    starts_at=in_zone(d["starts_at"], zone), ends_at=in_zone(d["ends_at"], zone),
                    capacity=d["capacity"],
                )  # fmt: skip
        elif what == "quota":
            form = QuotaForm(request.POST, prefix="quota", holders=_holders(event))
            if form.is_valid():
                holder = form.cleaned_data["holder"]
                unit = (
                    OrgUnit.objects.filter(pk=int(holder[1:])).first() if holder[0] == "u" else None
                )
                partner = (
                    PartnerOrganization.objects.filter(pk=int(holder[1:])).first()
                    if holder[0] == "p"
                    else None
                )
                services.quota_add(
                    actor=user,
                    event=event,
                    unit=unit,
                    partner=partner,
                    seats=form.cleaned_data["seats"],
                )
        elif what == "vehicle":
            form = VehicleForm(request.POST, prefix="vehicle")
            if form.is_valid():
                services.vehicle_add(
                    actor=user,
                    event=event,
                    name=form.cleaned_data["name"],
                    seats=form.cleaned_data["seats"],
                )
        else:
            raise Http404
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
        else:
            messages.success(request, _("Saved."))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("events:event_detail", pk=event.pk)


@login_required
@require_POST
def event_status(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    event = selectors.event_get_for_actor(actor=user, pk=pk, permission=permissions.EVENTS_MANAGE)
    try:
        services.event_set_status(actor=user, event=event, status=request.POST.get("status", ""))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Saved."))
    return redirect("events:event_detail", pk=event.pk)


@login_required
def checkin(request: HttpRequest, pk: int) -> HttpResponse:
    """The door: search, check in, add walk-ins, mark no-shows. Works from a phone."""
    user = request.user
    event = selectors.event_get_for_actor(actor=user, pk=pk, permission=permissions.EVENTS_CHECKIN)
    vehicle_pk = request.GET.get("vehicle") or request.POST.get("vehicle")
    vehicle = (
        selectors.vehicle_get(event=event, pk=int(vehicle_pk))
        if vehicle_pk and vehicle_pk.isdigit()
        else None
    )
    walk_in = WalkInForm(prefix="walkin", initial={"language": _lang()})
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "walkin":
                walk_in = WalkInForm(request.POST, prefix="walkin")
                if walk_in.is_valid():
                    rsvp = services.rsvp_walk_in(
                        actor=user, event=event, contact=walk_in.contact(), vehicle=vehicle
                    )
                    messages.success(
                        request, _("%(name)s is checked in.") % {"name": rsvp.person.display_name}
                    )
                    return redirect(request.get_full_path())
            elif action in ("in", "undo"):
                rsvp = selectors.rsvp_get_for_actor(
                    actor=user, event=event, pk=int(request.POST.get("rsvp") or 0),
                    permission=permissions.EVENTS_CHECKIN,
                )  # fmt: skip
                services.rsvp_check_in(actor=user, rsvp=rsvp, undo=action == "undo")
                text = (
                    _("%(name)s is checked in.")
                    if action == "in"
                    else _("Check-in undone for %(name)s.")
                )
                messages.success(request, text % {"name": rsvp.person.display_name})
                return redirect(request.get_full_path())
            elif action == "noshows":
                count = services.event_mark_no_shows(actor=user, event=event)
                messages.success(request, _("%(count)d marked as no-shows.") % {"count": count})
                return redirect(request.get_full_path())
        except ValidationError as error:
            if action == "walkin":
                form_add_errors(walk_in, error)
            else:
                for message in error.messages:
                    messages.error(request, message)
                return redirect(request.get_full_path())
    q = request.GET.get("q", "")
    rows = selectors.rsvp_list(
        actor=user, event=event, q=q, vehicle=vehicle.pk if vehicle else None
    )
    rows = rows.exclude(status=RSVP.Status.CANCELLED)
    context = {
        "event": event,
        "title": event.title(_lang()),
        "rows": rows[:100],
        "q": q,
        "vehicle": vehicle,
        "vehicles": event.vehicles.all(),
        "came": rows.filter(attendance=RSVP.Attendance.ATTENDED).count(),
        "total": rows.count(),
        "walk_in": walk_in,
    }
    return render(request, "events/checkin.html", context, status=400 if walk_in.errors else 200)


@login_required
def roster(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    event = selectors.event_get_for_actor(actor=user, pk=pk)
    can_manage = access.can(user, permissions.EVENTS_MANAGE, event.owner_unit)
    if request.method == "POST":
        if not can_manage:
            raise Http404
        rsvp = selectors.rsvp_get_for_actor(
            actor=user, event=event, pk=int(request.POST.get("rsvp") or 0),
            permission=permissions.EVENTS_MANAGE,
        )  # fmt: skip
        value = request.POST.get("vehicle") or ""
        vehicle = selectors.vehicle_get(event=event, pk=int(value)) if value.isdigit() else None
        try:
            services.rsvp_assign_vehicle(actor=user, rsvp=rsvp, vehicle=vehicle)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        return redirect("events:roster", pk=event.pk)
    vehicle_pk = request.GET.get("vehicle")
    rows = selectors.roster_rows(
        actor=user,
        event=event,
        vehicle=int(vehicle_pk) if vehicle_pk and vehicle_pk.isdigit() else None,
    )
    return render(
        request,
        "events/roster.html",
        {
            "event": event,
            "title": event.title(_lang()),
            "rows": rows,
            "vehicles": event.vehicles.all(),
            "can_manage": can_manage,
            "with_phone": any(r["phone"] for r in rows),
        },
    )


@login_required
def roster_csv(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    event = selectors.event_get_for_actor(actor=user, pk=pk, permission=permissions.EVENTS_MANAGE)
    rows = selectors.roster_rows(actor=user, event=event)
    data = services.roster_export(actor=user, event=event, rows=rows)
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="roster.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    event = selectors.event_get_for_actor(actor=user, pk=pk)
    rows = selectors.mobilization_dashboard(actor=user, event=event)
    return render(
        request,
        "events/dashboard.html",
        {"event": event, "title": event.title(_lang()), "rows": rows},
    )

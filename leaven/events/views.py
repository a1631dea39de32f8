"""Event pages: the organizers' pages (signed in) and the public pages (RSVP, cancel, a
circle leader's seats, calendar files)."""

from __future__ import annotations

import hashlib
from typing import Any
from zoneinfo import ZoneInfo

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
from leaven.core.http import client_address
from leaven.core.models import OrgUnit
from leaven.core.selectors import unit_list_for_actor
from leaven.events import charts, ics, selectors, services, tokens
from leaven.events.forms import (
    EventEditForm,
    EventForm,
    LeaderAddForm,
    LinkIssueForm,
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
    address = client_address(request)
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
    link = selectors.leader_link(token=token)
    quota = link.quota
    event = quota.event
    if not link.is_open:
        return render(
            request,
            "events/leader_closed.html",
            {"event": event, "title": event.title(_lang()), "state": link.state},
            status=410,
        )
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
    host_units, host_partners = selectors.host_choices(actor=user)
    form = EventForm(
        request.POST or None,
        units=units,
        co_hosts=[(u.pk, u.name) for u in host_units],
        partners=[(p.pk, p.name) for p in host_partners],
    )
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
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
                capacity=data["capacity"],
                is_mobilization=data["is_mobilization"],
                release_at=in_zone(data["release_at"], zone) if data["release_at"] else None,
                co_host_units=_picked(host_units, data.get("co_host_units")),
                partners=_picked(host_partners, data.get("partners")),
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("Event created."))
            return redirect("events:event_detail", pk=event.pk)
    return render(request, "events/event_form.html", {"form": form})


def _picked(choices: list[Any], ids: list[int] | None) -> list[Any]:
    """The records picked on a form, among those it offered."""
    wanted = set(ids or [])
    return [c for c in choices if c.pk in wanted]


def _local(moment: Any, zone: str) -> Any:
    return timezone.localtime(moment, ZoneInfo(zone)).replace(tzinfo=None) if moment else None


@login_required
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an event and its shifts; people are told of a new time once."""
    user = request.user
    event = selectors.event_get_for_actor(actor=user, pk=pk, permission=permissions.EVENTS_MANAGE)
    zone = event.time_zone
    host_units, host_partners = selectors.host_choices(actor=user, event=event)
    initial = {
        name: getattr(event, name)
        for name in (
            "title_en", "title_es", "description_en", "description_es", "kind", "visibility",
            "status", "address", "online_url", "latitude", "longitude", "capacity",
        )
    }  # fmt: skip
    initial.update(
        starts_at=_local(event.starts_at, zone),
        ends_at=_local(event.ends_at, zone),
        release_at=_local(event.release_at, zone),
        co_host_units=[u.pk for u in event.co_host_units.all()],
        partners=[p.pk for p in event.partners.all()],
    )
    data = request.POST if request.method == "POST" else None
    form = EventEditForm(
        data,
        event=event,
        initial=initial,
        co_hosts=[(u.pk, u.name) for u in host_units],
        partners=[(p.pk, p.name) for p in host_partners],
    )
    language = _lang()
    shift_forms = [
        (
            shift,
            shift.label(language),
            ShiftForm(
                data,
                prefix=f"shift-{shift.pk}",
                initial={
                    "label_en": shift.label_en,
                    "label_es": shift.label_es,
                    "starts_at": _local(shift.starts_at, zone),
                    "ends_at": _local(shift.ends_at, zone),
                    "capacity": shift.capacity,
                },
            ),
        )
        for shift in event.shifts.all()
    ]
    status = 200
    if request.method == "POST":
        valid = form.is_valid()
        valid = all([sf.is_valid() for _s, _l, sf in shift_forms]) and valid
        if valid:
            d = form.cleaned_data
            changes = [
                services.ShiftChange(
                    shift_id=shift.pk,
                    label_en=sf.cleaned_data["label_en"],
                    label_es=sf.cleaned_data["label_es"],
                    starts_at=in_zone(sf.cleaned_data["starts_at"], zone),
                    ends_at=in_zone(sf.cleaned_data["ends_at"], zone),
                    capacity=sf.cleaned_data["capacity"],
                )
                for shift, _label, sf in shift_forms
            ]
            try:
                services.event_update(
                    actor=user,
                    event=event,
                    title_en=d["title_en"],
                    title_es=d["title_es"],
                    description_en=d["description_en"],
                    description_es=d["description_es"],
                    kind=d["kind"],
                    visibility=d["visibility"],
                    status=d["status"],
                    starts_at=in_zone(d["starts_at"], zone),
                    ends_at=in_zone(d["ends_at"], zone),
                    address=d["address"],
                    online_url=d["online_url"],
                    latitude=d.get("latitude"),
                    longitude=d.get("longitude"),
                    capacity=d["capacity"],
                    release_at=(in_zone(d["release_at"], zone) if d.get("release_at") else None),
                    co_host_units=(
                        _picked(host_units, d.get("co_host_units"))
                        if "co_host_units" in form.fields
                        else None
                    ),
                    partners=(
                        _picked(host_partners, d.get("partners"))
                        if "partners" in form.fields
                        else None
                    ),
                    shifts=changes,
                )
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                messages.success(request, _("Event saved."))
                return redirect("events:event_detail", pk=event.pk)
        status = 400
    return render(
        request,
        "events/event_edit.html",
        {
            "event": event,
            "title": event.title(language),
            "form": form,
            "shift_forms": shift_forms,
            "zone": zone,
        },
        status=status,
    )


@login_required
@require_POST
def quota_link(request: HttpRequest, pk: int, quota_pk: int) -> HttpResponse:
    """Revoke a group leader's link, or issue a new one (the old one stops working)."""
    user = request.user
    event = selectors.event_get_for_actor(actor=user, pk=pk, permission=permissions.EVENTS_MANAGE)
    quota = selectors.quota_get_for_actor(actor=user, event=event, pk=quota_pk)
    action = request.POST.get("action")
    try:
        if action == "revoke":
            services.quota_link_revoke(actor=user, quota=quota)
            messages.success(
                request,
                _("The link for %(group)s no longer works.") % {"group": quota.holder_name},
            )
        elif action == "issue":
            form = LinkIssueForm(request.POST, prefix=f"link-{quota.pk}")
            if not form.is_valid():
                for error_list in form.errors.values():
                    for text in error_list:
                        messages.error(request, str(text))
            else:
                services.quota_link_issue(actor=user, quota=quota, days=form.cleaned_data["days"])
                messages.success(
                    request,
                    _("A new link for %(group)s is ready; the old one no longer works.")
                    % {"group": quota.holder_name},
                )
        else:
            raise Http404
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect(reverse("events:event_detail", args=[event.pk]) + "#quotas-h")


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
            quota = row.quota
            state = (
                selectors.LINK_REVOKED
                if quota.link_revoked
                else selectors.LINK_EXPIRED
                if timezone.now() >= quota.link_closes_at
                else selectors.LINK_OPEN
            )
            quotas.append(
                {
                    "row": row,
                    "token": tokens.leader(quota) if state == selectors.LINK_OPEN else "",
                    "state": state,
                    "closes_at": quota.link_closes_at,
                    "issue_form": LinkIssueForm(
                        prefix=f"link-{quota.pk}",
                        initial={"days": services.leader_link_days()},
                    ),
                }
            )
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
    history = selectors.seat_history(actor=user, event=event)
    now = timezone.now()
    moments = [at for series in history for at, _n in series.points]
    start = min([*moments, event.created_at])
    end = min(max([now, *moments]), event.ends_at) if moments else now
    end = max(end, start)
    pool = _("Shared pool")
    charts_ = [
        (
            series.name or pool,
            charts.seats_chart(
                series,
                start=start,
                end=end,
                time_zone=event.time_zone,
                label=series.name or pool,
            ),
        )
        for series in history
    ]
    return render(
        request,
        "events/dashboard.html",
        {"event": event, "title": event.title(_lang()), "rows": rows, "charts": charts_},
    )

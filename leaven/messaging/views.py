"""Pages for segments, broadcasts, the text inbox and review queue; and the public endpoints
(unsubscribe, Twilio webhooks)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from leaven.core import access, permissions
from leaven.core.audit import audit_source
from leaven.core.forms import form_add_errors
from leaven.core.models import AuditEvent, OrgUnit
from leaven.messaging import conf, selectors, services
from leaven.messaging.forms import (
    BroadcastForm,
    ReplyForm,
    ScheduleForm,
    SegmentForm,
    TestSendForm,
    initial_from_conditions,
)
from leaven.messaging.models import Broadcast, InboundMessage, OutboxMessage
from leaven.people.models import Tag

TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _require_any(request: HttpRequest, permission: str = permissions.MESSAGING_VIEW) -> None:
    if not access.can_anywhere(request.user, permission):
        raise Http404


def _send_units(request: HttpRequest) -> list[tuple[int, str]]:
    ids = access.unit_ids_in_scope(request.user, permissions.MESSAGING_SEND)
    return [(u.pk, u.name) for u in OrgUnit.objects.filter(pk__in=ids).order_by("path")]


def _tags(request: HttpRequest) -> list[tuple[int, str]]:
    ids = access.unit_ids_in_scope(request.user, permissions.MESSAGING_SEND)
    return [(t.pk, t.name) for t in Tag.objects.filter(owner_unit_id__in=ids).order_by("name")]


def _tiers(request: HttpRequest) -> list[tuple[int, str]]:
    from leaven.membership.selectors import tiers_visible

    es = _is_es()
    return [
        (t.pk, f"{t.name_es if es and t.name_es else t.name_en} · {t.owner_unit.name}")
        for t in tiers_visible(actor=request.user).order_by("owner_unit__path", "name_en")
    ]


def _segment_events(request: HttpRequest) -> list[tuple[int, str]]:
    es = _is_es()
    return [
        (
            e.pk,
            f"{e.title_es if es and e.title_es else e.title_en} · {e.owner_unit.name} · "
            f"{e.starts_at:%Y-%m-%d}",
        )
        for e in selectors.segment_events_for_actor(actor=request.user)
    ]


def _segment_form(request: HttpRequest, *args: Any, **kwargs: Any) -> SegmentForm:
    return SegmentForm(
        *args,
        units=_send_units(request),
        tags=_tags(request),
        tiers=_tiers(request),
        events=_segment_events(request),
        **kwargs,
    )


@login_required
def segment_list(request: HttpRequest) -> HttpResponse:
    _require_any(request)
    segments = selectors.segment_list_for_actor(actor=request.user)
    return render(request, "messaging/segment_list.html", {"segments": segments})


@login_required
def segment_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_any(request, permissions.MESSAGING_SEND)
    segment = selectors.segment_get_for_actor(actor=request.user, pk=pk) if pk else None
    if request.method == "POST":
        form = _segment_form(request, request.POST)
        if form.is_valid():
            unit = OrgUnit.objects.filter(pk=form.cleaned_data["owner_unit"]).first()
            try:
                if unit is None:
                    raise ValidationError(_("Choose a unit."))
                if segment is None:
                    segment = services.segment_create(
                        actor=request.user,
                        owner_unit=unit,
                        name=form.cleaned_data["name"],
                        conditions=form.conditions(),
                    )
                else:
                    segment = services.segment_update(
                        actor=request.user,
                        segment=segment,
                        name=form.cleaned_data["name"],
                        conditions=form.conditions(),
                    )
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                messages.success(request, _("Segment saved."))
                return redirect("messaging:segment_list")
    else:
        initial: dict[str, Any] = {}
        if segment is not None:
            initial = initial_from_conditions(segment.conditions)
            initial.update(name=segment.name, owner_unit=segment.owner_unit_id)
        form = _segment_form(request, initial=initial)
    count = _count_for(request, form) if form.is_bound and form.is_valid() else None
    if count is None and segment is not None:
        count = services.segment_count(
            actor=request.user, conditions=segment.conditions, owner_unit=segment.owner_unit
        )
    return render(
        request,
        "messaging/segment_form.html",
        {"form": form, "segment": segment, "count": count},
    )


def _count_for(request: HttpRequest, form: SegmentForm) -> int | None:
    unit = OrgUnit.objects.filter(pk=form.cleaned_data["owner_unit"]).first()
    if unit is None or not access.can(request.user, permissions.MESSAGING_SEND, unit):
        return None
    try:
        return services.segment_count(
            actor=request.user, conditions=form.conditions(), owner_unit=unit
        )
    except ValidationError:
        return None


@login_required
@require_POST
def segment_count(request: HttpRequest) -> HttpResponse:
    """The live count while a segment is edited (htmx)."""
    _require_any(request, permissions.MESSAGING_SEND)
    form = _segment_form(request, request.POST)
    form.fields["name"].required = False
    count = _count_for(request, form) if form.is_valid() else None
    return render(request, "messaging/_segment_count.html", {"count": count})


@login_required
def broadcast_list(request: HttpRequest) -> HttpResponse:
    _require_any(request)
    broadcasts = selectors.broadcast_list_for_actor(actor=request.user)[:100]
    return render(request, "messaging/broadcast_list.html", {"broadcasts": broadcasts})


@login_required
def broadcast_create(request: HttpRequest) -> HttpResponse:
    _require_any(request, permissions.MESSAGING_SEND)
    segments = list(selectors.segment_list_for_actor(actor=request.user))
    choices = [(s.pk, f"{s.name} · {s.owner_unit.name}") for s in segments]
    events = selectors.linkable_events_for_actor(actor=request.user)
    es = _is_es()
    event_choices = [
        (
            e.pk,
            f"{e.title_es if es and e.title_es else e.title_en} · {e.owner_unit.name} · "
            f"{e.starts_at:%Y-%m-%d}",
        )
        for e in events
    ]
    if request.method == "POST":
        form = BroadcastForm(request.POST, segments=choices, events=event_choices)
        if form.is_valid():
            try:
                segment = selectors.segment_get_for_actor(
                    actor=request.user, pk=form.cleaned_data["segment"]
                )
                event_pk = form.cleaned_data.get("event")
                broadcast = services.broadcast_create(
                    actor=request.user,
                    segment=segment,
                    channel=form.cleaned_data["channel"],
                    name=form.cleaned_data["name"],
                    templates=form.templates(),
                    urgent=form.cleaned_data["urgent"],
                    event=next((e for e in events if e.pk == event_pk), None),
                )
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                return redirect("messaging:broadcast_detail", pk=broadcast.pk)
    else:
        initial = {}
        if request.GET.get("segment", "").isdigit():
            initial["segment"] = int(request.GET["segment"])
        form = BroadcastForm(initial=initial, segments=choices, events=event_choices)
    return render(request, "messaging/broadcast_form.html", {"form": form, "segments": segments})


def _is_es() -> bool:
    return (translation.get_language() or "en").startswith("es")


def _test_form(broadcast: Broadcast, form: TestSendForm | None) -> TestSendForm:
    """A test email goes to the sender's own address: only texts ask for a number."""
    form = form or TestSendForm(initial={"language": "en"})
    if broadcast.channel != "sms":
        form.fields.pop("destination", None)
    return form


def _detail_context(request: HttpRequest, broadcast: Broadcast, **extra: Any) -> dict[str, Any]:
    language = request.GET.get("language") or translation.get_language() or "en"
    return {
        "broadcast": broadcast,
        "counts": selectors.broadcast_state_counts(broadcast=broadcast),
        "dead_letters": selectors.broadcast_dead_letters(broadcast=broadcast),
        "preview": services.broadcast_preview(broadcast=broadcast, language=language[:2]),
        "languages": [("en", _("English")), ("es", _("Spanish"))],
        "test_form": _test_form(broadcast, extra.pop("test_form", None)),
        "schedule_form": extra.pop("schedule_form", None) or ScheduleForm(),
        "can_send": access.can(request.user, permissions.MESSAGING_SEND, broadcast.owner_unit),
        "live_count": (
            services.segment_count(
                actor=request.user,
                conditions=broadcast.segment.conditions,
                owner_unit=broadcast.segment.owner_unit,
            )
            if broadcast.state == Broadcast.State.DRAFT
            else None
        ),
        "states": OutboxMessage.State,
        **extra,
    }


@login_required
def broadcast_detail(request: HttpRequest, pk: int) -> HttpResponse:
    broadcast = selectors.broadcast_get_for_actor(actor=request.user, pk=pk)
    context = _detail_context(request, broadcast)
    if request.htmx and request.GET.get("part") == "status":  # type: ignore[attr-defined]
        return render(request, "messaging/_broadcast_status.html", context)
    return render(request, "messaging/broadcast_detail.html", context)


@login_required
def broadcast_preview(request: HttpRequest, pk: int) -> HttpResponse:
    broadcast = selectors.broadcast_get_for_actor(actor=request.user, pk=pk)
    language = request.GET.get("language", "en")[:2]
    preview = services.broadcast_preview(broadcast=broadcast, language=language)
    return render(request, "messaging/_preview.html", {"preview": preview, "broadcast": broadcast})


@login_required
@require_POST
def broadcast_test(request: HttpRequest, pk: int) -> HttpResponse:
    broadcast = selectors.broadcast_get_for_actor(actor=request.user, pk=pk)
    form = TestSendForm(request.POST)
    if form.is_valid():
        try:
            services.broadcast_test_send(
                actor=request.user,
                broadcast=broadcast,
                language=form.cleaned_data["language"],
                destination=form.cleaned_data["destination"],
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("A test was sent to you."))
            return redirect("messaging:broadcast_detail", pk=pk)
    return render(
        request,
        "messaging/broadcast_detail.html",
        _detail_context(request, broadcast, test_form=form),
        status=400,
    )


@login_required
@require_POST
def broadcast_send(request: HttpRequest, pk: int) -> HttpResponse:
    broadcast = selectors.broadcast_get_for_actor(actor=request.user, pk=pk)
    try:
        count = services.broadcast_queue(actor=request.user, broadcast=broadcast)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, _("Sending to %(count)s people.") % {"count": count})
    return redirect("messaging:broadcast_detail", pk=pk)


@login_required
@require_POST
def broadcast_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    broadcast = selectors.broadcast_get_for_actor(actor=request.user, pk=pk)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        try:
            services.broadcast_schedule(
                actor=request.user, broadcast=broadcast, at=form.cleaned_data["scheduled_at"]
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("The broadcast is scheduled."))
            return redirect("messaging:broadcast_detail", pk=pk)
    return render(
        request,
        "messaging/broadcast_detail.html",
        _detail_context(request, broadcast, schedule_form=form),
        status=400,
    )


@login_required
def broadcast_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what cancelling would do. POST: cancel; messages already sent stay sent."""
    broadcast = selectors.broadcast_get_for_actor(actor=request.user, pk=pk)
    if not access.can(request.user, permissions.MESSAGING_SEND, broadcast.owner_unit):
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            result = services.broadcast_cancel(actor=request.user, broadcast=broadcast)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request,
                _(
                    "The broadcast is cancelled. %(withdrawn)s messages were withdrawn; "
                    "%(sent)s already sent stay sent."
                )
                % {"withdrawn": result.withdrawn, "sent": result.already_sent},
            )
            return redirect("messaging:broadcast_detail", pk=pk)
    counts = selectors.broadcast_state_counts(broadcast=broadcast)
    return render(
        request,
        "messaging/broadcast_cancel.html",
        {
            "broadcast": broadcast,
            "counts": counts,
            "unsent": counts.get("pending", 0) + counts.get("held", 0),
            "cancellable": broadcast.state in (Broadcast.State.SCHEDULED, Broadcast.State.QUEUED),
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    _require_any(request)
    texts = selectors.inbox_for_actor(actor=request.user)[:200]
    review_count = selectors.inbox_for_actor(actor=request.user, review=True).count()
    return render(request, "messaging/inbox.html", {"texts": texts, "review_count": review_count})


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    _require_any(request)
    texts = selectors.inbox_for_actor(actor=request.user, review=True)[:200]
    return render(request, "messaging/review.html", {"texts": texts})


@login_required
def inbound_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = selectors.inbound_get_for_actor(actor=request.user, pk=pk)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.inbound_reply(
                actor=request.user, message=message, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("Reply sent."))
            return redirect("messaging:inbound_detail", pk=pk)
    return render(
        request,
        "messaging/inbound_detail.html",
        {
            "message": message,
            "conversation": selectors.conversation(message=message),
            "form": form,
            "opted_out": message.kind == InboundMessage.Kind.OPT_OUT,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def review_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    message = selectors.inbound_get_for_actor(actor=request.user, pk=pk)
    try:
        services.inbound_review_resolve(
            actor=request.user, message=message, opt_out=request.POST.get("decision") == "opt_out"
        )
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, _("Decision saved."))
    return redirect("messaging:review_queue")


# --------------------------------------------------------------------------- public


@csrf_exempt
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a confirmation page in the message's language. POST: unsubscribe (the one-click
    POST of RFC 8058 from a mail client, or the button on the page). No sign-in."""
    data = services.unsubscribe_token_read(token)
    language = str(data.get("l", "en")) if data else "en"
    if language not in ("en", "es"):
        language = "en"
    with translation.override(language):
        if data is None:
            return render(request, "messaging/unsubscribe.html", {"invalid": True}, status=404)
        if request.method == "POST":
            with audit_source(AuditEvent.Source.PAGE):
                services.email_unsubscribe(token=token)
            return render(request, "messaging/unsubscribe.html", {"done": True})
        return render(request, "messaging/unsubscribe.html", {"token": token})


def _twilio_valid(request: HttpRequest) -> bool:
    from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

    token = str(conf.get("TWILIO_AUTH_TOKEN"))
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = str(conf.get("LEAVEN_PUBLIC_URL")).rstrip("/") + request.get_full_path()
    params = {key: request.POST.get(key, "") for key in request.POST}
    return bool(RequestValidator(token).validate(url, params, signature))


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    """Twilio posts incoming texts here. Answered at once with empty TwiML: replies go
    through the outbox."""
    if not _twilio_valid(request):
        return HttpResponse(status=403)
    sid = request.POST.get("MessageSid", "")
    sender = request.POST.get("From", "")
    if not sid or not sender:
        return HttpResponse(status=400)
    with audit_source(AuditEvent.Source.API):
        services.inbound_receive(
            message_sid=sid, from_number=sender, body=request.POST.get("Body", "")
        )
    return HttpResponse(TWIML_EMPTY, content_type="text/xml")


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Twilio's delivery status callbacks. A replay is applied once."""
    if not _twilio_valid(request):
        return HttpResponse(status=403)
    sid = request.POST.get("MessageSid", "")
    status = request.POST.get("MessageStatus", "")
    if not sid or not status:
        return HttpResponse(status=400)
    with audit_source(AuditEvent.Source.API):
        services.delivery_status_apply(
            provider_id=sid, status=status, error_code=request.POST.get("ErrorCode", "")
        )
    return HttpResponse(status=204)

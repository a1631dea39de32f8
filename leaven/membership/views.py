"""Pages for membership and dues. Thin: parse the form, call a selector or a service,
render."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from leaven.core import access, permissions
from leaven.core.audit import audit_record
from leaven.core.forms import form_add_errors, unit_choices
from leaven.core.http import client_address
from leaven.core.selectors import unit_get_for_actor, unit_list_for_actor

from . import selectors, services
from .forms import (
    MAX_FILL_SECONDS,
    MIN_FILL_SECONDS,
    STARTED_SALT,
    CashPaymentForm,
    GoalForm,
    JoinForm,
    MemberFilterForm,
    ReverseForm,
    SelfServiceContactForm,
    SelfServiceTierForm,
    StatusForm,
    TierForm,
    WaiverForm,
    started_token,
)
from .models import Method, PayWith, Status

JOIN_RATE_LIMIT = 10
JOIN_RATE_WINDOW = 3600
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------
# Public: the join page, the payment webhook, the member's own page


def _rate_limited(request: HttpRequest) -> bool:
    address = client_address(request)
    key = "membership-join:" + hashlib.sha256(address.encode()).hexdigest()[:24]
    cache.add(key, 0, JOIN_RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, JOIN_RATE_WINDOW)
        count = 1
    return count > JOIN_RATE_LIMIT


def _spam_error(form: JoinForm) -> str:
    """Why the form looks automated, or '' when it looks like a person filled it in."""
    if form.data.get("website"):
        return _("We could not accept this form.")
    try:
        started = signing.loads(
            form.data.get("started", ""), salt=STARTED_SALT, max_age=MAX_FILL_SECONDS
        )
    except signing.BadSignature:
        return _("This form is too old. Please check your answers and send it again.")
    if time.time() - int(started) < MIN_FILL_SECONDS:
        return _("That was very fast. Please check your answers and send the form again.")
    return ""


def join(request: HttpRequest, slug: str) -> HttpResponse:
    """The public join page of an organization or committee."""
    unit, tiers = selectors.join_page_unit(slug=slug)
    card = bool(settings.LEAVEN_STRIPE_PAYMENT_LINK)
    language = (get_language() or "en")[:2]
    status = 200
    if request.method == "POST":
        form = JoinForm(request.POST, tiers=tiers, card=card)
        spam = _spam_error(form)
        if _rate_limited(request):
            form.is_valid()
            form.add_error(None, _("Too many sign-ups from this connection. Try again later."))
            status = 429
        elif spam:
            form.is_valid()
            form.add_error(None, spam)
            status = 400
        elif form.is_valid():
            data = form.cleaned_data
            try:
                membership = services.membership_join(
                    unit=unit,
                    data=services.JoinInput(
                        given_name=data["given_name"],
                        family_name=data["family_name"],
                        email=data["email"],
                        phone=data["phone"],
                        language=data["language"],
                        tier_id=data["tier"],
                        amount_cents=data["amount"],
                        pay_with=data["pay_with"],
                        sms_consent=data["sms_consent"],
                        email_consent=data["email_consent"],
                    ),
                    today=timezone.localdate(),
                )
            except ValidationError as exc:
                form_add_errors(form, exc)
            else:
                request.session["membership_joined"] = {
                    "pay_with": data["pay_with"],
                    "reference": membership.reference,
                }
                return redirect("membership:join_thanks", slug=unit.slug)
        # Keep every answer, but restart the clock for the next try.
        again = request.POST.copy()
        again["started"] = started_token()
        again["website"] = ""
        form.data = again
    else:
        form = JoinForm(
            initial={"started": started_token(), "language": language}, tiers=tiers, card=card
        )
    return render(
        request,
        "membership/join.html",
        {"unit": unit, "form": form, "tiers": tiers},
        status=status,
    )


def join_thanks(request: HttpRequest, slug: str) -> HttpResponse:
    unit, _tiers = selectors.join_page_unit(slug=slug)
    joined = request.session.get("membership_joined") or {}
    pay_link = ""
    if joined.get("pay_with") == PayWith.CARD and settings.LEAVEN_STRIPE_PAYMENT_LINK:
        pay_link = (
            f"{settings.LEAVEN_STRIPE_PAYMENT_LINK}?"
            f"{urlencode({'client_reference_id': joined.get('reference', '')})}"
        )
    return render(
        request,
        "membership/join_thanks.html",
        {"unit": unit, "pay_with": joined.get("pay_with", ""), "pay_link": pay_link},
    )


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        outcome = services.stripe_webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except services.WebhookRejected:
        return HttpResponse("invalid signature", status=400, content_type="text/plain")
    return HttpResponse(outcome, content_type="text/plain")


@require_http_methods(["GET", "POST"])
def self_service(request: HttpRequest, token: str) -> HttpResponse:
    """The member's own page, reached by a signed link."""
    membership = services.self_service_membership(token=token)
    tiers = services.tiers_for_unit(unit=membership.owner_unit)
    if membership.tier not in tiers:
        tiers = [membership.tier, *tiers]
    tier_form = SelfServiceTierForm(
        initial={
            "tier": membership.tier_id,
            "amount": f"{membership.amount_cents / 100:.2f}"
            if membership.tier.sliding_min_cents is not None
            else "",
            "language": membership.person.language
            if membership.person.language in ("en", "es")
            else "en",
        },
        tiers=tiers,
    )
    contact_form = SelfServiceContactForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "tier":
                tier_form = SelfServiceTierForm(request.POST, tiers=tiers)
                if tier_form.is_valid():
                    tier = next(t for t in tiers if t.pk == tier_form.cleaned_data["tier"])
                    services.membership_self_update(
                        membership=membership,
                        tier=tier,
                        amount_cents=tier_form.cleaned_data["amount"],
                        language=tier_form.cleaned_data["language"],
                    )
                    messages.success(request, _("Your changes are saved."))
                    return redirect("membership:self_service", token=token)
            elif action == "contact":
                contact_form = SelfServiceContactForm(request.POST)
                if contact_form.is_valid():
                    services.membership_self_contact(
                        membership=membership,
                        email=contact_form.cleaned_data["email"],
                        phone=contact_form.cleaned_data["phone"],
                        sms_consent=contact_form.cleaned_data["sms_consent"],
                        email_consent=contact_form.cleaned_data["email_consent"],
                    )
                    messages.success(request, _("Your contact details are saved."))
                    return redirect("membership:self_service", token=token)
            elif action == "cancel" and request.POST.get("confirm") == "yes":
                services.membership_self_cancel(membership=membership, today=timezone.localdate())
                messages.success(request, _("Your membership is cancelled. Thank you."))
                return redirect("membership:self_service", token=token)
        except ValidationError as exc:
            form_add_errors(contact_form if action == "contact" else tier_form, exc)
    return render(
        request,
        "membership/self_service.html",
        {
            "membership": membership,
            "payments": selectors.membership_payments(membership=membership),
            "tier_form": tier_form,
            "contact_form": contact_form,
            "token": token,
        },
    )


# ---------------------------------------------------------------------------------------
# Organizers


@login_required
def member_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.can_anywhere(user, permissions.MEMBERSHIP_VIEW):
        raise Http404
    tiers = [(t.pk, f"{t.name} · {t.owner_unit.name}") for t in selectors.tiers_visible(actor=user)]
    form = MemberFilterForm(
        request.GET or None,
        tiers=tiers,
        units=unit_choices(user, permissions.MEMBERSHIP_VIEW),
    )
    filters = selectors.MemberFilters()
    if form.is_bound and form.is_valid():
        filters = selectors.MemberFilters(
            status=form.cleaned_data["status"],
            tier=form.cleaned_data["tier"],
            unit=form.cleaned_data["unit"],
        )
    page = Paginator(selectors.membership_list(actor=user, filters=filters), 50).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "membership/member_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_report": access.can_anywhere(user, permissions.MEMBERSHIP_REPORT),
            "can_manage": access.can_anywhere(user, permissions.MEMBERSHIP_MANAGE),
        },
    )


@login_required
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    membership = selectors.membership_get_for_actor(actor=user, pk=pk)
    can_manage = access.can(user, permissions.MEMBERSHIP_MANAGE, membership.owner_unit)
    return render(
        request,
        "membership/member_detail.html",
        {
            "membership": membership,
            "history": selectors.membership_history(membership=membership),
            "payments": selectors.membership_payments(membership=membership),
            "can_manage": can_manage,
            "can_cash": access.can(user, permissions.MEMBERSHIP_RECORD_CASH, membership.owner_unit),
            "status_form": StatusForm(),
            "waiver_form": WaiverForm(
                initial={"review_on": timezone.localdate() + dt.timedelta(days=180)}
            ),
            "reverse_form": ReverseForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def payment_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record dues from a phone: the amount is filled in, the date is today, the receipt
    number is made up."""
    user = request.user
    membership = selectors.membership_get_for_actor(
        actor=user, pk=pk, permission=permissions.MEMBERSHIP_RECORD_CASH
    )
    methods = (
        list(Method.values)
        if access.can(user, permissions.MEMBERSHIP_MANAGE, membership.owner_unit)
        else [Method.CASH.value]
    )
    form = CashPaymentForm(
        request.POST or None,
        methods=methods,
        initial={
            "amount": f"{membership.amount_cents / 100:.2f}" if membership.amount_cents else "",
            "paid_on": timezone.localdate(),
            "method": Method.CASH,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.payment_record(
                actor=user,
                membership=membership,
                amount_cents=data["amount"] or 0,
                paid_on=data["paid_on"],
                method=data["method"],
                receipt_number=data["receipt_number"],
                note=data["note"],
                today=timezone.localdate(),
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(
                request,
                _("Recorded %(amount)s. Receipt number %(receipt)s.")
                % {
                    "amount": services.money(payment.amount_cents, payment.currency),
                    "receipt": payment.receipt_number or "—",
                },
            )
            return redirect("membership:member_detail", pk=membership.pk)
    return render(request, "membership/payment_form.html", {"membership": membership, "form": form})


@login_required
@require_POST
def status_change(request: HttpRequest, pk: int) -> HttpResponse:
    membership = selectors.membership_get_for_actor(
        actor=request.user, pk=pk, permission=permissions.MEMBERSHIP_MANAGE
    )
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.membership_set_status(
                actor=request.user,
                membership=membership,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                today=timezone.localdate(),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Status changed."))
    else:
        messages.error(request, _("Choose a status and give a reason."))
    return redirect("membership:member_detail", pk=membership.pk)


@login_required
@require_POST
def waiver_approve(request: HttpRequest, pk: int) -> HttpResponse:
    membership = selectors.membership_get_for_actor(
        actor=request.user, pk=pk, permission=permissions.MEMBERSHIP_MANAGE
    )
    form = WaiverForm(request.POST)
    if form.is_valid():
        try:
            services.membership_waive(
                actor=request.user,
                membership=membership,
                review_on=form.cleaned_data["review_on"],
                reason=form.cleaned_data["reason"],
                today=timezone.localdate(),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Hardship waiver approved."))
    else:
        messages.error(request, _("Enter a review date."))
    return redirect("membership:member_detail", pk=membership.pk)


@login_required
@require_POST
def payment_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    payment = selectors.payment_get_for_actor(actor=request.user, pk=pk)
    form = ReverseForm(request.POST)
    if form.is_valid():
        try:
            services.payment_reverse(
                actor=request.user,
                payment=payment,
                reason=form.cleaned_data["reason"],
                today=timezone.localdate(),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Payment reversed with a correcting entry."))
    else:
        messages.error(request, _("Say why the payment is reversed."))
    return redirect("membership:member_detail", pk=payment.membership_id)


@login_required
@require_POST
def link_send(request: HttpRequest, pk: int) -> HttpResponse:
    membership = selectors.membership_get_for_actor(actor=request.user, pk=pk)
    services.self_service_link_queue(
        actor=request.user, membership=membership, today=timezone.localdate()
    )
    messages.success(request, _("The member's link will be sent within the hour."))
    return redirect("membership:member_detail", pk=membership.pk)


@login_required
@require_http_methods(["GET", "POST"])
def tier_list(request: HttpRequest, slug: str) -> HttpResponse:
    unit = unit_get_for_actor(
        actor=request.user, slug=slug, permission=permissions.MEMBERSHIP_MANAGE
    )
    form = TierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.tier_create(
                actor=request.user,
                owner_unit=unit,
                name_en=data["name_en"],
                name_es=data["name_es"],
                amount_cents=data["amount"] or 0,
                interval=data["interval"],
                sliding_min_cents=data["sliding_min"],
                benefits_en=data["benefits_en"],
                benefits_es=data["benefits_es"],
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Tier added."))
            return redirect("membership:tier_list", slug=unit.slug)
    return render(
        request,
        "membership/tier_list.html",
        {
            "unit": unit,
            "tiers": services.tiers_for_unit(unit=unit),
            "form": form,
            "join_url": request.build_absolute_uri(reverse("membership:join", args=[unit.slug])),
        },
    )


def _safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _report_unit(request: HttpRequest) -> Any:
    units = list(unit_list_for_actor(actor=request.user, permission=permissions.MEMBERSHIP_REPORT))
    if not units:
        raise Http404
    slug = request.GET.get("unit")
    if slug:
        return unit_get_for_actor(
            actor=request.user, slug=slug, permission=permissions.MEMBERSHIP_REPORT
        ), units
    return units[0], units


@login_required
def dues_report(request: HttpRequest) -> HttpResponse:
    unit, units = _report_unit(request)
    today = timezone.localdate()
    start = services.add_months(today.replace(day=1), -11)
    rows = selectors.dues_report(actor=request.user, unit=unit, start=start, end=today)
    labels = dict(Method.choices)
    if request.GET.get("format") == "csv":
        audit_record(
            actor=request.user,
            verb="membership.dues_exported",
            obj=unit,
            unit=unit,
            detail={"rows": len(rows), "start": start.isoformat(), "end": today.isoformat()},
        )
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [_("Unit"), _("Month"), _("Method"), _("Payments"), _("Total"), _("Currency")]
        )
        for row in rows:
            writer.writerow(
                [
                    _safe_cell(unit.name),
                    _safe_cell(row.month),
                    _safe_cell(labels.get(row.method, row.method)),
                    row.count,
                    _safe_cell(f"{row.total_cents / 100:.2f}"),
                    _safe_cell(row.currency),
                ]
            )
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="dues-{unit.slug}-{today}.csv"'
        return response
    months: dict[str, dict[str, int]] = {}
    for row in rows:
        months.setdefault(row.month, {})[row.method] = row.total_cents
    table = [
        (month, [by_method.get(m, 0) for m in Method.values], sum(by_method.values()))
        for month, by_method in sorted(months.items(), reverse=True)
    ]
    return render(
        request,
        "membership/dues_report.html",
        {
            "unit": unit,
            "units": units,
            "table": table,
            "methods": Method.choices,
            "total": sum(r.total_cents for r in rows),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def growth(request: HttpRequest) -> HttpResponse:
    unit, units = _report_unit(request)
    today = timezone.localdate()
    goal_form = GoalForm(request.POST or None)
    if request.method == "POST" and goal_form.is_valid():
        try:
            services.goal_set(
                actor=request.user,
                unit=unit,
                target_count=goal_form.cleaned_data["target_count"],
                target_date=goal_form.cleaned_data["target_date"],
                today=today,
            )
        except ValidationError as exc:
            form_add_errors(goal_form, exc)
        else:
            messages.success(request, _("Goal saved."))
            return redirect(f"{reverse('membership:growth')}?unit={unit.slug}")
    figures = selectors.growth(actor=request.user, unit=unit, today=today)
    return render(
        request,
        "membership/growth.html",
        {
            "unit": unit,
            "units": units,
            "growth": figures,
            "chart": selectors.growth_chart(figures),
            "goal_form": goal_form,
            "can_manage": access.can(request.user, permissions.MEMBERSHIP_MANAGE, unit),
            "status_labels": dict(Status.choices),
        },
    )

"""The settings page where an admin creates and revokes API keys and webhooks."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leaven.api import selectors, services
from leaven.api.forms import ApiKeyForm, WebhookForm
from leaven.core import permissions
from leaven.core.forms import form_add_errors, unit_choices
from leaven.core.http import user_with_permission
from leaven.core.selectors import unit_get_by_id_for_actor


@login_required
def key_list(request: HttpRequest) -> HttpResponse:
    user = user_with_permission(request, permissions.API_MANAGE)
    units = unit_choices(user, permissions.API_MANAGE)
    key_form = ApiKeyForm(units=units, prefix="key")
    hook_form = WebhookForm(units=units, prefix="hook")
    new_token = ""
    if request.method == "POST" and request.POST.get("form") == "key":
        key_form = ApiKeyForm(request.POST, units=units, prefix="key")
        if key_form.is_valid():
            unit = unit_get_by_id_for_actor(
                actor=user, pk=key_form.cleaned_data["unit"], permission=permissions.API_MANAGE
            )
            try:
                _key, new_token = services.apikey_create(
                    actor=user, unit=unit, name=key_form.cleaned_data["name"]
                )
            except ValidationError as exc:
                form_add_errors(key_form, exc)
            else:
                key_form = ApiKeyForm(units=units, prefix="key")
    elif request.method == "POST" and request.POST.get("form") == "hook":
        hook_form = WebhookForm(request.POST, units=units, prefix="hook")
        if hook_form.is_valid():
            unit = unit_get_by_id_for_actor(
                actor=user, pk=hook_form.cleaned_data["unit"], permission=permissions.API_MANAGE
            )
            try:
                services.webhook_create(
                    actor=user,
                    unit=unit,
                    url=hook_form.cleaned_data["url"],
                    topics=hook_form.cleaned_data["topics"],
                    api_base=request.build_absolute_uri("/api/v2"),
                )
            except ValidationError as exc:
                form_add_errors(hook_form, exc)
            else:
                messages.success(request, _("Webhook added."))
                return redirect("api:key_list")
    return render(
        request,
        "api/key_list.html",
        {
            "keys": selectors.apikeys_for_actor(actor=user),
            "webhooks": selectors.webhooks_for_actor(actor=user),
            "key_form": key_form,
            "hook_form": hook_form,
            "new_token": new_token,
            "base_url": request.build_absolute_uri("/api/v2"),
        },
        status=400 if request.method == "POST" and not new_token else 200,
    )


@login_required
@require_POST
def key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = selectors.apikey_get_for_actor(actor=request.user, pk=pk)
    services.apikey_revoke(actor=request.user, key=key)
    messages.success(request, _("The key was revoked; it no longer works."))
    return redirect("api:key_list")


@login_required
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    hook = selectors.webhook_get_for_actor(actor=request.user, pk=pk)
    return render(
        request,
        "api/webhook_detail.html",
        {
            "hook": hook,
            "deliveries": selectors.deliveries_for_webhook(actor=request.user, webhook=hook),
        },
    )


@login_required
@require_POST
def webhook_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    hook = selectors.webhook_get_for_actor(actor=request.user, pk=pk)
    services.webhook_set_active(actor=request.user, webhook=hook, active=not hook.is_active)
    return redirect("api:webhook_detail", pk=hook.pk)

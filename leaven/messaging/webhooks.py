"""Email providers' tracking reports (bounces, complaints, unsubscribes) through anymail's
webhook views. anymail checks each request (HTTP basic auth with ANYMAIL's WEBHOOK_SECRET,
and the provider's own signature where it has one) and normalizes the report; this receiver
hands it to the service. Nothing personal is logged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt

from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent


def on_tracking(sender: Any, event: Any, esp_name: str, **_kwargs: Any) -> None:
    from leaven.messaging import services

    with audit_source(AuditEvent.Source.API):
        services.email_provider_event(
            esp=str(esp_name).lower(),
            event_id=str(event.event_id or ""),
            event_type=str(event.event_type or ""),
            recipient=str(event.recipient or ""),
            message_id=str(event.message_id or ""),
        )


def connect() -> None:
    from anymail.signals import tracking  # type: ignore[import-untyped]

    tracking.connect(on_tracking, dispatch_uid="leaven.messaging.tracking")


def _open_only_when_configured(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """The tracking endpoints answer only when email goes through anymail and a webhook
    secret is set: anymail itself would accept an unauthenticated report with a warning,
    and a forged complaint unsubscribes an address."""

    @csrf_exempt
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from leaven.messaging import conf

        secret = (getattr(settings, "ANYMAIL", None) or {}).get("WEBHOOK_SECRET")
        if conf.get("LEAVEN_EMAIL_TRANSPORT") != "anymail" or not secret:
            raise Http404
        return view(request, *args, **kwargs)

    return guarded


def tracking_urls() -> list[URLPattern]:
    """/m/anymail/<provider>/tracking/ for the providers whose reports need nothing beyond
    anymail itself."""
    from anymail.webhooks.brevo import BrevoTrackingWebhookView  # type: ignore[import-untyped]
    from anymail.webhooks.mailgun import (  # type: ignore[import-untyped]
        MailgunTrackingWebhookView,
    )
    from anymail.webhooks.mailjet import (  # type: ignore[import-untyped]
        MailjetTrackingWebhookView,
    )
    from anymail.webhooks.postmark import (  # type: ignore[import-untyped]
        PostmarkTrackingWebhookView,
    )
    from anymail.webhooks.sendgrid import (  # type: ignore[import-untyped]
        SendGridTrackingWebhookView,
    )
    from anymail.webhooks.sparkpost import (  # type: ignore[import-untyped]
        SparkPostTrackingWebhookView,
    )

    views = {
        "brevo": BrevoTrackingWebhookView,
        "mailgun": MailgunTrackingWebhookView,
        "mailjet": MailjetTrackingWebhookView,
        "postmark": PostmarkTrackingWebhookView,
        "sendgrid": SendGridTrackingWebhookView,
        "sparkpost": SparkPostTrackingWebhookView,
    }
    return [
        path(
            f"m/anymail/{name}/tracking/",
            _open_only_when_configured(view.as_view()),
            name=f"anymail_{name}_tracking",
        )
        for name, view in views.items()
    ]

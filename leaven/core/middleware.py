from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from leaven.core import access
from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent
from leaven.core.permissions import MFA_EXEMPT_ROLES

Handler = Callable[[HttpRequest], HttpResponse]


class AuditSourceMiddleware:
    """Audit events written while serving a page are marked as coming from a page."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit_source(AuditEvent.Source.PAGE):
            return self.get_response(request)


def needs_mfa(user: object) -> bool:
    """Every role above viewer, and every operator, must sign in with a second factor."""
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    return any(role not in MFA_EXEMPT_ROLES for role, _path, _unit in access.roles_of(user))  # type: ignore[arg-type]


def has_mfa(user: object) -> bool:
    found: bool = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    return found


class RequireMFAMiddleware:
    """Send a user who needs a second factor and has none to set one up before anything else."""

    ALLOWED_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/healthz")

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(self.ALLOWED_PREFIXES)
            and needs_mfa(user)
            and not has_mfa(user)
        ):
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path

from leaven.api import views
from leaven.api.api import api
from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent

app_name = "api"


def _from_api(view: Any) -> Any:
    """Audit events written while serving the API are marked as coming from the API."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with audit_source(AuditEvent.Source.API):
            response: HttpResponse = view(request, *args, **kwargs)
            return response

    return wrapped


def _api_patterns() -> list[URLPattern | URLResolver]:
    """Every API route, answering with and without a trailing slash."""
    patterns: list[URLPattern | URLResolver] = []
    for pattern in api.urls[0]:
        if not isinstance(pattern, URLPattern):
            patterns.append(pattern)
            continue
        route = str(pattern.pattern)
        callback = _from_api(pattern.callback)
        if pattern.name:
            patterns.append(path(route, callback, name=pattern.name))
        else:
            patterns.append(path(route, callback))
        if route and not route.endswith("/"):
            patterns.append(path(route + "/", callback))
    return patterns


_patterns = _api_patterns()
_entry = next(p for p in _patterns if isinstance(p, URLPattern) and str(p.pattern) == "")

urlpatterns = [
    path("settings/api/", views.key_list, name="key_list"),
    path("settings/api/keys/<int:pk>/revoke/", views.key_revoke, name="key_revoke"),
    path("settings/api/webhooks/<int:pk>/", views.webhook_detail, name="webhook_detail"),
    path("settings/api/webhooks/<int:pk>/toggle/", views.webhook_toggle, name="webhook_toggle"),
    path("api/v2", _entry.callback),
    path("api/v2/", include((_patterns, "osdi"))),
]

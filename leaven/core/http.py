"""Small helpers about the HTTP request."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest

from leaven.core import access
from leaven.core.models import User


def client_address(request: HttpRequest) -> str:
    """The address a request came from, for rate limits. Behind a reverse proxy
    (LEAVEN_BEHIND_PROXY) every request arrives from the proxy, so the address is the last
    hop of X-Forwarded-For, which that proxy appended; earlier hops are the client's own
    claims and are ignored."""
    if getattr(settings, "LEAVEN_BEHIND_PROXY", False):
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return str(request.META.get("REMOTE_ADDR", ""))


def signed_in_user(request: HttpRequest) -> User:
    """The signed-in user of a page about one record, whose scoped selector decides (and
    audits a denial); 404 for anyone not signed in as a user."""
    user = request.user
    if not isinstance(user, User):
        raise Http404
    return user


def user_with_permission(request: HttpRequest, permission: str) -> User:
    """The signed-in user of a page that needs `permission` on some unit (a list, a form);
    404, as for a page that does not exist, for anyone else."""
    user = signed_in_user(request)
    if not access.can_anywhere(user, permission):
        raise Http404
    return user

"""Small helpers about the HTTP request."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


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

"""The client's address for rate limits, directly and behind a reverse proxy."""

from __future__ import annotations

from django.test import RequestFactory

from leaven.core.http import client_address


def test_direct_connection_uses_the_peer_address(settings):
    """Without a proxy, a forwarded header is the client's own claim and is ignored."""
    settings.LEAVEN_BEHIND_PROXY = False
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_address(request) == "203.0.113.9"


def test_behind_a_proxy_the_last_forwarded_hop_counts(settings):
    """Behind the proxy, the hop it appended is the client; a forged first hop is ignored."""
    settings.LEAVEN_BEHIND_PROXY = True
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7"
    )
    assert client_address(request) == "198.51.100.7"
    assert client_address(RequestFactory().get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"

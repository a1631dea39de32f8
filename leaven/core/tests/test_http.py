"""The client's address for rate limits, directly and behind a reverse proxy."""

from __future__ import annotations

import pytest
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


@pytest.mark.django_db
def test_page_gates_answer_404_to_anyone_without_the_permission(coordinator):
    """A signed-in user passes the record gate; the permission gate also needs the
    permission somewhere; an anonymous visitor gets 404 from both."""
    from django.contrib.auth.models import AnonymousUser
    from django.http import Http404

    from leaven.core import permissions
    from leaven.core.http import signed_in_user, user_with_permission

    request = RequestFactory().get("/")
    request.user = coordinator
    assert signed_in_user(request) == coordinator
    assert user_with_permission(request, permissions.CANVASS_MANAGE) == coordinator
    with pytest.raises(Http404):
        user_with_permission(request, permissions.API_MANAGE)
    request.user = AnonymousUser()
    with pytest.raises(Http404):
        signed_in_user(request)

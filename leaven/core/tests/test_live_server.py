"""The live server that the browser and API tests drive answers several requests at once,
each on a connection of its own. A request that meets another connection's unfinished write
is answered as on a production database (on SQLite it waits for the write to commit), never
refused with "database table is locked", as SQLite's shared in-memory database does."""

from __future__ import annotations

import threading
import urllib.request

from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone


def test_a_request_during_a_write_in_progress_is_answered(live_server, viewer):
    """The test holds a write on the session table open for a second; a signed-in page
    asked for meanwhile (it saves its session on every request) is answered normally."""
    from django.contrib.sessions.models import Session

    client = Client()
    client.force_login(viewer, backend="django.contrib.auth.backends.ModelBackend")
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    def get() -> int | str:
        request = urllib.request.Request(  # noqa: S310 - the test server
            live_server.url + "/", headers={"Cookie": cookie}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return int(response.status)
        except Exception as error:  # noqa: BLE001 - the answer is what the test checks
            return repr(error)

    # A first request loads the templates and URLs, so the next one reaches the database
    # quickly.
    assert get() == 200
    answers: list[int | str] = []
    with transaction.atomic():
        Session.objects.create(
            session_key="held-by-the-test", session_data="", expire_date=timezone.now()
        )
        waiting = threading.Thread(target=lambda: answers.append(get()))
        waiting.start()
        waiting.join(1)
    waiting.join(30)
    assert answers == [200]

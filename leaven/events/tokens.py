"""Signed links: each token holds one id and nothing else, signed with its own salt."""

from __future__ import annotations

from django.core import signing

CANCEL = "events.rsvp.cancel"
LEADER = "events.quota.leader"
UNIT_FEED = "events.feed.unit"
PERSON_FEED = "events.feed.person"
FORM_STARTED = "events.form.started"


def make(salt: str, pk: int) -> str:
    return signing.dumps(pk, salt=salt, compress=False)


def read(salt: str, token: str) -> int | None:
    """The id in a token made with this salt, or None for anything else."""
    try:
        value = signing.loads(token, salt=salt)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None

"""Signed links: each token holds one id (a leader's link: the quota's id and the version of
its link) and nothing else, signed with its own salt."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core import signing

if TYPE_CHECKING:
    from leaven.events.models import Quota

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


def leader(quota: Quota) -> str:
    """The signed link of a group's leader, for the link's current version."""
    return signing.dumps([quota.pk, quota.link_version], salt=LEADER, compress=False)


def read_leader(token: str) -> tuple[int, int] | None:
    """(quota id, link version) from a leader's token, or None for anything else."""
    try:
        value = signing.loads(token, salt=LEADER)
    except signing.BadSignature:
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return value[0], value[1]
    return None

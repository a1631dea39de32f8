"""Reads for messaging, always scoped to the actor: what the actor may not see is a 404."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from leaven.core import access, permissions
from leaven.core.selectors import deny
from leaven.messaging.models import Broadcast, InboundMessage, OutboxMessage, Segment
from leaven.people.models import Person


def _unit_ids(actor: Any, permission: str = permissions.MESSAGING_VIEW) -> frozenset[int]:
    return access.unit_ids_in_scope(actor, permission)


def segment_list_for_actor(*, actor: Any) -> QuerySet[Segment]:
    return Segment.objects.filter(owner_unit_id__in=_unit_ids(actor)).select_related("owner_unit")


def segment_get_for_actor(*, actor: Any, pk: int) -> Segment:
    segment = Segment.objects.filter(pk=pk).select_related("owner_unit").first()
    if segment is None:
        raise deny(actor=actor, obj_type="segment", obj_id=pk)
    if segment.owner_unit_id not in _unit_ids(actor):
        raise deny(actor=actor, obj_type="segment", obj_id=pk, unit=segment.owner_unit)
    return segment


def broadcast_list_for_actor(*, actor: Any) -> QuerySet[Broadcast]:
    return Broadcast.objects.filter(owner_unit_id__in=_unit_ids(actor)).select_related(
        "owner_unit", "segment"
    )


def broadcast_get_for_actor(*, actor: Any, pk: int) -> Broadcast:
    broadcast = Broadcast.objects.filter(pk=pk).select_related("owner_unit", "segment").first()
    if broadcast is None:
        raise deny(actor=actor, obj_type="broadcast", obj_id=pk)
    if broadcast.owner_unit_id not in _unit_ids(actor):
        raise deny(actor=actor, obj_type="broadcast", obj_id=pk, unit=broadcast.owner_unit)
    return broadcast


def broadcast_state_counts(*, broadcast: Broadcast) -> dict[str, int]:
    counts = {state: 0 for state in OutboxMessage.State.values}
    rows = (
        OutboxMessage.objects.filter(broadcast=broadcast)
        .values("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["state"]] = row["n"]
    return counts


def broadcast_dead_letters(*, broadcast: Broadcast, limit: int = 100) -> QuerySet[OutboxMessage]:
    """Messages that failed for good: shown to organizers (person, error code, attempts)."""
    return (
        OutboxMessage.objects.filter(broadcast=broadcast, state=OutboxMessage.State.FAILED)
        .select_related("person")
        .only("id", "person", "error_code", "attempts", "state", "broadcast")
        .order_by("id")[:limit]
    )


def inbox_for_actor(*, actor: Any, review: bool = False) -> QuerySet[InboundMessage]:
    qs = InboundMessage.objects.filter(owner_unit_id__in=_unit_ids(actor)).select_related(
        "person", "owner_unit"
    )
    if review:
        return qs.filter(review=InboundMessage.Review.OPEN)
    return qs.exclude(review=InboundMessage.Review.OPEN)


def inbound_get_for_actor(*, actor: Any, pk: int) -> InboundMessage:
    message = InboundMessage.objects.filter(pk=pk).select_related("person", "owner_unit").first()
    if message is None:
        raise deny(actor=actor, obj_type="inboundmessage", obj_id=pk)
    if message.owner_unit_id not in _unit_ids(actor):
        raise deny(actor=actor, obj_type="inboundmessage", obj_id=pk, unit=message.owner_unit)
    return message


def conversation(*, message: InboundMessage, limit: int = 50) -> list[tuple[str, Any]]:
    """The texts with this number, both ways, oldest first: ("in"|"out", record)."""
    incoming = list(
        InboundMessage.objects.filter(from_index=message.from_index).order_by("-received_at")[
            :limit
        ]
    )
    outgoing = list(
        OutboxMessage.objects.filter(
            destination_index=message.from_index, channel="sms", broadcast__isnull=True
        ).order_by("-created_at")[:limit]
    )
    items: list[tuple[Any, str, Any]] = [(m.received_at, "in", m) for m in incoming]
    items += [(m.created_at, "out", m) for m in outgoing]
    items.sort(key=lambda item: item[0])
    return [(direction, record) for _at, direction, record in items]


def person_texts(*, actor: Any, person: Person, limit: int = 20) -> QuerySet[InboundMessage]:
    """Texts a person sent, for their timeline, if the actor may see messaging there."""
    if not access.can(actor, permissions.MESSAGING_VIEW, person.owner_unit):
        return InboundMessage.objects.none()
    return InboundMessage.objects.filter(person=person).order_by("-received_at")[:limit]


def linkable_events_for_actor(*, actor: Any, limit: int = 200) -> list[Any]:
    """Public, not cancelled, upcoming events of the actor's units: the ones a broadcast's
    {event_link} may point to."""
    from datetime import timedelta

    from django.utils import timezone

    from leaven.events.models import Event

    unit_ids = access.unit_ids_in_scope(actor, permissions.EVENTS_VIEW)
    return list(
        Event.objects.filter(
            owner_unit_id__in=unit_ids,
            visibility=Event.Visibility.PUBLIC,
            ends_at__gte=timezone.now() - timedelta(days=1),
        )
        .exclude(status=Event.Status.CANCELLED)
        .select_related("owner_unit")
        .order_by("starts_at", "pk")[:limit]
    )


def segment_events_for_actor(*, actor: Any, days_back: int = 400, limit: int = 300) -> list[Any]:
    """Events of the actor's units from the last `days_back` days on, newest first: the ones
    segment conditions may name."""
    from datetime import timedelta

    from django.utils import timezone

    from leaven.events.models import Event

    unit_ids = access.unit_ids_in_scope(actor, permissions.EVENTS_VIEW)
    return list(
        Event.objects.filter(
            owner_unit_id__in=unit_ids,
            starts_at__gte=timezone.now() - timedelta(days=days_back),
        )
        .select_related("owner_unit")
        .order_by("-starts_at", "-pk")[:limit]
    )

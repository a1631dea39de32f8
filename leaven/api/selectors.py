"""Reads for the API, always scoped to the key's actor: a record outside the key's units is
a 404, the same as one that does not exist."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404

from leaven.api import odata
from leaven.api.models import ApiIdentifier, ApiKey, Webhook, WebhookDelivery
from leaven.api.services import token_hash
from leaven.core import access, permissions
from leaven.core.crypto import blind_index
from leaven.events import selectors as event_selectors
from leaven.events.models import RSVP, Event
from leaven.membership.models import DuesPayment
from leaven.messaging import selectors as messaging_selectors
from leaven.messaging.models import Broadcast, Segment
from leaven.people import normalize
from leaven.people import selectors as people_selectors
from leaven.people.models import Email, Person, PersonUnit, Phone, Tag, Tagging


def scope_ids(actor: Any, permission: str) -> frozenset[int]:
    """The units where the actor holds `permission`, asked once per request for a key."""
    remembered = getattr(actor, "scope", None)
    if not isinstance(remembered, dict):
        return access.unit_ids_in_scope(actor, permission)
    if permission not in remembered:
        remembered[permission] = access.unit_ids_in_scope(actor, permission)
    ids: frozenset[int] = remembered[permission]
    return ids


def _whole_tree(actor: Any) -> bool:
    """The key's unit is the only root: everyone in any unit is in its scope."""
    return bool(getattr(actor, "whole_tree", False))


def apikey_for_token(token: str) -> ApiKey | None:
    """The active key with this token, or None (unknown or revoked)."""
    if not token or len(token) > 200:
        return None
    return (
        ApiKey.objects.select_related("unit")
        .filter(token_hash=token_hash(token.strip()), revoked_at__isnull=True)
        .first()
    )


def object_pk(model: type[Model], identifier: str) -> int:
    """The primary key behind an Action Network id (a bare uuid or `action_network:<uuid>`);
    404 when there is none."""
    raw = identifier.rsplit(":", 1)[-1]
    try:
        uid = uuid.UUID(raw)
    except ValueError:
        raise Http404 from None
    ct = ContentType.objects.get_for_model(model)
    pk = (
        ApiIdentifier.objects.filter(content_type=ct, uuid=uid)
        .values_list("object_id", flat=True)
        .first()
    )
    if pk is None:
        raise Http404
    return int(pk)


# People ---------------------------------------------------------------------------------


def _email_q(value: str) -> Q:
    try:
        index = blind_index(normalize.email_normalize(value))
    except ValidationError:
        return Q(pk__in=[])
    return Q(Exists(Email.objects.filter(person_id=OuterRef("pk"), address_index=index)))


def _phone_q(value: str) -> Q:
    try:
        index = blind_index(normalize.phone_normalize(value))
    except ValidationError:
        return Q(pk__in=[])
    return Q(Exists(Phone.objects.filter(person_id=OuterRef("pk"), number_index=index)))


PERSON_FIELDS: dict[str, odata.FieldFilter] = {
    "modified_date": odata.date_field("modified_at"),
    "created_date": odata.date_field("created_at"),
    "given_name": odata.text_field("given_name"),
    "family_name": odata.text_field("family_name"),
    "email_address": odata.exact_field(_email_q),
    "email": odata.exact_field(_email_q),
    "phone_number": odata.exact_field(_phone_q),
    "phone": odata.exact_field(_phone_q),
}
DATED_FIELDS: dict[str, odata.FieldFilter] = {
    "modified_date": odata.date_field("created_at"),
    "created_date": odata.date_field("created_at"),
}
LIST_FIELDS: dict[str, odata.FieldFilter] = {
    "modified_date": odata.date_field("modified_at"),
    "created_date": odata.date_field("created_at"),
}
RSVP_FIELDS: dict[str, odata.FieldFilter] = {
    "modified_date": odata.date_field("modified_at"),
    "created_date": odata.date_field("created_at"),
}


def person_queryset(*, actor: Any, filter_text: str = "") -> QuerySet[Person]:
    """People the key may see, filtered; raises odata.FilterError on a bad filter. For a
    key of the only root unit, "belongs to a unit in scope" is "belongs to a unit", which
    needs no list of units."""
    if _whole_tree(actor):
        qs = Person.objects.filter(Exists(PersonUnit.objects.filter(person_id=OuterRef("pk"))))
    else:
        qs = people_selectors.person_queryset_for_actor(actor=actor)
    if filter_text:
        qs = qs.filter(odata.parse(filter_text, PERSON_FIELDS))
    return qs.select_related("household")


def person_get(*, actor: Any, identifier: str) -> Person:
    pk = object_pk(Person, identifier)
    return people_selectors.person_get_for_actor(actor=actor, pk=pk)


def person_ids_visible(*, actor: Any, ids: list[int]) -> list[int]:
    if not ids:
        return []
    return list(
        people_selectors.person_queryset_for_actor(actor=actor)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# Tags and taggings ----------------------------------------------------------------------


def tag_queryset(*, actor: Any, filter_text: str = "") -> QuerySet[Tag]:
    qs = people_selectors.tags_for_actor(actor=actor)
    if filter_text:
        qs = qs.filter(odata.parse(filter_text, DATED_FIELDS))
    return qs


def tag_get(*, actor: Any, identifier: str) -> Tag:
    return people_selectors.tag_get_for_actor(actor=actor, pk=object_pk(Tag, identifier))


def _visible_person_q(actor: Any, column: str = "person_id") -> Q:
    if _whole_tree(actor):
        return Q(Exists(PersonUnit.objects.filter(person_id=OuterRef(column))))
    unit_ids = scope_ids(actor, permissions.PEOPLE_VIEW)
    return Q(Exists(PersonUnit.objects.filter(person_id=OuterRef(column), unit_id__in=unit_ids)))


def taggings_for_tag(*, actor: Any, tag: Tag, filter_text: str = "") -> QuerySet[Tagging]:
    qs = Tagging.objects.filter(tag=tag).filter(_visible_person_q(actor))
    if filter_text:
        qs = qs.filter(odata.parse(filter_text, DATED_FIELDS))
    return qs


def taggings_for_person(*, actor: Any, person: Person, filter_text: str = "") -> QuerySet[Tagging]:
    visible_tags = people_selectors.tags_for_actor(actor=actor).values("pk")
    qs = Tagging.objects.filter(person=person, tag_id__in=visible_tags)
    if filter_text:
        qs = qs.filter(odata.parse(filter_text, DATED_FIELDS))
    return qs


def tagging_get(*, actor: Any, tag: Tag, identifier: str) -> Tagging:
    pk = object_pk(Tagging, identifier)
    tagging = taggings_for_tag(actor=actor, tag=tag).filter(pk=pk).first()
    if tagging is None:
        raise Http404
    return tagging


# Events and attendances -----------------------------------------------------------------


def event_queryset(*, actor: Any, filter_text: str = "") -> QuerySet[Event]:
    unit_ids = scope_ids(actor, permissions.EVENTS_VIEW)
    qs = Event.objects.filter(owner_unit_id__in=unit_ids)
    if filter_text:
        qs = qs.filter(odata.parse(filter_text, DATED_FIELDS))
    return qs


def event_get(*, actor: Any, identifier: str) -> Event:
    return event_selectors.event_get_for_actor(actor=actor, pk=object_pk(Event, identifier))


def attendances_for_event(*, actor: Any, event: Event, filter_text: str = "") -> QuerySet[RSVP]:
    access.require(actor, permissions.EVENTS_VIEW, event.owner_unit)
    qs = RSVP.objects.filter(event=event)
    if filter_text:
        qs = qs.filter(odata.parse(filter_text, RSVP_FIELDS))
    return qs


def attendances_for_person(*, actor: Any, person: Person, filter_text: str = "") -> QuerySet[RSVP]:
    unit_ids = scope_ids(actor, permissions.EVENTS_VIEW)
    qs = RSVP.objects.filter(person=person, event__owner_unit_id__in=unit_ids)
    if filter_text:
        qs = qs.filter(odata.parse(filter_text, RSVP_FIELDS))
    return qs


def attendance_get(*, actor: Any, event: Event, identifier: str) -> RSVP:
    pk = object_pk(RSVP, identifier)
    rsvp = attendances_for_event(actor=actor, event=event).filter(pk=pk).first()
    if rsvp is None:
        raise Http404
    return rsvp


# The record a replayed answer shows ------------------------------------------------------


ANSWERED_KINDS = ("person", "tag", "tagging", "event", "attendance")


def answered_record(
    *, actor: Any, kind: str, pk: int | None
) -> Person | Tag | Tagging | Event | RSVP:
    """The record a stored answer points at (`kind` and `pk`), read now through the same
    scoped reads as a fresh request: 404 when it is gone or the key may no longer see it."""
    if pk is None or kind not in ANSWERED_KINDS:
        raise Http404
    if kind == "person":
        return people_selectors.person_get_for_actor(actor=actor, pk=pk)
    if kind == "tag":
        return people_selectors.tag_get_for_actor(actor=actor, pk=pk)
    if kind == "event":
        return event_selectors.event_get_for_actor(actor=actor, pk=pk)
    found: Tagging | RSVP | None
    if kind == "tagging":
        tag_id = Tagging.objects.filter(pk=pk).values_list("tag_id", flat=True).first()
        if tag_id is None:
            raise Http404
        tag = people_selectors.tag_get_for_actor(actor=actor, pk=tag_id)
        found = taggings_for_tag(actor=actor, tag=tag).filter(pk=pk).first()
    else:
        event_id = RSVP.objects.filter(pk=pk).values_list("event_id", flat=True).first()
        if event_id is None:
            raise Http404
        event = event_selectors.event_get_for_actor(actor=actor, pk=event_id)
        found = attendances_for_event(actor=actor, event=event).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


# Messages, donations, lists and items ---------------------------------------------------


def message_queryset(*, actor: Any, filter_text: str = "") -> QuerySet[Broadcast]:
    """Broadcasts of the key's units, as Action Network messages."""
    qs = messaging_selectors.broadcast_list_for_actor(actor=actor)
    if filter_text:
        qs = qs.filter(odata.parse(filter_text, DATED_FIELDS))
    return qs


def message_get(*, actor: Any, identifier: str) -> Broadcast:
    pk = object_pk(Broadcast, identifier)
    return messaging_selectors.broadcast_get_for_actor(actor=actor, pk=pk)


def donation_queryset(
    *, actor: Any, person: Person | None = None, filter_text: str = ""
) -> QuerySet[DuesPayment]:
    """Dues payments of memberships in the key's units (reversing entries left out: they
    show as the original payment being voided)."""
    unit_ids = scope_ids(actor, permissions.MEMBERSHIP_MANAGE)
    qs = DuesPayment.objects.filter(
        membership__owner_unit_id__in=unit_ids, reverses__isnull=True
    ).select_related("membership__tier", "membership__owner_unit")
    if person is not None:
        qs = qs.filter(membership__person=person)
    if filter_text:
        qs = qs.filter(odata.parse(filter_text, DATED_FIELDS))
    return qs


def donation_get(*, actor: Any, identifier: str) -> DuesPayment:
    pk = object_pk(DuesPayment, identifier)
    payment = donation_queryset(actor=actor).filter(pk=pk).first()
    if payment is None:
        raise Http404
    return payment


def list_queryset(*, actor: Any, filter_text: str = "") -> QuerySet[Segment]:
    """Saved segments of the key's units, as Action Network lists."""
    qs = messaging_selectors.segment_list_for_actor(actor=actor)
    if filter_text:
        qs = qs.filter(odata.parse(filter_text, LIST_FIELDS))
    return qs


def list_get(*, actor: Any, identifier: str) -> Segment:
    return messaging_selectors.segment_get_for_actor(actor=actor, pk=object_pk(Segment, identifier))


def list_people(*, actor: Any, segment: Segment) -> QuerySet[Person]:
    """The people the segment matches now, among those the key may see."""
    from leaven.messaging.services import segment_queryset

    matched = segment_queryset(
        actor=actor, conditions=segment.conditions, owner_unit=segment.owner_unit
    )
    visible: QuerySet[Person] = matched & people_selectors.person_queryset_for_actor(actor=actor)
    return visible


def list_item_person(*, actor: Any, segment: Segment, identifier: str) -> Person:
    """The person behind an item id of this list; 404 unless the segment matches them."""
    from leaven.api.payloads import person_uuid_of_item

    raw = identifier.rsplit(":", 1)[-1]
    try:
        item = uuid.UUID(raw)
    except ValueError:
        raise Http404 from None
    list_uid = (
        ApiIdentifier.objects.filter(
            content_type=ContentType.objects.get_for_model(Segment), object_id=segment.pk
        )
        .values_list("uuid", flat=True)
        .first()
    )
    if list_uid is None:
        raise Http404
    pk = object_pk(Person, str(person_uuid_of_item(list_uid, item)))
    person = list_people(actor=actor, segment=segment).filter(pk=pk).first()
    if person is None:
        raise Http404
    return person


# The settings page ----------------------------------------------------------------------


def apikeys_for_actor(*, actor: Any) -> QuerySet[ApiKey]:
    unit_ids = access.unit_ids_in_scope(actor, permissions.API_MANAGE)
    return ApiKey.objects.filter(unit_id__in=unit_ids).select_related("unit")


def apikey_get_for_actor(*, actor: Any, pk: int) -> ApiKey:
    key = ApiKey.objects.select_related("unit").filter(pk=pk).first()
    if key is None:
        raise Http404
    if not access.can(actor, permissions.API_MANAGE, key.unit):
        from leaven.core.selectors import deny

        raise deny(actor=actor, obj_type="apikey", obj_id=pk, unit=key.unit)
    return key


def webhooks_for_actor(*, actor: Any) -> QuerySet[Webhook]:
    unit_ids = access.unit_ids_in_scope(actor, permissions.API_MANAGE)
    return Webhook.objects.filter(unit_id__in=unit_ids).select_related("unit")


def webhook_get_for_actor(*, actor: Any, pk: int) -> Webhook:
    hook = Webhook.objects.select_related("unit").filter(pk=pk).first()
    if hook is None:
        raise Http404
    if not access.can(actor, permissions.API_MANAGE, hook.unit):
        from leaven.core.selectors import deny

        raise deny(actor=actor, obj_type="webhook", obj_id=pk, unit=hook.unit)
    return hook


def deliveries_for_webhook(
    *, actor: Any, webhook: Webhook, limit: int = 20
) -> list[WebhookDelivery]:
    access.require(actor, permissions.API_MANAGE, webhook.unit)
    return list(webhook.deliveries.all()[:limit])

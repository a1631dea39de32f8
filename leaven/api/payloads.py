"""Records in Action Network's shape (HAL+JSON): field names and link relations as Action
Network writes them, absolute hrefs without a trailing slash."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from django.urls import reverse

from leaven.api.models import ApiIdentifier, WebhookDelivery
from leaven.api.services import identifiers_ensure
from leaven.events.models import RSVP, Event
from leaven.membership.models import DuesPayment, Interval, Method
from leaven.messaging.models import Broadcast, Channel, OutboxMessage, Segment
from leaven.people.models import Email, Person, Phone, Tag, Tagging

CURIES = [{"name": "osdi", "href": "https://actionnetwork.org/docs/v2/{rel}", "templated": True}]

EMAIL_STATUS: dict[str, str] = {
    Email.Status.SUBSCRIBED: "subscribed",
    Email.Status.NONE: "unsubscribed",
    Email.Status.UNSUBSCRIBED: "unsubscribed",
    Email.Status.BOUNCING: "bouncing",
}
PHONE_STATUS: dict[str, str] = {
    Phone.SMSStatus.OPTED_IN: "subscribed",
    Phone.SMSStatus.NONE: "unsubscribed",
    Phone.SMSStatus.OPTED_OUT: "unsubscribed",
}
ATTENDANCE_STATUS: dict[str, str] = {
    RSVP.Status.GOING: "accepted",
    RSVP.Status.WAITLIST: "tentative",
    RSVP.Status.CANCELLED: "declined",
}


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ids(ident: ApiIdentifier | None) -> list[str]:
    if ident is None:
        return []
    return [f"action_network:{ident.uuid}", *ident.foreign]


def _href(base: str, *parts: object) -> dict[str, str]:
    return {"href": "/".join([base, *[str(part) for part in parts]])}


def person_json(
    base: str, person: Person, ident: ApiIdentifier, *, emails: list[Any], phones: list[Any]
) -> dict[str, Any]:
    """One person; `emails` and `phones` are rows with the contact fields read here
    (`address`, `status`, `is_primary`; `number`, `kind`, `sms_status`, `is_primary`)."""
    uid = ident.uuid
    household = person.household
    postal: list[dict[str, Any]] = []
    if household is not None:
        address: dict[str, Any] = {
            "primary": True,
            "address_lines": [line for line in (household.street, household.unit) if line],
            "locality": household.city,
            "region": household.state,
            "postal_code": household.zip_code,
            "country": "US",
        }
        if household.latitude is not None and household.longitude is not None:
            address["location"] = {
                "latitude": household.latitude,
                "longitude": household.longitude,
                "accuracy": "Approximate",
            }
        postal.append(address)
    return {
        "identifiers": _ids(ident),
        "created_date": _utc(person.created_at),
        "modified_date": _utc(person.modified_at),
        "given_name": person.given_name,
        "family_name": person.family_name,
        "languages_spoken": [person.language],
        "email_addresses": [
            {
                "primary": email.is_primary,
                "address": email.address,
                "status": EMAIL_STATUS.get(email.status, "unsubscribed"),
            }
            for email in emails
        ],
        "phone_numbers": [
            {
                "primary": phone.is_primary,
                "number": phone.number.lstrip("+"),
                "number_type": "Mobile" if phone.kind == Phone.Kind.MOBILE else "Home",
                "status": PHONE_STATUS.get(phone.sms_status, "unsubscribed"),
            }
            for phone in phones
        ],
        "postal_addresses": postal,
        "custom_fields": {
            key: value
            for key, value in (person.custom_fields or {}).items()
            if isinstance(value, (str, int, float, bool))
        },
        "_links": {
            "self": _href(base, "people", uid),
            "osdi:attendances": _href(base, "people", uid, "attendances"),
            "osdi:taggings": _href(base, "people", uid, "taggings"),
            "curies": CURIES,
        },
    }


def people_json(base: str, people: list[Person]) -> list[dict[str, Any]]:
    """Many people at once: their identifiers, emails and phones in three queries (the
    contact points as plain rows of the fields shown, not model instances)."""
    idents = identifiers_ensure(Person, [person.pk for person in people])
    emails: dict[int, list[Any]] = {}
    phones: dict[int, list[Any]] = {}
    ids = [person.pk for person in people]
    if ids:
        for email in (
            Email.objects.filter(person_id__in=ids)
            .order_by("-is_primary", "id")
            .values_list("person_id", "address", "status", "is_primary", named=True)
        ):
            emails.setdefault(email.person_id, []).append(email)
        for phone in (
            Phone.objects.filter(person_id__in=ids)
            .order_by("-is_primary", "id")
            .values_list("person_id", "number", "kind", "sms_status", "is_primary", named=True)
        ):
            phones.setdefault(phone.person_id, []).append(phone)
    return [
        person_json(
            base,
            person,
            idents[person.pk],
            emails=emails.get(person.pk, []),
            phones=phones.get(person.pk, []),
        )
        for person in people
    ]


def tag_json(base: str, tag: Tag, ident: ApiIdentifier) -> dict[str, Any]:
    return {
        "identifiers": _ids(ident),
        "created_date": _utc(tag.created_at),
        "modified_date": _utc(tag.created_at),
        "name": tag.name,
        "_links": {
            "self": _href(base, "tags", ident.uuid),
            "osdi:taggings": _href(base, "tags", ident.uuid, "taggings"),
            "curies": CURIES,
        },
    }


def tags_json(base: str, tags: list[Tag]) -> list[dict[str, Any]]:
    idents = identifiers_ensure(Tag, [tag.pk for tag in tags])
    return [tag_json(base, tag, idents[tag.pk]) for tag in tags]


def taggings_json(base: str, taggings: list[Tagging]) -> list[dict[str, Any]]:
    tagging_ids = identifiers_ensure(Tagging, [row.pk for row in taggings])
    tag_ids = identifiers_ensure(Tag, list({row.tag_id for row in taggings}))
    person_ids = identifiers_ensure(Person, list({row.person_id for row in taggings}))
    result = []
    for row in taggings:
        tag_uid = tag_ids[row.tag_id].uuid
        person_uid = person_ids[row.person_id].uuid
        result.append(
            {
                "identifiers": _ids(tagging_ids[row.pk]),
                "created_date": _utc(row.created_at),
                "modified_date": _utc(row.created_at),
                "item_type": "osdi:person",
                "_links": {
                    "self": _href(base, "tags", tag_uid, "taggings", tagging_ids[row.pk].uuid),
                    "osdi:tag": _href(base, "tags", tag_uid),
                    "osdi:person": _href(base, "people", person_uid),
                    "curies": CURIES,
                },
            }
        )
    return result


def events_json(base: str, events: list[Event], site: str) -> list[dict[str, Any]]:
    idents = identifiers_ensure(Event, [event.pk for event in events])
    counts: dict[int, int] = {}
    ids = [event.pk for event in events]
    if ids:
        from django.db.models import Count

        for row in (
            RSVP.objects.filter(event_id__in=ids, status=RSVP.Status.GOING)
            .values("event_id")
            .annotate(n=Count("id"))
        ):
            counts[row["event_id"]] = row["n"]
    result = []
    for event in events:
        uid = idents[event.pk].uuid
        browser_url = site + reverse("events:event_public", args=[event.slug])
        result.append(
            {
                "identifiers": _ids(idents[event.pk]),
                "created_date": _utc(event.created_at),
                "modified_date": _utc(event.created_at),
                "title": event.title_en,
                "name": event.title_en,
                "description": event.description_en,
                "browser_url": browser_url,
                "start_date": _utc(event.starts_at),
                "end_date": _utc(event.ends_at),
                "status": "cancelled" if event.status == Event.Status.CANCELLED else "confirmed",
                "visibility": "public"
                if event.visibility == Event.Visibility.PUBLIC
                else "private",
                "capacity": event.capacity,
                "total_accepted": counts.get(event.pk, 0),
                "location": {
                    "venue": "",
                    "address_lines": [event.address] if event.address else [],
                },
                "_links": {
                    "self": _href(base, "events", uid),
                    "osdi:attendances": _href(base, "events", uid, "attendances"),
                    "curies": CURIES,
                },
            }
        )
    return result


def attendances_json(base: str, rsvps: list[RSVP]) -> list[dict[str, Any]]:
    rsvp_ids = identifiers_ensure(RSVP, [row.pk for row in rsvps])
    event_ids = identifiers_ensure(Event, list({row.event_id for row in rsvps}))
    person_ids = identifiers_ensure(Person, list({row.person_id for row in rsvps}))
    result = []
    for row in rsvps:
        event_uid = event_ids[row.event_id].uuid
        person_uid = person_ids[row.person_id].uuid
        result.append(
            {
                "identifiers": _ids(rsvp_ids[row.pk]),
                "created_date": _utc(row.created_at),
                "modified_date": _utc(row.modified_at),
                "status": ATTENDANCE_STATUS.get(row.status, "needs action"),
                "attended": row.attendance == RSVP.Attendance.ATTENDED,
                "action_network:person_id": str(person_uid),
                "action_network:event_id": str(event_uid),
                "_links": {
                    "self": _href(base, "events", event_uid, "attendances", rsvp_ids[row.pk].uuid),
                    "osdi:event": _href(base, "events", event_uid),
                    "osdi:person": _href(base, "people", person_uid),
                    "curies": CURIES,
                },
            }
        )
    return result


# Messages, donations, lists and items ---------------------------------------------------

MESSAGE_STATUS: dict[str, str] = {
    Broadcast.State.DRAFT: "draft",
    Broadcast.State.SCHEDULED: "scheduled",
    Broadcast.State.CANCELLED: "canceled",
}
# Outbox states that mean a queued broadcast is still going out.
_STILL_SENDING = {
    OutboxMessage.State.PENDING,
    OutboxMessage.State.SENDING,
    OutboxMessage.State.HELD,
}
PAYMENT_METHOD: dict[str, str] = {
    Method.CASH: "Cash",
    Method.CHECK: "Check",
    Method.CARD: "Credit Card",
    Method.BANK: "Bank Transfer",
    Method.PAYROLL: "Payroll Deduction",
}
RECURRENCE_PERIOD: dict[str, str] = {Interval.MONTHLY: "Monthly", Interval.YEARLY: "Yearly"}


def messages_json(base: str, broadcasts: list[Broadcast]) -> list[dict[str, Any]]:
    """Broadcasts as Action Network messages: the text in the unit's first language, the
    segment as the target list, and the count of messages handed to the provider."""
    from django.db.models import Count

    from leaven.messaging.services import pick_template, unit_language

    idents = identifiers_ensure(Broadcast, [row.pk for row in broadcasts])
    list_ids = identifiers_ensure(Segment, list({row.segment_id for row in broadcasts}))
    states: dict[int, dict[str, int]] = {}
    ids = [row.pk for row in broadcasts]
    if ids:
        for count in (
            OutboxMessage.objects.filter(broadcast_id__in=ids)
            .values("broadcast_id", "state")
            .annotate(n=Count("id"))
            .order_by()
        ):
            states.setdefault(count["broadcast_id"], {})[count["state"]] = count["n"]
    result = []
    for row in broadcasts:
        uid = idents[row.pk].uuid
        language = unit_language(row.owner_unit)
        _code, template = pick_template(row.templates or {}, language, language)
        counts = states.get(row.pk, {})
        status = MESSAGE_STATUS.get(row.state)
        if status is None:  # queued: sending until nothing is left waiting
            status = "sending" if any(counts.get(s) for s in _STILL_SENDING) else "sent"
        message: dict[str, Any] = {
            "identifiers": _ids(idents[row.pk]),
            "created_date": _utc(row.created_at),
            "modified_date": _utc(row.cancelled_at or row.queued_at or row.created_at),
            "origin_system": "Leaven",
            "name": row.name,
            "subject": str(template.get("subject", "")) if row.channel == Channel.EMAIL else "",
            "body": str(template.get("body", "")),
            "from": row.owner_unit.name,
            "type": "email" if row.channel == Channel.EMAIL else "sms",
            "status": status,
            "total_targeted": row.recipient_count,
            "targets": [{"href": "/".join([base, "lists", str(list_ids[row.segment_id].uuid)])}],
            "statistics": {"sent": counts.get(OutboxMessage.State.SENT, 0)},
            "_links": {"self": _href(base, "messages", uid), "curies": CURIES},
        }
        if row.scheduled_at is not None:
            message["scheduled_start_date"] = _utc(row.scheduled_at)
        if row.queued_at is not None:
            message["sent_start_date"] = _utc(row.queued_at)
        result.append(message)
    return result


def _money(cents: int) -> str:
    return f"{cents / 100:.2f}"


def donations_json(base: str, payments: list[DuesPayment]) -> list[dict[str, Any]]:
    """Dues payments as Action Network donations. A payment that was later reversed is
    shown voided; the reversing entries themselves are not donations."""
    idents = identifiers_ensure(DuesPayment, [row.pk for row in payments])
    person_ids = identifiers_ensure(Person, list({row.membership.person_id for row in payments}))
    reversals: dict[int, DuesPayment] = {}
    ids = [row.pk for row in payments]
    if ids:
        for entry in DuesPayment.objects.filter(reverses_id__in=ids):
            if entry.reverses_id is not None:
                reversals[entry.reverses_id] = entry
    result = []
    for row in payments:
        uid = idents[row.pk].uuid
        membership = row.membership
        person_uid = person_ids[membership.person_id].uuid
        amount = _money(row.amount_cents)
        reversal = reversals.get(row.pk)
        period = RECURRENCE_PERIOD.get(membership.tier.interval)
        donation: dict[str, Any] = {
            "identifiers": _ids(idents[row.pk]),
            "created_date": _utc(row.created_at),
            "modified_date": _utc(reversal.created_at if reversal else row.created_at),
            "action_date": row.paid_on.isoformat(),
            "amount": amount,
            "currency": row.currency,
            "recipients": [{"display_name": membership.owner_unit.name, "amount": amount}],
            "payment": {
                "method": PAYMENT_METHOD.get(row.method, "Other"),
                "reference_number": row.receipt_number,
                "authorization_stored": False,
            },
            "action_network:recurrence": {"recurring": period is not None}
            | ({"period": period} if period else {}),
            "voided": reversal is not None,
            "action_network:person_id": str(person_uid),
            "_links": {
                "self": _href(base, "donations", uid),
                "osdi:person": _href(base, "people", person_uid),
                "curies": CURIES,
            },
        }
        if reversal is not None:
            donation["voided_date"] = _utc(reversal.created_at)
        result.append(donation)
    return result


def lists_json(base: str, segments: list[Segment]) -> list[dict[str, Any]]:
    """Saved segments as Action Network lists. A segment is a query evaluated each time,
    so its people are read from the list's items (with their `total_records`)."""
    idents = identifiers_ensure(Segment, [row.pk for row in segments])
    result = []
    for row in segments:
        uid = idents[row.pk].uuid
        result.append(
            {
                "identifiers": _ids(idents[row.pk]),
                "created_date": _utc(row.created_at),
                "modified_date": _utc(row.modified_at),
                "origin_system": "Leaven",
                "title": row.name,
                "name": row.name,
                "_links": {
                    "self": _href(base, "lists", uid),
                    "osdi:items": _href(base, "lists", uid, "items"),
                    "curies": CURIES,
                },
            }
        )
    return result


def item_uuid(list_uuid: uuid.UUID, person_uuid: uuid.UUID) -> uuid.UUID:
    """An item's id: stable for a list and a person, and turned back into the person's id
    with the list's (`person_uuid_of_item`)."""
    return uuid.UUID(int=list_uuid.int ^ person_uuid.int)


def person_uuid_of_item(list_uuid: uuid.UUID, item: uuid.UUID) -> uuid.UUID:
    return uuid.UUID(int=list_uuid.int ^ item.int)


def items_json(base: str, segment: Segment, people: list[Person]) -> list[dict[str, Any]]:
    """The people of a segment as the items of its list."""
    list_uid = identifiers_ensure(Segment, [segment.pk])[segment.pk].uuid
    person_ids = identifiers_ensure(Person, [person.pk for person in people])
    result = []
    for person in people:
        person_uid = person_ids[person.pk].uuid
        uid = item_uuid(list_uid, person_uid)
        result.append(
            {
                "identifiers": [f"action_network:{uid}"],
                "created_date": _utc(person.created_at),
                "modified_date": _utc(person.modified_at),
                "item_type": "osdi:person",
                "action_network:person_id": str(person_uid),
                "action_network:list_id": str(list_uid),
                "_links": {
                    "self": _href(base, "lists", list_uid, "items", uid),
                    "osdi:list": _href(base, "lists", list_uid),
                    "osdi:person": _href(base, "people", person_uid),
                    "curies": CURIES,
                },
            }
        )
    return result


def webhook_payload(delivery: WebhookDelivery) -> list[dict[str, Any]]:
    """Action Network's webhook shape: a JSON array of one object keyed by the record's
    relation (`osdi:signup`, `osdi:tagging`, `osdi:attendance`, `osdi:donation`)."""
    base = delivery.webhook.api_base.rstrip("/")
    data: list[dict[str, Any]] = []
    if delivery.object_type == "person":
        people = list(Person.objects.select_related("household").filter(pk=delivery.object_id))
        data = people_json(base, people)
        key = "osdi:signup"
    elif delivery.object_type == "tagging":
        key = "osdi:tagging"
        data = taggings_json(base, list(Tagging.objects.filter(pk=delivery.object_id)))
    elif delivery.object_type == "rsvp":
        key = "osdi:attendance"
        data = attendances_json(base, list(RSVP.objects.filter(pk=delivery.object_id)))
    elif delivery.object_type == "donation":
        key = "osdi:donation"
        payments = DuesPayment.objects.select_related(
            "membership__tier", "membership__owner_unit"
        ).filter(pk=delivery.object_id, reverses__isnull=True)
        data = donations_json(base, list(payments))
    else:
        key = f"osdi:{delivery.object_type}"
    body: dict[str, Any] = {
        "idempotency_key": delivery.event_id,
        "action_network:event": delivery.topic,
    }
    body[key] = data[0] if data else {"deleted": True}
    return [body]

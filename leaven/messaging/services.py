"""Writes for messaging: segments, broadcasts, the outbox and its delivery, opt-outs,
unsubscribes, bounces, inbound texts and one-to-one replies.

Other apps send through `outbox_enqueue`: it writes one row per recipient inside the
caller's transaction and queues delivery for after the commit, so a rolled-back transaction
sends nothing.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from leaven.core import access, crypto, permissions
from leaven.core.audit import audit_record
from leaven.core.models import OrgUnit
from leaven.messaging import conf, keywords
from leaven.messaging.models import (
    Broadcast,
    Channel,
    InboundMessage,
    OutboxMessage,
    ProviderCallback,
    Segment,
    SmsSuppression,
)
from leaven.messaging.segments import compile_conditions
from leaven.messaging.transports import Outgoing, SendError, Transport, transport_for
from leaven.people import normalize
from leaven.people.models import Email, Person, Phone
from leaven.people.selectors import person_queryset_for_actor

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "leaven.messaging.unsubscribe"
MERGE_FIELDS = ("{first_name}", "{committee}")
EVENT_LINK = "{event_link}"
INSERT_BATCH = 5000


# --------------------------------------------------------------------------- segments


def _require_send(actor: Any, unit: OrgUnit) -> None:
    if not access.can(actor, permissions.MESSAGING_SEND, unit):
        raise ValidationError(_("You cannot send messages for this unit."))


def segment_queryset(*, actor: Any, conditions: Any, owner_unit: OrgUnit) -> Any:
    """Everyone the conditions match, among the people of the segment's unit the actor may
    message. Evaluated each time it is called."""
    people = person_queryset_for_actor(actor=actor, permission=permissions.MESSAGING_SEND)
    in_unit = compile_conditions({"kind": "units", "value": [owner_unit.pk]})
    return people.filter(in_unit).filter(compile_conditions(conditions))


def segment_count(*, actor: Any, conditions: Any, owner_unit: OrgUnit) -> int:
    return int(segment_queryset(actor=actor, conditions=conditions, owner_unit=owner_unit).count())


def _check_segment(actor: Any, owner_unit: OrgUnit, name: str, conditions: Any) -> str:
    _require_send(actor, owner_unit)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the segment a name.")})
    compile_conditions(conditions)
    unit_ids = _unit_ids(conditions)
    allowed = access.unit_ids_in_scope(actor, permissions.MESSAGING_SEND)
    if not unit_ids <= allowed:
        raise ValidationError(_("A unit in the conditions is outside your units."))
    _check_linked_records(actor, conditions)
    return name


def _nodes(tree: Any) -> list[dict[str, Any]]:
    if not isinstance(tree, dict):
        return []
    if "kind" in tree:
        return [tree]
    return [node for child in tree.get("children") or [] for node in _nodes(child)]


def _check_linked_records(actor: Any, conditions: Any) -> None:
    """Events and tiers named in conditions must be ones the actor may see."""
    from leaven.events.models import Event
    from leaven.membership.selectors import tiers_visible

    event_ids: set[int] = set()
    tier_ids: set[int] = set()
    for node in _nodes(conditions):
        if node.get("kind") in ("event_rsvp", "event_attended"):
            event_ids |= {int(v) for v in node.get("value") or []}
        elif node.get("kind") == "membership" and isinstance(node.get("value"), dict):
            tier_ids |= {int(v) for v in node["value"].get("tiers") or []}
    if event_ids:
        scope = access.unit_ids_in_scope(actor, permissions.EVENTS_VIEW)
        seen = Event.objects.filter(pk__in=event_ids, owner_unit_id__in=scope).count()
        if seen != len(event_ids):
            raise ValidationError(_("An event in the conditions is not one of yours."))
    if tier_ids:
        seen = tiers_visible(actor=actor).filter(pk__in=tier_ids).count()
        if seen != len(tier_ids):
            raise ValidationError(_("A membership tier in the conditions is not one of yours."))


def _unit_ids(tree: Any) -> set[int]:
    if not isinstance(tree, dict):
        return set()
    if tree.get("kind") == "units":
        return {int(v) for v in tree.get("value") or []}
    found: set[int] = set()
    for child in tree.get("children") or []:
        found |= _unit_ids(child)
    return found


@transaction.atomic
def segment_create(*, actor: Any, owner_unit: OrgUnit, name: str, conditions: Any) -> Segment:
    name = _check_segment(actor, owner_unit, name, conditions)
    segment = Segment.objects.create(
        owner_unit=owner_unit, name=name, conditions=conditions or {}, created_by=actor
    )
    audit_record(actor=actor, verb="segment.created", obj=segment, unit=owner_unit)
    return segment


@transaction.atomic
def segment_update(*, actor: Any, segment: Segment, name: str, conditions: Any) -> Segment:
    name = _check_segment(actor, segment.owner_unit, name, conditions)
    segment.name, segment.conditions = name, conditions or {}
    segment.modified_at = timezone.now()
    segment.save(update_fields=["name", "conditions", "modified_at"])
    audit_record(actor=actor, verb="segment.updated", obj=segment, unit=segment.owner_unit)
    return segment


# --------------------------------------------------------------------------- rendering


def unit_language(unit: OrgUnit) -> str:
    languages = unit.languages or []
    return str(languages[0]) if languages else "en"


def pick_template(
    templates: dict[str, Any], language: str, fallback: str
) -> tuple[str, dict[str, Any]]:
    """The template in the person's language, else the unit's first language, else any."""
    for code in (language, fallback):
        template = templates.get(code)
        if template and template.get("body"):
            return code, template
    for code, template in sorted(templates.items()):
        if template and template.get("body"):
            return code, template
    return fallback, {"subject": "", "body": ""}


def render(text: str, *, first_name: str, committee: str, event_link: str = "") -> str:
    text = text.replace("{first_name}", first_name).replace("{committee}", committee)
    return text.replace(EVENT_LINK, event_link) if event_link else text


def event_link(event: Any) -> str:
    """The public address of an event's page (where people RSVP)."""
    if event is None:
        return ""
    base = str(conf.get("LEAVEN_PUBLIC_URL")).rstrip("/")
    return f"{base}{reverse('events:event_public', kwargs={'slug': event.slug})}"


def _check_event(actor: Any, event: Any, templates: dict[str, dict[str, str]]) -> None:
    """{event_link} needs a public event the sender may see; an event needs the link."""
    from leaven.events.models import Event

    uses_link = any(
        EVENT_LINK in part for template in templates.values() for part in template.values()
    )
    if event is None:
        if uses_link:
            raise ValidationError({"event": _("Choose the event that {event_link} points to.")})
        return
    if not access.can(actor, permissions.EVENTS_VIEW, event.owner_unit):
        raise ValidationError({"event": _("Choose one of your events.")})
    if event.visibility != Event.Visibility.PUBLIC or event.status == Event.Status.CANCELLED:
        raise ValidationError(
            {"event": _("Only a public event that is not cancelled has a link anyone can open.")}
        )


def _check_templates(channel: str, templates: dict[str, Any]) -> dict[str, dict[str, str]]:
    cleaned: dict[str, dict[str, str]] = {}
    for code, template in (templates or {}).items():
        body = str((template or {}).get("body", "")).strip()
        subject = str((template or {}).get("subject", "")).strip()
        if not body:
            continue
        if channel == Channel.EMAIL and not subject:
            raise ValidationError({"templates": _("Every email needs a subject.")})
        cleaned[str(code)] = {"subject": subject, "body": body}
    if not cleaned:
        raise ValidationError({"templates": _("Write the message in at least one language.")})
    return cleaned


# --------------------------------------------------------------------------- broadcasts


@transaction.atomic
def broadcast_create(
    *,
    actor: Any,
    segment: Segment,
    channel: str,
    name: str,
    templates: dict[str, Any],
    urgent: bool = False,
    event: Any = None,
) -> Broadcast:
    """A draft. `event` (an events.Event) is where the merge field {event_link} points."""
    _require_send(actor, segment.owner_unit)
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Choose email or text message.")})
    if urgent and channel != Channel.SMS:
        raise ValidationError({"urgent": _("Only text messages can be urgent alerts.")})
    if not name.strip():
        raise ValidationError({"name": _("Give the broadcast a name.")})
    cleaned = _check_templates(channel, templates)
    _check_event(actor, event, cleaned)
    broadcast = Broadcast.objects.create(
        owner_unit=segment.owner_unit,
        segment=segment,
        channel=channel,
        name=name.strip(),
        templates=cleaned,
        urgent=urgent,
        event=event,
        created_by=actor,
    )
    audit_record(actor=actor, verb="broadcast.created", obj=broadcast, unit=broadcast.owner_unit)
    return broadcast


@transaction.atomic
def broadcast_update(
    *, actor: Any, broadcast: Broadcast, name: str, templates: dict[str, Any], urgent: bool
) -> Broadcast:
    _require_send(actor, broadcast.owner_unit)
    if broadcast.state != Broadcast.State.DRAFT:
        raise ValidationError(_("This broadcast has already been sent or scheduled."))
    broadcast.name = name.strip() or broadcast.name
    broadcast.templates = _check_templates(broadcast.channel, templates)
    _check_event(actor, broadcast.event, broadcast.templates)
    broadcast.urgent = urgent and broadcast.channel == Channel.SMS
    broadcast.save(update_fields=["name", "templates", "urgent"])
    audit_record(actor=actor, verb="broadcast.updated", obj=broadcast, unit=broadcast.owner_unit)
    return broadcast


def broadcast_preview(*, broadcast: Broadcast, language: str) -> dict[str, str]:
    """The message as a person with this language would get it (sample merge values)."""
    code, template = pick_template(
        broadcast.templates, language, unit_language(broadcast.owner_unit)
    )
    sample = {
        "first_name": "María",
        "committee": broadcast.owner_unit.name,
        "event_link": event_link(broadcast.event),
    }
    return {
        "language": code,
        "subject": render(template.get("subject", ""), **sample),
        "body": render(template["body"], **sample),
    }


@transaction.atomic
def broadcast_schedule(*, actor: Any, broadcast: Broadcast, at: datetime) -> Broadcast:
    _require_send(actor, broadcast.owner_unit)
    if broadcast.state != Broadcast.State.DRAFT:
        raise ValidationError(_("This broadcast has already been sent or scheduled."))
    if at <= timezone.now():
        raise ValidationError({"scheduled_at": _("Choose a time in the future.")})
    broadcast.scheduled_at, broadcast.state = at, Broadcast.State.SCHEDULED
    broadcast.save(update_fields=["scheduled_at", "state"])
    audit_record(actor=actor, verb="broadcast.scheduled", obj=broadcast, unit=broadcast.owner_unit)
    return broadcast


def _recipients(broadcast: Broadcast, people: Any) -> list[tuple[Any, ...]]:
    """(person id, contact id, stored destination ciphertext, destination index, language,
    first name, unit) for everyone in the segment with consent on the channel, one per
    destination. The destination is copied as stored (still encrypted), never decrypted."""
    person_fields = (
        "person__given_name",
        "person__preferred_name",
        "person__language",
        "person__owner_unit_id",
    )
    contacts: Any
    if broadcast.channel == Channel.EMAIL:
        contacts = (
            Email.objects.filter(person_id__in=people.values("pk"), status=Email.Status.SUBSCRIBED)
            .annotate(stored=Cast("address", output_field=TextField()))
            .values_list("person_id", "pk", "stored", "address_index", *person_fields)
        )
    else:
        phone_filter = Q(sms_status=Phone.SMSStatus.OPTED_IN)
        if broadcast.urgent:
            phone_filter &= Q(urgent_alerts=True)
        contacts = (
            Phone.objects.filter(phone_filter, person_id__in=people.values("pk"))
            .exclude(number_index__in=SmsSuppression.objects.values("number_index"))
            .annotate(stored=Cast("number", output_field=TextField()))
            .values_list("person_id", "pk", "stored", "number_index", *person_fields)
        )
    # Primary contact first; then one message per person and one per destination (a
    # number shared by two people, or entered twice in two formats, gets one message).
    contacts = contacts.order_by("person_id", "-is_primary", "pk")
    seen_people: set[int] = set()
    seen_destinations: set[str] = set()
    recipients = []
    for row in contacts.iterator(chunk_size=5000):
        person_id, contact_id, stored, index, given, preferred, language, unit_id = row
        if person_id in seen_people or index in seen_destinations:
            continue
        seen_people.add(person_id)
        seen_destinations.add(index)
        recipients.append(
            (person_id, contact_id, stored, index, language, preferred or given, unit_id)
        )
    return recipients


@transaction.atomic
def broadcast_queue(*, actor: Any, broadcast: Broadcast) -> int:
    """Evaluate the segment now and write one outbox row per recipient, with the broadcast's
    state change, in one transaction. Returns how many were queued."""
    broadcast = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
    if broadcast.state not in (Broadcast.State.DRAFT, Broadcast.State.SCHEDULED):
        raise ValidationError(_("This broadcast has already been sent."))
    creator = broadcast.created_by if actor is None else actor
    _require_send(creator, broadcast.owner_unit)
    segment = broadcast.segment
    people = segment_queryset(
        actor=creator, conditions=segment.conditions, owner_unit=segment.owner_unit
    )
    recipients = _recipients(broadcast, people)
    fallback = unit_language(broadcast.owner_unit)
    unit_names = dict(OrgUnit.objects.values_list("pk", "name"))
    committee = broadcast.owner_unit.name
    now = timezone.now()
    rendered: dict[str, tuple[str, str, str]] = {}
    link = event_link(broadcast.event)
    for code in {r[4] for r in recipients} | {fallback}:
        chosen, template = pick_template(broadcast.templates, code, fallback)
        # The event link is the same for everyone: filled in once, here.
        subject_text = template.get("subject", "").replace(EVENT_LINK, link)
        rendered[code] = (chosen, subject_text, template["body"].replace(EVENT_LINK, link))
    is_email = broadcast.channel == Channel.EMAIL
    table = OutboxMessage._meta.db_table
    columns = (
        "broadcast_id, owner_unit_id, person_id, email_id, phone_id, kind, channel, "
        "destination, destination_index, language, subject, body, urgent, state, attempts, "
        "next_attempt_at, reconcile, provider_id, delivery_status, error_code, "
        "idempotency_key, created_at"
    )
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * 22)})"  # noqa: S608
    batch: list[tuple[Any, ...]] = []
    # A text without merge fields is the same for everyone: encrypted once.
    fixed: dict[str, str] = {}

    def seal(text: str) -> str:
        if text in fixed:
            return fixed[text]
        sealed = crypto.encrypt(text)
        if not any(field in text for field in MERGE_FIELDS) and text in constant_texts:
            fixed[text] = sealed
        return sealed

    constant_texts = {
        part
        for _code, subject_text, body_text in rendered.values()
        for part in (subject_text, body_text)
        if not any(field in part for field in MERGE_FIELDS)
    }
    with connection.cursor() as cursor:
        for person_id, contact_id, destination, index, language, first, unit_id in recipients:
            chosen, subject, body = rendered.get(language) or rendered[fallback]
            merge = {"first_name": first, "committee": unit_names.get(unit_id, committee)}
            batch.append(
                (
                    broadcast.pk,
                    broadcast.owner_unit_id,
                    person_id,
                    contact_id if is_email else None,
                    None if is_email else contact_id,
                    OutboxMessage.Kind.BROADCAST,
                    broadcast.channel,
                    destination,  # already encrypted, copied as stored
                    index,
                    chosen,
                    seal(render(subject, **merge)) if subject else "",
                    seal(render(body, **merge)),
                    broadcast.urgent,
                    OutboxMessage.State.PENDING,
                    0,
                    now,
                    False,
                    "",
                    "",
                    "",
                    f"broadcast:{broadcast.pk}:{index}",
                    now,
                )
            )
            if len(batch) >= INSERT_BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
    broadcast.state = Broadcast.State.QUEUED
    broadcast.queued_at = now
    broadcast.recipient_count = len(recipients)
    broadcast.save(update_fields=["state", "queued_at", "recipient_count"])
    audit_record(
        actor=actor,
        verb="broadcast.queued",
        obj=broadcast,
        unit=broadcast.owner_unit,
        detail={"recipients": len(recipients), "segment": segment.pk},
    )
    _drain_on_commit(broadcast.channel)
    return len(recipients)


@dataclass(frozen=True)
class CancelResult:
    broadcast: Broadcast
    withdrawn: int
    already_sent: int


@transaction.atomic
def broadcast_cancel(*, actor: Any, broadcast: Broadcast) -> CancelResult:
    """Cancel a scheduled broadcast, or stop one that is being delivered. Messages already
    sent stay sent; every message not yet handed to a provider (waiting, held for quiet
    hours, or waiting to be retried) is withdrawn in one statement. A message a worker is
    handing to the provider at this moment (`sending`) is left to finish: it may already
    have been accepted, and withdrawing it could not take it back."""
    _require_send(actor, broadcast.owner_unit)
    broadcast = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
    if broadcast.state not in (Broadcast.State.SCHEDULED, Broadcast.State.QUEUED):
        raise ValidationError(_("Only a scheduled broadcast or one being sent can be cancelled."))
    withdrawn = int(
        OutboxMessage.objects.filter(
            broadcast=broadcast,
            state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.HELD],
        ).update(state=OutboxMessage.State.WITHDRAWN, lease_until=None, error_code="cancelled")
    )
    already_sent = OutboxMessage.objects.filter(
        broadcast=broadcast, state=OutboxMessage.State.SENT
    ).count()
    broadcast.state = Broadcast.State.CANCELLED
    broadcast.cancelled_at = timezone.now()
    broadcast.save(update_fields=["state", "cancelled_at"])
    audit_record(
        actor=actor,
        verb="broadcast.cancelled",
        obj=broadcast,
        unit=broadcast.owner_unit,
        detail={"withdrawn": withdrawn, "sent": already_sent},
    )
    return CancelResult(broadcast, withdrawn, already_sent)


def broadcast_queue_due(*, now: datetime | None = None) -> int:
    """Queue every scheduled broadcast whose time has come (called by the worker)."""
    now = now or timezone.now()
    queued = 0
    due = Broadcast.objects.filter(state=Broadcast.State.SCHEDULED, scheduled_at__lte=now)
    for broadcast in due:
        try:
            queued += broadcast_queue(actor=None, broadcast=broadcast)
        except ValidationError:
            logger.warning("broadcast %s could not be queued", broadcast.pk)
    return queued


def broadcast_test_send(
    *, actor: Any, broadcast: Broadcast, language: str, destination: str = ""
) -> OutboxMessage:
    """Send the message in one language to the sender themselves."""
    _require_send(actor, broadcast.owner_unit)
    preview = broadcast_preview(broadcast=broadcast, language=language)
    if broadcast.channel == Channel.EMAIL:
        destination = normalize.email_normalize(destination or actor.email)
    else:
        if not destination:
            raise ValidationError({"destination": _("Enter your own phone number.")})
        destination = normalize.phone_normalize(destination)
    key = f"test:{broadcast.pk}:{actor.pk}:{timezone.now().timestamp()}"
    with transaction.atomic():
        message = _write_row(
            owner_unit=broadcast.owner_unit,
            person=None,
            channel=broadcast.channel,
            destination=destination,
            language=preview["language"],
            subject="[TEST] " + preview["subject"] if preview["subject"] else "",
            body=preview["body"],
            urgent=broadcast.urgent,
            kind=OutboxMessage.Kind.TEST,
            idempotency_key=key,
        )
        audit_record(
            actor=actor, verb="broadcast.test_sent", obj=broadcast, unit=broadcast.owner_unit
        )
        _drain_on_commit(broadcast.channel)
    return message


# --------------------------------------------------------------------------- the outbox API


def _write_row(
    *,
    owner_unit: OrgUnit | None,
    person: Person | None,
    channel: str,
    destination: str,
    language: str,
    subject: str,
    body: str,
    urgent: bool,
    kind: str,
    idempotency_key: str,
    email: Email | None = None,
    phone: Phone | None = None,
) -> OutboxMessage:
    existing = OutboxMessage.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    index = crypto.blind_index(destination)
    try:
        with transaction.atomic():
            return OutboxMessage.objects.create(
                owner_unit=owner_unit,
                person=person,
                email=email,
                phone=phone,
                kind=kind,
                channel=channel,
                destination=destination,
                destination_index=index,
                language=language,
                subject=subject,
                body=body,
                urgent=urgent,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        return OutboxMessage.objects.get(idempotency_key=idempotency_key)


def _contact_for(
    person: Person, channel: str, urgent: bool, transactional: bool = False
) -> Email | Phone | None:
    if channel == Channel.EMAIL:
        if transactional:
            # A subscribed address first; else one given without news consent.
            usable = person.emails.filter(status__in=[Email.Status.SUBSCRIBED, Email.Status.NONE])
            return usable.filter(status=Email.Status.SUBSCRIBED).first() or usable.first()
        return person.emails.filter(status=Email.Status.SUBSCRIBED).first()
    # Texts, transactional or not, go only to a phone whose owner agreed to texts.
    phones = person.phones.filter(sms_status=Phone.SMSStatus.OPTED_IN)
    if urgent:
        phones = phones.filter(urgent_alerts=True)
    return phones.first()


def outbox_enqueue(
    *,
    actor: Any,
    person: Person,
    channel: str,
    body: str,
    idempotency_key: str,
    subject: str = "",
    templates: dict[str, dict[str, str]] | None = None,
    urgent: bool = False,
    owner_unit: OrgUnit | None = None,
    transactional: bool = False,
) -> OutboxMessage | None:
    """Queue one message to a person on a channel, for sending after the caller's
    transaction commits. Safe to call twice with the same key (the second call returns the
    first row). `templates` ({"en": {"subject", "body"}, "es": ...}) picks the person's
    language; `body`/`subject` are used when no template fits. Merge fields {first_name} and
    {committee} are filled in. Returns None when the person has no address with consent on
    the channel (for urgent texts: no round-the-clock alert consent).

    `transactional` marks something the person asked for (a confirmation, a reminder): it
    may go to an email given without news consent, never to one unsubscribed or bouncing;
    texts always need SMS consent.

    `actor` None means the system (a task); a user needs messaging.send on the person."""
    if channel not in Channel.values:
        raise ValidationError(_("Choose email or text message."))
    if urgent and channel != Channel.SMS:
        raise ValidationError(_("Only text messages can be urgent alerts."))
    if actor is not None:
        visible = person_queryset_for_actor(actor=actor, permission=permissions.MESSAGING_SEND)
        if not visible.filter(pk=person.pk).exists():
            raise ValidationError(_("You cannot send messages to this person."))
    existing = OutboxMessage.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    contact = _contact_for(person, channel, urgent, transactional)
    if contact is None:
        return None
    unit = owner_unit or person.owner_unit
    language = person.language
    if templates:
        language, template = pick_template(templates, person.language, unit_language(unit))
        subject = template.get("subject", subject)
        body = template.get("body", body)
    if not body.strip():
        raise ValidationError(_("The message is empty."))
    merge = {"first_name": person.preferred_name or person.given_name, "committee": unit.name}
    with transaction.atomic():
        email = contact if isinstance(contact, Email) else None
        phone = contact if isinstance(contact, Phone) else None
        message = _write_row(
            owner_unit=unit,
            person=person,
            channel=channel,
            destination=contact.address if isinstance(contact, Email) else contact.number,
            language=language,
            subject=render(subject, **merge),
            body=render(body, **merge),
            urgent=urgent,
            kind=OutboxMessage.Kind.TRANSACTIONAL if transactional else OutboxMessage.Kind.DIRECT,
            idempotency_key=idempotency_key,
            email=email,
            phone=phone,
        )
        audit_record(
            actor=actor,
            verb="outbox.queued",
            obj=person,
            unit=unit,
            detail={"message": message.pk, "channel": channel, "urgent": urgent},
        )
        _drain_on_commit(channel)
    return message


def _drain_on_commit(channel: str) -> None:
    if not conf.get("LEAVEN_OUTBOX_DRAIN_ON_COMMIT"):
        return

    def enqueue() -> None:
        from leaven.messaging.tasks import outbox_drain

        outbox_drain.enqueue(channel=channel)

    transaction.on_commit(enqueue)


# --------------------------------------------------------------------------- delivery
#
# The reconciliation rule. A row moves pending -> sending (with a lease) in one committed
# statement before the transport is called, and sending -> sent with the provider's id in the
# statement right after the provider answers. If the worker dies in between, the row stays
# `sending` until its lease runs out; it is then released with `reconcile` set, and the next
# attempt first asks the provider whether it already accepted the message:
#   - SMS: Twilio is asked for a message to that number with that text; if it holds one, the
#     row is marked sent with that id and nothing is sent again.
#   - Email: SMTP cannot be asked, so the message is sent again with the same Message-ID
#     (derived from the idempotency key); receiving systems treat the two as one message.
# Rows are never released before their lease ends, so two workers never send one row at once.


def release_expired(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    # A row of a cancelled broadcast whose worker died is not tried again.
    OutboxMessage.objects.filter(
        state=OutboxMessage.State.SENDING,
        lease_until__lt=now,
        broadcast__state=Broadcast.State.CANCELLED,
    ).update(state=OutboxMessage.State.WITHDRAWN, lease_until=None, error_code="cancelled")
    return int(
        OutboxMessage.objects.filter(state=OutboxMessage.State.SENDING, lease_until__lt=now).update(
            state=OutboxMessage.State.PENDING, lease_until=None, reconcile=True
        )
    )


# The order rows are claimed in: urgent texts first, then messages held for quiet hours
# that have come due, then the other waiting messages; within each, oldest first. A held
# text was queued before quiet hours began and only waited for the clock, so it goes before
# the waiting backlog: a reminder held overnight goes out in the first claims after quiet
# hours end, however large a broadcast is waiting then. Held rows cannot starve the others:
# only texts claimed during quiet hours become held, and each is claimed once when due (and
# then sent, suppressed, retried as pending or held again until a later time). Each step is one
# ordered scan of an index (see OutboxMessage.Meta), so a claim costs the same behind a
# backlog of any size.
CLAIM_STEPS: tuple[tuple[str, bool], ...] = (
    (OutboxMessage.State.PENDING, True),
    (OutboxMessage.State.HELD, True),  # (urgent texts are never held; kept for completeness)
    (OutboxMessage.State.HELD, False),
    (OutboxMessage.State.PENDING, False),
)


def outbox_claim(*, channel: str, limit: int, now: datetime | None = None) -> list[int]:
    """Atomically take up to `limit` due rows of a channel: they become `sending` with a
    lease. Two workers never get the same row."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=int(conf.get("LEAVEN_OUTBOX_LEASE_SECONDS")))
    claimed: list[int] = []
    with transaction.atomic():
        for state, urgent in CLAIM_STEPS:
            if len(claimed) >= limit:
                break
            claimed += _claim_step(channel, state, urgent, limit - len(claimed), now, lease)
    return sorted(claimed)


def _claim_step(
    channel: str, state: str, urgent: bool, limit: int, now: datetime, lease: datetime
) -> list[int]:
    if connection.vendor == "postgresql":
        ids = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(state=state, channel=channel, urgent=urgent, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            OutboxMessage.objects.filter(pk__in=ids).update(
                state=OutboxMessage.State.SENDING, lease_until=lease
            )
        return ids
    # SQLite: the settings open every transaction IMMEDIATE, so this runs under the
    # database's write lock.
    table = OutboxMessage._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s, lease_until = %s "  # noqa: S608
            f"WHERE id IN (SELECT id FROM {table} WHERE state = %s AND channel = %s "
            "AND urgent = %s AND next_attempt_at <= %s ORDER BY next_attempt_at, id LIMIT %s) "
            "AND state = %s RETURNING id",
            [
                OutboxMessage.State.SENDING,
                adapt(lease),
                state,
                channel,
                urgent,
                adapt(now),
                limit,
                state,
            ],
        )
        return [row[0] for row in cursor.fetchall()]


def local_now(unit: OrgUnit | None, now: datetime) -> datetime:
    zone = ZoneInfo(unit.time_zone if unit is not None and unit.time_zone else "UTC")
    return now.astimezone(zone)


def quiet_release_at(unit: OrgUnit | None, now: datetime) -> datetime | None:
    """None when a non-urgent text may go now; else the next moment it may (9:00 local)."""
    start = int(conf.get("LEAVEN_QUIET_END_HOUR"))
    end = int(conf.get("LEAVEN_QUIET_START_HOUR"))
    local = local_now(unit, now)
    if start <= local.hour < end:
        return None
    day = local if local.hour >= end else local - timedelta(days=1)
    release = (day + timedelta(days=1)).replace(hour=start, minute=0, second=0, microsecond=0)
    return release.astimezone(ZoneInfo("UTC"))


@dataclass
class DrainResult:
    sent: int = 0
    suppressed: int = 0
    held: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.suppressed + self.held + self.retried + self.failed


def _rows_with(table: str, columns: str, column: str, values: set[str]) -> list[tuple[Any, ...]]:
    """`columns` of the rows of `table` whose `column` is one of `values`, in plain SQL:
    a batch holds thousands of values, and the ORM's per-value work costs more than the
    query."""
    found: list[tuple[Any, ...]] = []
    ordered = sorted(values)
    with connection.cursor() as cursor:
        for start in range(0, len(ordered), 900):
            chunk = ordered[start : start + 900]
            cursor.execute(
                f"SELECT {columns} FROM {table} "  # noqa: S608 (names are ours, values bound)
                f"WHERE {column} IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            found += cursor.fetchall()
    return found


def _contact_states(channel: str, indexes: set[str]) -> tuple[set[str], set[str], set[str]]:
    """(destinations nobody may send to, destinations with broadcast consent, destinations
    with round-the-clock alert consent: texts only), for a batch's destinations."""
    if channel == Channel.EMAIL:
        return (*_blocked_indexes(channel, indexes), set())
    blocked = {
        row[0]
        for row in _rows_with(
            SmsSuppression._meta.db_table, "number_index", "number_index", indexes
        )
    }
    consented: set[str] = set()
    urgent_ok: set[str] = set()
    for index, status, urgent in _rows_with(
        Phone._meta.db_table, "number_index, sms_status, urgent_alerts", "number_index", indexes
    ):
        if status == Phone.SMSStatus.OPTED_OUT:
            blocked.add(index)
        elif status == Phone.SMSStatus.OPTED_IN:
            consented.add(index)
            if urgent:
                urgent_ok.add(index)
    return blocked, consented, urgent_ok


def _recipient_units(messages: list[OutboxMessage]) -> dict[int, OrgUnit | None]:
    """For each non-urgent text of a batch, the unit whose time zone sets its quiet hours:
    the recipient's unit (households have none yet), else the message's own."""
    wanted = [m for m in messages if not m.urgent and m.kind != OutboxMessage.Kind.COMPLIANCE]
    if not wanted:
        return {}
    person_units = dict(
        Person.objects.filter(pk__in={m.person_id for m in wanted if m.person_id}).values_list(
            "pk", "owner_unit_id"
        )
    )
    unit_of = {
        m.pk: person_units.get(m.person_id) if m.person_id else m.owner_unit_id for m in wanted
    }
    units = OrgUnit.objects.in_bulk({u for u in unit_of.values() if u is not None})
    return {pk: units.get(unit_id) if unit_id else None for pk, unit_id in unit_of.items()}


def _blocked_indexes(channel: str, indexes: set[str]) -> tuple[set[str], set[str]]:
    """(destinations nobody may send to, destinations with broadcast consent)."""
    if channel == Channel.EMAIL:
        blocked = set(
            Email.objects.filter(
                address_index__in=indexes,
                status__in=[Email.Status.UNSUBSCRIBED, Email.Status.BOUNCING],
            ).values_list("address_index", flat=True)
        )
        consented = set(
            Email.objects.filter(
                address_index__in=indexes, status=Email.Status.SUBSCRIBED
            ).values_list("address_index", flat=True)
        )
        return blocked, consented
    blocked = set(
        SmsSuppression.objects.filter(number_index__in=indexes).values_list(
            "number_index", flat=True
        )
    ) | set(
        Phone.objects.filter(
            number_index__in=indexes, sms_status=Phone.SMSStatus.OPTED_OUT
        ).values_list("number_index", flat=True)
    )
    consented = set(
        Phone.objects.filter(
            number_index__in=indexes, sms_status=Phone.SMSStatus.OPTED_IN
        ).values_list("number_index", flat=True)
    )
    return blocked, consented


def email_footer(message: OutboxMessage) -> tuple[str, dict[str, str]]:
    """The footer text (unsubscribe link in the message's language, postal address) and the
    RFC 8058 headers for a message to a person's address."""
    address = str(conf.get("LEAVEN_POSTAL_ADDRESS"))
    with translation.override(message.language):
        lines = ["", "--"]
        headers: dict[str, str] = {}
        if message.email_id is not None:
            url = unsubscribe_url(email_id=message.email_id, language=message.language)
            lines.append(_("To stop these emails, open: %(url)s") % {"url": url})
            headers = {
                "List-Unsubscribe": f"<{url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
        if address:
            lines.append(address)
    return "\n".join(lines), headers


def _outgoing(message: OutboxMessage) -> Outgoing:
    if message.channel == Channel.EMAIL:
        footer, headers = email_footer(message)
        return Outgoing(
            key=message.idempotency_key,
            channel=message.channel,
            destination=message.destination,
            subject=message.subject,
            body=message.body + "\n" + footer,
            headers=headers,
        )
    return Outgoing(
        key=message.idempotency_key,
        channel=message.channel,
        destination=message.destination,
        subject="",
        body=message.body,
    )


def _finish(message_id: int, **fields: Any) -> None:
    """Record an outcome; only a row still `sending` (ours, under lease) is changed."""
    fields.setdefault("lease_until", None)
    OutboxMessage.objects.filter(pk=message_id, state=OutboxMessage.State.SENDING).update(**fields)


def _finish_sent(message_id: int, *, attempts: int, provider_id: str) -> None:
    """The hot path of `_finish` for a sent message, in one plain statement."""
    _finish_sent_many([(message_id, attempts, provider_id)])


def _finish_sent_many(sent: list[tuple[int, int, str]]) -> None:
    """Record several sent messages (id, attempts, provider id) in one transaction: one
    commit for all of them. Only rows still `sending` (ours, under lease) are changed."""
    if not sent:
        return
    table = OutboxMessage._meta.db_table
    at = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET state = %s, attempts = %s, provider_id = %s, "  # noqa: S608
            "sent_at = %s, lease_until = NULL, reconcile = %s, error_code = '' "
            "WHERE id = %s AND state = %s",
            [
                (
                    OutboxMessage.State.SENT,
                    attempts,
                    provider_id[:64],
                    at,
                    False,
                    message_id,
                    OutboxMessage.State.SENDING,
                )
                for message_id, attempts, provider_id in sent
            ],
        )


def outbox_process(
    *,
    channel: str,
    limit: int | None = None,
    now: datetime | None = None,
    transport: Transport | None = None,
    connections: int | None = None,
) -> DrainResult:
    """Claim one batch of a channel's due rows and deliver them. Email goes over
    `connections` connections at once (default LEAVEN_EMAIL_CONNECTIONS); `transport` is the
    first of them, the others come from the channel's configured transport."""
    now = now or timezone.now()
    release_expired(now=now)
    claimed_at = time.monotonic()
    ids = outbox_claim(
        channel=channel, limit=limit or int(conf.get("LEAVEN_OUTBOX_BATCH")), now=now
    )
    result = DrainResult()
    if not ids:
        return result
    messages = list(
        OutboxMessage.objects.filter(pk__in=ids)
        .defer("provider_id", "delivery_status", "error_code", "sent_at", "created_at")
        .order_by("pk")
    )
    indexes = {m.destination_index for m in messages}
    blocked, consented, urgent_ok = _contact_states(channel, indexes)
    # Quiet hours need the recipient's unit (its time zone); email and urgent texts never do.
    units = _recipient_units(messages) if channel == Channel.SMS else {}
    transport = transport or transport_for(channel)
    max_attempts = int(conf.get("LEAVEN_OUTBOX_MAX_ATTEMPTS"))
    lanes = (
        int(connections or conf.get("LEAVEN_EMAIL_CONNECTIONS")) if channel == Channel.EMAIL else 1
    )
    to_send: list[OutboxMessage] = []
    opened = False
    try:
        for message in messages:
            index = message.destination_index
            if message.kind != OutboxMessage.Kind.COMPLIANCE:
                needs_consent = message.kind in (
                    OutboxMessage.Kind.BROADCAST,
                    OutboxMessage.Kind.DIRECT,
                ) or (message.kind == OutboxMessage.Kind.TRANSACTIONAL and channel == Channel.SMS)
                if (
                    index in blocked
                    or (needs_consent and index not in consented)
                    or (message.urgent and index not in urgent_ok)
                ):
                    _finish(message.pk, state=OutboxMessage.State.SUPPRESSED, error_code="opt_out")
                    result.suppressed += 1
                    continue
                if channel == Channel.SMS and not message.urgent:
                    release = quiet_release_at(units.get(message.pk), now)
                    if release is not None:
                        _finish(
                            message.pk,
                            state=OutboxMessage.State.HELD,
                            next_attempt_at=release,
                            error_code="quiet_hours",
                        )
                        result.held += 1
                        continue
            to_send.append(message)
        if lanes > 1 and len(to_send) > 1:
            _send_parallel(to_send, transport, lanes, now, max_attempts, result)
            return result
        if channel == Channel.SMS and getattr(transport, "reconciles", False) and to_send:
            _send_reconciled(to_send, transport, now, max_attempts, result, claimed_at)
            return result
        for message in to_send:
            outgoing = _outgoing(message)
            try:
                if not opened:
                    transport.open()
                    opened = True
                provider_id = transport.lookup(outgoing) if message.reconcile else None
                if provider_id is None:
                    provider_id = transport.send(outgoing)
            except SendError as error:
                _record_error(message, error, now, max_attempts, result)
                continue
            _finish_sent(message.pk, attempts=message.attempts + 1, provider_id=provider_id)
            result.sent += 1
    finally:
        if opened:
            transport.close()
    return result


def _record_error(
    message: OutboxMessage, error: SendError, now: datetime, max_attempts: int, result: DrainResult
) -> None:
    attempts = message.attempts + 1
    if error.permanent or attempts >= max_attempts:
        _finish(
            message.pk,
            state=OutboxMessage.State.FAILED,
            attempts=attempts,
            error_code=error.code,
        )
        result.failed += 1
        _apply_permanent(message, error)
    else:
        backoff = timedelta(seconds=30 * 2 ** (attempts - 1))
        _finish(
            message.pk,
            state=OutboxMessage.State.PENDING,
            attempts=attempts,
            error_code=error.code,
            next_attempt_at=now + backoff,
        )
        result.retried += 1


_LANE_DONE = object()


def _send_parallel(
    to_send: list[OutboxMessage],
    first: Transport,
    lanes: int,
    now: datetime,
    max_attempts: int,
    result: DrainResult,
) -> None:
    """Send over several connections at once, one thread per connection.

    Each thread renders its next message (footer, unsubscribe link) and hands it to the
    provider; then it waits until that outcome is recorded before it sends another. This
    thread records outcomes: it takes every outcome reported so far (at most one per
    connection) and commits them together in one transaction, then lets those threads go
    on. So at most one message per connection is ever between "accepted by the provider"
    and "recorded", exactly as with one connection sending one message at a time: a crash
    leaves at most that many rows `sending`, to be reconciled after their lease. Recording
    several connections' outcomes in one commit saves commits without widening that
    window; recording a run of one connection's messages at once would widen it, and is
    not done."""
    count = min(lanes, len(to_send))
    transports = [first] + [transport_for(first.channel) for _ in range(count - 1)]
    work: queue.SimpleQueue[OutboxMessage | None] = queue.SimpleQueue()
    outcomes: queue.SimpleQueue[Any] = queue.SimpleQueue()
    stopping = threading.Event()
    for item in to_send:
        work.put(item)
    for _lane in range(count):
        work.put(None)

    def lane(transport: Transport) -> None:
        opened = False
        # Held while this connection's last outcome waits to be recorded: released by the
        # recording thread, taken again here before the next message goes.
        recorded = threading.Lock()
        recorded.acquire()
        try:
            while not stopping.is_set():
                message = work.get()
                if message is None:
                    break
                outgoing = _outgoing(message)
                try:
                    if not opened:
                        transport.open()
                        opened = True
                    provider_id = transport.lookup(outgoing) if message.reconcile else None
                    if provider_id is None:
                        provider_id = transport.send(outgoing)
                except SendError as error:
                    outcomes.put((message, None, error, recorded))
                else:
                    outcomes.put((message, provider_id, None, recorded))
                while not recorded.acquire(timeout=0.5) and not stopping.is_set():
                    pass
        except BaseException as exc:  # noqa: BLE001 - re-raised by the recording thread
            outcomes.put((None, None, exc, None))
        finally:
            if opened:
                transport.close()
            outcomes.put(_LANE_DONE)

    threads = [
        threading.Thread(target=lane, args=(t,), name=f"outbox-lane-{i}", daemon=True)
        for i, t in enumerate(transports)
    ]
    for thread in threads:
        thread.start()
    failure: BaseException | None = None
    done = 0
    try:
        while done < count:
            ready = [outcomes.get()]
            while True:
                try:
                    ready.append(outcomes.get_nowait())
                except queue.Empty:
                    break
            sent: list[tuple[int, int, str]] = []
            waiting: list[threading.Lock] = []
            try:
                for outcome in ready:
                    if outcome is _LANE_DONE:
                        done += 1
                        continue
                    message, provider_id, error, recorded = outcome
                    if recorded is not None:
                        waiting.append(recorded)
                    if message is None:
                        failure = failure or error
                        stopping.set()
                    elif error is not None:
                        _record_error(message, error, now, max_attempts, result)
                    else:
                        sent.append((message.pk, message.attempts + 1, provider_id))
                _finish_sent_many(sent)
                result.sent += len(sent)
            finally:
                for recorded in waiting:
                    recorded.release()
    except BaseException:
        stopping.set()
        raise
    for thread in threads:
        thread.join()
    if failure is not None:
        raise failure


def _send_reconciled(
    to_send: list[OutboxMessage],
    first: Transport,
    now: datetime,
    max_attempts: int,
    result: DrainResult,
    claimed_at: float,
) -> None:
    """Send a batch of texts through a transport whose `lookup` is authoritative, over up to
    LEAVEN_SMS_CONNECTIONS threads (when the transport can `fork`), then record every
    outcome in one commit.

    The reconciliation rule is what makes one commit per batch safe: if the worker dies
    after the provider accepted some texts and before that commit, those rows stay
    `sending` until their lease runs out, are then released with `reconcile` set, and the
    next attempt finds each one at the provider and records it without sending it again.
    A text is handed over only while at least half of the lease remains, so no other worker
    can take a row back while it is being sent; rows not tried by then go back to pending
    as they were, and the one in flight when a transport fails unexpectedly stays `sending`
    to be reconciled."""
    deadline = claimed_at + int(conf.get("LEAVEN_OUTBOX_LEASE_SECONDS")) / 2
    fork = getattr(first, "fork", None)
    lanes = max(1, int(conf.get("LEAVEN_SMS_CONNECTIONS"))) if fork is not None else 1
    count = min(lanes, len(to_send))
    transports = [first] + [fork() for _ in range(count - 1)] if fork is not None else [first]
    work = iter(to_send)
    taking = threading.Lock()
    # list.append is atomic: the lanes report into these without a lock.
    outcomes: list[tuple[OutboxMessage, str | None, SendError | None]] = []
    failures: list[tuple[BaseException, OutboxMessage | None]] = []

    def lane(transport: Transport) -> None:
        opened = False
        message: OutboxMessage | None = None
        try:
            while not failures and time.monotonic() < deadline:
                with taking:
                    message = next(work, None)
                if message is None:
                    break
                outgoing = _outgoing(message)
                try:
                    if not opened:
                        transport.open()
                        opened = True
                    provider_id = transport.lookup(outgoing) if message.reconcile else None
                    if provider_id is None:
                        provider_id = transport.send(outgoing)
                except SendError as error:
                    outcomes.append((message, None, error))
                else:
                    outcomes.append((message, provider_id, None))
                message = None
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after recording
            failures.append((exc, message))
        finally:
            if opened:
                transport.close()

    if count == 1:
        lane(transports[0])
    else:
        threads = [
            threading.Thread(target=lane, args=(t,), name=f"outbox-sms-{i}", daemon=True)
            for i, t in enumerate(transports)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    reported = {message.pk for message, _id, _error in outcomes}
    in_flight = {message.pk for _exc, message in failures if message is not None}
    untried = [m.pk for m in to_send if m.pk not in reported and m.pk not in in_flight]
    sent = [
        (message.pk, message.attempts + 1, provider_id)
        for message, provider_id, error in outcomes
        if error is None and provider_id is not None
    ]
    with transaction.atomic():
        _finish_sent_many(sent)
        for message, _id, error in outcomes:
            if error is not None:
                _record_error(message, error, now, max_attempts, result)
        if untried:
            OutboxMessage.objects.filter(pk__in=untried, state=OutboxMessage.State.SENDING).update(
                state=OutboxMessage.State.PENDING, lease_until=None
            )
    result.sent += len(sent)
    if failures:
        raise failures[0][0]


def _apply_permanent(message: OutboxMessage, error: SendError) -> None:
    if error.opted_out and message.channel == Channel.SMS:
        cancelled = sms_suppress(number_index=message.destination_index, language=message.language)
        audit_record(
            actor=None,
            actor_label="provider",
            verb="sms.opt_out",
            object_type="person" if message.person_id else "outboxmessage",
            object_id=message.person_id or message.pk,
            unit=message.owner_unit,
            detail={"message": message.pk, "error": error.code, "cancelled": cancelled},
        )
    if error.bouncing and message.channel == Channel.EMAIL:
        email_mark_bouncing(actor=None, address_index=message.destination_index)


def outbox_drain(*, channel: str, max_batches: int = 50) -> DrainResult:
    """Deliver due rows, batch after batch, until none are left or `max_batches` ran."""
    total = DrainResult()
    transport = transport_for(channel)
    for _batch in range(max_batches):
        result = outbox_process(channel=channel, transport=transport)
        for name in ("sent", "suppressed", "held", "retried", "failed"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        if not result.handled:
            break
    return total


def outbox_has_work(*, now: datetime | None = None) -> bool:
    """Whether anything is due now or still leased (a worker run with --until-idle waits)."""
    now = now or timezone.now()
    return OutboxMessage.objects.filter(
        Q(state=OutboxMessage.State.PENDING, next_attempt_at__lte=now)
        | Q(state=OutboxMessage.State.HELD, next_attempt_at__lte=now)
        | Q(state=OutboxMessage.State.SENDING)
    ).exists()


# --------------------------------------------------------------------------- opt-outs


def sms_suppress(*, number_index: str, language: str = "en") -> int:
    """Stop all texts to a number: the suppression list, every phone with that number, and
    every text still queued to it. Returns how many queued texts were cancelled."""
    SmsSuppression.objects.get_or_create(number_index=number_index, defaults={"language": language})
    Phone.objects.filter(number_index=number_index).exclude(
        sms_status=Phone.SMSStatus.OPTED_OUT
    ).update(sms_status=Phone.SMSStatus.OPTED_OUT, consent_at=timezone.now())
    return int(
        OutboxMessage.objects.filter(
            channel=Channel.SMS,
            destination_index=number_index,
            state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.HELD],
        )
        .exclude(kind=OutboxMessage.Kind.COMPLIANCE)
        .update(state=OutboxMessage.State.SUPPRESSED, error_code="opt_out")
    )


@functools.cache
def _unsubscribe_path() -> tuple[str, str]:
    """The unsubscribe path around its token (reversing it for each message is slow)."""
    marker = "TOKEN"
    path = reverse("messaging:unsubscribe", kwargs={"token": marker})
    before, _sep, after = path.partition(marker)
    return before, after


def delivery_warm_up() -> None:
    """Load what the first message would otherwise load (the URL configuration, for
    unsubscribe links), so a worker pays it once at start, before it claims anything."""
    _unsubscribe_path()


def unsubscribe_url(*, email_id: int, language: str) -> str:
    token = signing.dumps({"e": email_id, "l": language}, salt=UNSUBSCRIBE_SALT, compress=True)
    base = str(conf.get("LEAVEN_PUBLIC_URL")).rstrip("/")
    before, after = _unsubscribe_path()
    return f"{base}{before}{token}{after}"


def unsubscribe_token_read(token: str) -> dict[str, Any] | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), int):
        return None
    return data


@transaction.atomic
def email_unsubscribe(*, token: str) -> bool:
    """The person's own unsubscribe (one click, no sign-in): every record of that address is
    unsubscribed and nothing more is sent to it. False for a bad token."""
    data = unsubscribe_token_read(token)
    if data is None:
        return False
    email = Email.objects.filter(pk=data["e"]).select_related("person").first()
    if email is None:
        return True  # the address is gone: nothing can be sent to it anyway
    index = email.address_index
    changed = list(
        Email.objects.filter(address_index=index)
        .exclude(status=Email.Status.UNSUBSCRIBED)
        .values_list("pk", "person_id", "person__owner_unit_id")
    )
    Email.objects.filter(pk__in=[c[0] for c in changed]).update(
        status=Email.Status.UNSUBSCRIBED, consent_at=timezone.now()
    )
    cancelled = OutboxMessage.objects.filter(
        channel=Channel.EMAIL,
        destination_index=index,
        state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.HELD],
    ).update(state=OutboxMessage.State.SUPPRESSED, error_code="opt_out")
    for email_id, person_id, unit_id in changed:
        audit_record(
            actor=None,
            actor_label="recipient",
            verb="email.unsubscribed",
            object_type="person",
            object_id=person_id,
            unit=OrgUnit.objects.filter(pk=unit_id).first(),
            detail={"email": email_id, "cancelled": cancelled},
        )
    return True


@transaction.atomic
def email_mark_bouncing(*, actor: Any, address_index: str) -> int:
    """A hard bounce: every record of the address is marked bouncing (an unsubscribe stays
    an unsubscribe)."""
    changed = list(
        Email.objects.filter(
            address_index=address_index, status=Email.Status.SUBSCRIBED
        ).values_list("pk", "person_id")
    )
    Email.objects.filter(pk__in=[c[0] for c in changed]).update(status=Email.Status.BOUNCING)
    for email_id, person_id in changed:
        audit_record(
            actor=actor,
            verb="email.bouncing",
            object_type="person",
            object_id=person_id,
            detail={"email": email_id},
        )
    return len(changed)


# --------------------------------------------------------------------------- inbound texts


def _sms_reply(*, number: str, language: str, text: str, key: str, unit: OrgUnit | None) -> None:
    _write_row(
        owner_unit=unit,
        person=None,
        channel=Channel.SMS,
        destination=number,
        language=language,
        subject="",
        body=text,
        urgent=False,
        kind=OutboxMessage.Kind.COMPLIANCE,
        idempotency_key=key,
    )
    _drain_on_commit(Channel.SMS)


def help_text(language: str) -> str:
    with translation.override(language):
        parts = [str(conf.get("LEAVEN_ORG_NAME"))]
        contact = str(conf.get("LEAVEN_ORG_CONTACT"))
        if contact:
            parts.append(_("Contact: %(contact)s.") % {"contact": contact})
        frequency = str(conf.get("LEAVEN_SMS_FREQUENCY")) or _("Message frequency varies.")
        parts.append(frequency)
        parts.append(_("Reply STOP to stop. Msg & data rates may apply."))
        if language == "es":
            parts[-1] = _("Reply PARAR to stop. Msg & data rates may apply.")
        return " ".join(parts)


def _opt_out_text(language: str) -> str:
    with translation.override(language):
        return _("%(org)s: you will get no more texts from us. Reply START to subscribe again.") % {
            "org": conf.get("LEAVEN_ORG_NAME")
        }


def _opt_in_text(language: str) -> str:
    with translation.override(language):
        return _("%(org)s: you are subscribed to our texts again. Reply STOP to stop.") % {
            "org": conf.get("LEAVEN_ORG_NAME")
        }


@dataclass(frozen=True)
class InboundResult:
    message: InboundMessage
    created: bool


# Other apps read plain replies meant for them (a responder's "1" to an alert). Each handler
# gets the stored reply and returns a short code of what it did, or "" to pass.
ReplyHandler = Callable[[InboundMessage], str]
_REPLY_HANDLERS: list[ReplyHandler] = []


def reply_handler_register(handler: ReplyHandler) -> None:
    if handler not in _REPLY_HANDLERS:
        _REPLY_HANDLERS.append(handler)


def _reply_handle(message: InboundMessage) -> str:
    for handler in _REPLY_HANDLERS:
        handled = handler(message)
        if handled:
            return handled
    return ""


@transaction.atomic
def inbound_receive(*, message_sid: str, from_number: str, body: str) -> InboundResult:
    """Store an incoming text once (by the provider's message id) and act on it: an opt-out
    word suppresses the number organization-wide, cancels its queued texts, is audited and
    gets one confirmation in the word's language; HELP gets the help text; START lifts the
    number's opt-out; an opt-out word inside a sentence waits for review."""
    existing = InboundMessage.objects.filter(message_sid=message_sid).first()
    if existing is not None:
        return InboundResult(existing, False)
    try:
        number = normalize.phone_normalize(from_number)
    except ValidationError:
        number = from_number.strip()
    index = crypto.blind_index(number)
    phone = Phone.objects.filter(number_index=index).select_related("person__owner_unit").first()
    person = phone.person if phone is not None else None
    unit = person.owner_unit if person is not None else None
    found = keywords.classify(body)
    language = found.language if found.kind else (person.language if person else "en")
    kind = {
        "opt_out": InboundMessage.Kind.OPT_OUT,
        "opt_in": InboundMessage.Kind.OPT_IN,
        "help": InboundMessage.Kind.HELP,
        "review": InboundMessage.Kind.REVIEW,
    }.get(found.kind, InboundMessage.Kind.REPLY)
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                message_sid=message_sid[:64],
                from_number=number,
                from_index=index,
                body=body,
                person=person,
                owner_unit=unit,
                kind=kind,
                review=InboundMessage.Review.OPEN if kind == InboundMessage.Kind.REVIEW else "",
                language=language,
            )
    except IntegrityError:
        return InboundResult(InboundMessage.objects.get(message_sid=message_sid), False)
    detail: dict[str, Any] = {"inbound": message.pk, "kind": kind}
    if kind == InboundMessage.Kind.OPT_OUT:
        detail["cancelled"] = sms_suppress(number_index=index, language=language)
        _sms_reply(
            number=number,
            language=language,
            text=_opt_out_text(language),
            key=f"optout:{message.pk}",
            unit=unit,
        )
    elif kind == InboundMessage.Kind.OPT_IN:
        detail["resubscribed"] = sms_resubscribe_from_sender(number_index=index)
        _sms_reply(
            number=number,
            language=language,
            text=_opt_in_text(language),
            key=f"optin:{message.pk}",
            unit=unit,
        )
    elif kind == InboundMessage.Kind.HELP:
        _sms_reply(
            number=number,
            language=language,
            text=help_text(language),
            key=f"help:{message.pk}",
            unit=unit,
        )
    elif kind == InboundMessage.Kind.REPLY and person is not None:
        handled = _reply_handle(message)
        if handled:
            # Dealt with on arrival: nobody needs to answer it, and it is kept only as long
            # as the alerts it answers (see services_retention).
            detail["handled"] = handled
            message.kind, message.handled_at = InboundMessage.Kind.ANSWER, timezone.now()
            message.save(update_fields=["kind", "handled_at"])
            detail["kind"] = message.kind
    audit_record(
        actor=None,
        actor_label="sms",
        verb=f"sms.{message.kind}",
        object_type="person" if person else "inbound",
        object_id=person.pk if person else message.pk,
        unit=unit,
        detail=detail,
    )
    return InboundResult(message, True)


def sms_resubscribe_from_sender(*, number_index: str) -> int:
    """Lift an SMS opt-out. Called only for a START/UNSTOP texted from that same number:
    no page, import or API can do this."""
    SmsSuppression.objects.filter(number_index=number_index).delete()
    return int(
        Phone.objects.filter(
            number_index=number_index, sms_status=Phone.SMSStatus.OPTED_OUT
        ).update(sms_status=Phone.SMSStatus.OPTED_IN, consent_at=timezone.now())
    )


@transaction.atomic
def inbound_review_resolve(*, actor: Any, message: InboundMessage, opt_out: bool) -> InboundMessage:
    """A person decides what a text with an opt-out word inside a sentence meant. A text past
    its retention period can still be decided on: its number is gone, so an opt-out then
    stops texts by the number's blind index and sends no confirmation."""
    if message.owner_unit is None or not access.can(
        actor, permissions.MESSAGING_SEND, message.owner_unit
    ):
        raise ValidationError(_("You cannot act on this message."))
    if message.review != InboundMessage.Review.OPEN:
        raise ValidationError(_("This message has already been reviewed."))
    detail: dict[str, Any] = {"inbound": message.pk, "opt_out": opt_out}
    if opt_out:
        detail["cancelled"] = sms_suppress(
            number_index=message.from_index, language=message.language
        )
        if message.from_number:
            _sms_reply(
                number=message.from_number,
                language=message.language,
                text=_opt_out_text(message.language),
                key=f"optout:{message.pk}",
                unit=message.owner_unit,
            )
    message.review = InboundMessage.Review.OPTED_OUT if opt_out else InboundMessage.Review.KEPT
    message.handled_at, message.handled_by = timezone.now(), actor
    message.save(update_fields=["review", "handled_at", "handled_by"])
    audit_record(
        actor=actor,
        verb="sms.reviewed",
        object_type="person" if message.person_id else "inbound",
        object_id=message.person_id or message.pk,
        unit=message.owner_unit,
        detail=detail,
    )
    return message


@transaction.atomic
def inbound_reply(*, actor: Any, message: InboundMessage, body: str) -> OutboxMessage:
    """An organizer answers a text one to one. Never to a number that opted out."""
    if message.owner_unit is None or not access.can(
        actor, permissions.MESSAGING_SEND, message.owner_unit
    ):
        raise ValidationError(_("You cannot answer this message."))
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write a reply.")})
    if len(body) > 1600:
        raise ValidationError({"body": _("A text can hold at most 1,600 characters.")})
    if SmsSuppression.objects.filter(number_index=message.from_index).exists():
        raise ValidationError(_("This number has opted out of texts."))
    if not message.from_number:
        raise ValidationError(
            _("This text is past its retention period: answer a newer text from this person.")
        )
    count = OutboxMessage.objects.filter(idempotency_key__startswith=f"reply:{message.pk}:").count()
    row = _write_row(
        owner_unit=message.owner_unit,
        person=message.person,
        channel=Channel.SMS,
        destination=message.from_number,
        language=message.language,
        subject="",
        body=body,
        urgent=False,
        kind=OutboxMessage.Kind.DIRECT,
        idempotency_key=f"reply:{message.pk}:{count + 1}",
    )
    message.handled_at, message.handled_by = timezone.now(), actor
    message.save(update_fields=["handled_at", "handled_by"])
    audit_record(
        actor=actor,
        verb="sms.replied",
        object_type="person" if message.person_id else "inbound",
        object_id=message.person_id or message.pk,
        unit=message.owner_unit,
        detail={"inbound": message.pk, "message": row.pk},
    )
    _drain_on_commit(Channel.SMS)
    return row


# --------------------------------------------------------------------------- status callbacks

TWILIO_FINAL_FAILURES = {"failed", "undelivered"}


@transaction.atomic
def delivery_status_apply(
    *, provider_id: str, status: str, error_code: str = "", callback_key: str = ""
) -> bool:
    """Apply a provider's delivery report once. A replay of the same report changes
    nothing. Returns whether it was applied."""
    key = (callback_key or f"{provider_id}:{status}:{error_code}")[:120]
    try:
        with transaction.atomic():
            ProviderCallback.objects.create(key=key)
    except IntegrityError:
        return False
    message = OutboxMessage.objects.filter(provider_id=provider_id).first()
    if message is None:
        return True
    fields: dict[str, Any] = {"delivery_status": status[:20]}
    if status in TWILIO_FINAL_FAILURES:
        fields["state"] = OutboxMessage.State.FAILED
        fields["error_code"] = f"twilio_{error_code or status}"[:40]
    OutboxMessage.objects.filter(pk=message.pk).update(**fields)
    if error_code == "21610":
        sms_suppress(number_index=message.destination_index, language=message.language)
    audit_record(
        actor=None,
        actor_label="provider",
        verb="outbox.delivery_status",
        object_type="outboxmessage",
        object_id=message.pk,
        unit=message.owner_unit,
        detail={"status": status[:20], "error": error_code[:10]},
    )
    return True


# --------------------------------------------------------------------------- email provider reports

# anymail's normalized event types that stop mail to an address.
EMAIL_BOUNCE_EVENTS = {"bounced", "rejected"}
EMAIL_STOP_EVENTS = {"complained", "unsubscribed"}


@transaction.atomic
def email_provider_event(
    *, esp: str, event_id: str, event_type: str, recipient: str, message_id: str = ""
) -> bool:
    """Apply an email provider's tracking report once (a replay changes nothing): the
    delivery status is kept on the row it names; a hard bounce marks the address bouncing;
    a spam complaint or an unsubscribe at the provider unsubscribes every record of the
    address (the person's own word). Returns whether it was applied."""
    key = f"{esp}:{event_id or message_id + ':' + event_type}"[:120]
    try:
        with transaction.atomic():
            ProviderCallback.objects.create(key=key)
    except IntegrityError:
        return False
    message = (
        OutboxMessage.objects.filter(provider_id=message_id[:64], channel=Channel.EMAIL).first()
        if message_id
        else None
    )
    if message is not None:
        OutboxMessage.objects.filter(pk=message.pk).update(delivery_status=event_type[:20])
    index = ""
    if recipient:
        try:
            index = crypto.blind_index(normalize.email_normalize(recipient))
        except ValidationError:
            index = ""
    if not index and message is not None:
        index = message.destination_index
    changed = 0
    if index and event_type in EMAIL_BOUNCE_EVENTS:
        changed = email_mark_bouncing(actor=None, address_index=index)
    elif index and event_type in EMAIL_STOP_EVENTS:
        changed = _email_unsubscribe_index(index)
    audit_record(
        actor=None,
        actor_label="provider",
        verb="email.provider_event",
        object_type="outboxmessage" if message else "email",
        object_id=message.pk if message else "",
        unit=message.owner_unit if message else None,
        detail={"esp": esp[:20], "event": event_type[:20], "changed": changed},
    )
    return True


def _email_unsubscribe_index(index: str) -> int:
    changed = list(
        Email.objects.filter(address_index=index)
        .exclude(status=Email.Status.UNSUBSCRIBED)
        .values_list("pk", "person_id")
    )
    Email.objects.filter(pk__in=[c[0] for c in changed]).update(
        status=Email.Status.UNSUBSCRIBED, consent_at=timezone.now()
    )
    OutboxMessage.objects.filter(
        channel=Channel.EMAIL,
        destination_index=index,
        state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.HELD],
    ).update(state=OutboxMessage.State.SUPPRESSED, error_code="opt_out")
    for email_id, person_id in changed:
        audit_record(
            actor=None,
            actor_label="provider",
            verb="email.unsubscribed",
            object_type="person",
            object_id=person_id,
            detail={"email": email_id},
        )
    return len(changed)

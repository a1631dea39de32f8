"""The API's writes in Action Network's terms, built on the people and events services:
the person signup helper, partial updates, taggings, events and the record-attendance
helper. Every write goes through the domain service, which checks the key's rights and
audits it with the key as the actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from leaven.api.services import identifier_add_foreign
from leaven.core.models import OrgUnit
from leaven.events import services as event_services
from leaven.events.models import RSVP, Event
from leaven.people import normalize
from leaven.people import services as people_services
from leaven.people.models import Email, Person, Phone, Tag, Tagging
from leaven.people.selectors import person_queryset_for_actor, tags_for_actor

AN_EMAIL_STATUS = {
    "subscribed": Email.Status.SUBSCRIBED,
    "unsubscribed": Email.Status.UNSUBSCRIBED,
    "bouncing": Email.Status.BOUNCING,
}
AN_PHONE_STATUS = {
    "subscribed": Phone.SMSStatus.OPTED_IN,
    "unsubscribed": Phone.SMSStatus.OPTED_OUT,
}


@dataclass
class ContactIn:
    value: str
    status: str | None  # Action Network's word, or None when the client gave none
    primary: bool = False


@dataclass
class SignupResult:
    person: Person
    created: bool


def _contacts(items: list[dict[str, Any]] | None, key: str) -> list[ContactIn]:
    result = []
    for item in items or []:
        if not isinstance(item, dict):
            continue
        raw = item.get(key)
        if raw is None and key == "address":
            raw = item.get("email_address")
        if raw is None or str(raw).strip() == "":
            continue
        status = item.get("status")
        result.append(
            ContactIn(
                str(raw).strip(),
                str(status).lower() if isinstance(status, str) else None,
                bool(item.get("primary")),
            )
        )
    return result


def _clean_emails(items: list[ContactIn]) -> list[ContactIn]:
    return [ContactIn(normalize.email_normalize(c.value), c.status, c.primary) for c in items]


def _clean_phones(items: list[ContactIn]) -> list[ContactIn]:
    return [ContactIn(normalize.phone_normalize(c.value), c.status, c.primary) for c in items]


def _language(data: dict[str, Any], default: str) -> str:
    spoken = data.get("languages_spoken")
    if isinstance(spoken, list) and spoken and isinstance(spoken[0], str) and spoken[0].strip():
        return spoken[0].strip().lower()[:16]
    return default


def _custom(data: dict[str, Any]) -> dict[str, Any] | None:
    fields = data.get("custom_fields")
    if not isinstance(fields, dict):
        return None
    return {
        str(key)[:50]: value
        for key, value in fields.items()
        if isinstance(value, (str, int, float, bool)) or value is None
    }


def _apply_contacts(
    *, actor: Any, person: Person, emails: list[ContactIn], phones: list[ContactIn]
) -> None:
    """Add new emails and phones, apply the consent the client reports. Consent is created
    only when the client says `subscribed`; an unsubscribe or opt-out is never lifted."""
    for email in emails:
        existing = next((row for row in person.emails.all() if row.address == email.value), None)
        wanted = AN_EMAIL_STATUS.get(email.status or "")
        if existing is None:
            people_services.email_add(
                actor=actor,
                person=person,
                data=people_services.EmailInput(
                    address=email.value,
                    status=wanted or Email.Status.NONE,
                    is_primary=email.primary,
                    source="api",
                ),
            )
        elif wanted == Email.Status.SUBSCRIBED:
            people_services.contact_consent_merge(
                actor=actor, person=person, email=email.value, email_consent=True, source="api"
            )
        elif wanted == Email.Status.UNSUBSCRIBED and existing.status != wanted:
            people_services.email_update(
                actor=actor,
                email=existing,
                address=existing.address,
                status=Email.Status.UNSUBSCRIBED,
                is_primary=existing.is_primary,
            )
    for phone in phones:
        existing_phone = next(
            (row for row in person.phones.all() if row.number == phone.value), None
        )
        wanted_sms = AN_PHONE_STATUS.get(phone.status or "")
        if existing_phone is None:
            people_services.phone_add(
                actor=actor,
                person=person,
                data=people_services.PhoneInput(
                    number=phone.value,
                    sms_status=wanted_sms or Phone.SMSStatus.NONE,
                    is_primary=phone.primary,
                    source="api",
                ),
            )
        elif wanted_sms == Phone.SMSStatus.OPTED_IN:
            people_services.contact_consent_merge(
                actor=actor, person=person, phone=phone.value, sms_consent=True, source="api"
            )
        elif wanted_sms == Phone.SMSStatus.OPTED_OUT and existing_phone.sms_status != wanted_sms:
            people_services.phone_update(
                actor=actor,
                phone=existing_phone,
                number=existing_phone.number,
                kind=existing_phone.kind,
                sms_status=Phone.SMSStatus.OPTED_OUT,
                urgent_alerts=existing_phone.urgent_alerts,
                is_primary=existing_phone.is_primary,
            )


def _match(*, actor: Any, emails: list[ContactIn], phones: list[ContactIn]) -> Person | None:
    """The person the key may see with the first email, else the first phone."""
    visible = person_queryset_for_actor(actor=actor)
    for email in emails:
        ids = people_services.person_find_by_contact(email=email.value)
        found = visible.filter(pk__in=ids).order_by("pk").first()
        if found is not None:
            return found
    for phone in phones:
        ids = people_services.person_find_by_contact(phone=phone.value)
        found = visible.filter(pk__in=ids).order_by("pk").first()
        if found is not None:
            return found
    return None


def _person_update_fields(*, actor: Any, person: Person, data: dict[str, Any]) -> None:
    given = data.get("given_name")
    family = data.get("family_name")
    custom = _custom(data)
    language = _language(data, person.language)
    new_given = given.strip() if isinstance(given, str) and given.strip() else person.given_name
    new_family = family.strip() if isinstance(family, str) else person.family_name
    if custom is not None:
        custom = {**(person.custom_fields or {}), **custom}
        custom = {key: value for key, value in custom.items() if value is not None}
    if (
        new_given != person.given_name
        or new_family != person.family_name
        or language != person.language
        or (custom is not None and custom != person.custom_fields)
    ):
        people_services.person_update(
            actor=actor,
            person=person,
            given_name=new_given,
            family_name=new_family,
            preferred_name=person.preferred_name,
            pronouns=person.pronouns,
            language=language,
            custom_fields=custom,
        )


def _tag_by_name(*, actor: Any, unit: OrgUnit, name: str) -> Tag:
    name = normalize.nfc(name)[:100]
    visible = tags_for_actor(actor=actor).filter(name=name).order_by("-owner_unit__depth").first()
    if visible is not None:
        return visible
    return people_services.tag_create(actor=actor, owner_unit=unit, name=name)


@transaction.atomic
def person_signup(
    *,
    actor: Any,
    unit: OrgUnit,
    person: dict[str, Any],
    add_tags: list[str] | None = None,
    remove_tags: list[str] | None = None,
) -> SignupResult:
    """Action Network's person signup helper: find the person by email, then by phone,
    among those the key may see, and update them; otherwise create them in the key's
    unit. Tags are added by name (made in the key's unit when new)."""
    emails = _clean_emails(_contacts(person.get("email_addresses"), "address"))
    phones = _clean_phones(_contacts(person.get("phone_numbers"), "number"))
    if not emails and not phones:
        raise ValidationError(_("A person needs an email address or a phone number."))
    found = _match(actor=actor, emails=emails, phones=phones)
    created = found is None
    if found is None:
        given = person.get("given_name")
        family = person.get("family_name")
        given_name = given.strip() if isinstance(given, str) and given.strip() else ""
        if not given_name:
            # Action Network allows a person without a name; Leaven files them by a
            # placeholder a person can correct.
            given_name = "?"
        found = people_services.person_create(
            actor=actor,
            owner_unit=unit,
            given_name=given_name,
            family_name=family.strip() if isinstance(family, str) else "",
            language=_language(person, "en"),
            source="api",
            custom_fields={k: v for k, v in (_custom(person) or {}).items() if v is not None},
        )
    else:
        _person_update_fields(actor=actor, person=found, data=person)
    _apply_contacts(actor=actor, person=found, emails=emails, phones=phones)
    for name in add_tags or []:
        if isinstance(name, str) and name.strip():
            tag = _tag_by_name(actor=actor, unit=unit, name=name)
            people_services.person_tag(actor=actor, person=found, tag=tag)
    for name in remove_tags or []:
        if isinstance(name, str) and name.strip():
            tag_obj = tags_for_actor(actor=actor).filter(name=normalize.nfc(name)).first()
            if tag_obj is not None:
                people_services.person_untag(actor=actor, person=found, tag=tag_obj)
    identifiers = person.get("identifiers")
    if isinstance(identifiers, list):
        identifier_add_foreign(model=Person, pk=found.pk, identifiers=identifiers)
    found.refresh_from_db()
    return SignupResult(found, created)


@transaction.atomic
def person_put(*, actor: Any, person: Person, data: dict[str, Any]) -> Person:
    """A partial update: only the fields given change."""
    _person_update_fields(actor=actor, person=person, data=data)
    emails = _clean_emails(_contacts(data.get("email_addresses"), "address"))
    phones = _clean_phones(_contacts(data.get("phone_numbers"), "number"))
    _apply_contacts(actor=actor, person=person, emails=emails, phones=phones)
    for name in data.get("add_tags") or []:
        if isinstance(name, str) and name.strip():
            tag = _tag_by_name(actor=actor, unit=person.owner_unit, name=name)
            people_services.person_tag(actor=actor, person=person, tag=tag)
    identifiers = data.get("identifiers")
    if isinstance(identifiers, list):
        identifier_add_foreign(model=Person, pk=person.pk, identifiers=identifiers)
    person.refresh_from_db()
    return person


@transaction.atomic
def tagging_create(*, actor: Any, tag: Tag, person: Person) -> Tagging:
    return people_services.person_tag(actor=actor, person=person, tag=tag)


@transaction.atomic
def tagging_delete(*, actor: Any, tagging: Tagging) -> None:
    people_services.person_untag(actor=actor, person=tagging.person, tag=tagging.tag)


def parse_when(value: Any, time_zone: str) -> datetime | None:
    """Action Network's dates: ISO 8601 with Z, or "YYYY-MM-DD HH:MM:SS" in the unit's
    time zone."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValidationError(_("Use a date such as 2026-05-01T18:00:00Z."))
    try:
        moment = parse_datetime(value.strip().replace(" ", "T", 1))
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationError(_("Use a date such as 2026-05-01T18:00:00Z."))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(time_zone))
    return moment


def _location_text(location: Any) -> str:
    if not isinstance(location, dict):
        return ""
    parts: list[str] = []
    for key in ("venue",):
        if isinstance(location.get(key), str):
            parts.append(location[key])
    lines = location.get("address_lines")
    if isinstance(lines, list):
        parts.extend(str(line) for line in lines if line)
    place = " ".join(
        str(location[key])
        for key in ("locality", "region", "postal_code")
        if isinstance(location.get(key), str) and location[key]
    )
    if place:
        parts.append(place)
    return ", ".join(part.strip() for part in parts if part and part.strip())[:250]


@transaction.atomic
def event_create(*, actor: Any, unit: OrgUnit, data: dict[str, Any]) -> Event:
    title = data.get("title") or data.get("name")
    if not isinstance(title, str) or not title.strip():
        raise ValidationError(_("An event needs a title."))
    starts = parse_when(data.get("start_date"), unit.time_zone)
    if starts is None:
        raise ValidationError(_("An event needs a start_date."))
    ends = parse_when(data.get("end_date"), unit.time_zone) or starts + timedelta(hours=2)
    description = data.get("description")
    visibility = (
        Event.Visibility.UNIT if data.get("visibility") == "private" else Event.Visibility.PUBLIC
    )
    event = event_services.event_create(
        actor=actor,
        owner_unit=unit,
        title_en=title.strip()[:200],
        starts_at=starts,
        ends_at=ends,
        description_en=description if isinstance(description, str) else "",
        visibility=visibility,
        address=_location_text(data.get("location")),
        capacity=int(data["capacity"])
        if isinstance(data.get("capacity"), int) and data["capacity"] >= 0
        else 0,
    )
    identifiers = data.get("identifiers")
    if isinstance(identifiers, list):
        identifier_add_foreign(model=Event, pk=event.pk, identifiers=identifiers)
    return event


@transaction.atomic
def attendance_record(
    *,
    actor: Any,
    event: Event,
    person: Person | None = None,
    person_data: dict[str, Any] | None = None,
    add_tags: list[str] | None = None,
) -> RSVP:
    """The record-attendance helper: a person given by link, or found or created from
    `person` like the signup helper, put on the event."""
    if person is None:
        if not person_data:
            raise ValidationError(_("Give a person or a link to one."))
        person = person_signup(
            actor=actor, unit=event.owner_unit, person=person_data, add_tags=add_tags
        ).person
    return event_services.rsvp_add_person(actor=actor, event=event, person=person)


@transaction.atomic
def attendance_update(*, actor: Any, rsvp: RSVP, data: dict[str, Any]) -> RSVP:
    status = data.get("status")
    if status == "declined" and rsvp.status != RSVP.Status.CANCELLED:
        rsvp = event_services.rsvp_cancel(rsvp=rsvp, actor=actor)
    identifiers = data.get("identifiers")
    if isinstance(identifiers, list):
        identifier_add_foreign(model=RSVP, pk=rsvp.pk, identifiers=identifiers)
    return rsvp

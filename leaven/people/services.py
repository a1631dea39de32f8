"""Writes for people, households, contact points, tags and relationships. Every function
takes the acting user, checks the rule, writes, and leaves an audit event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from leaven.core import access, permissions
from leaven.core.audit import audit_record
from leaven.core.crypto import blind_index
from leaven.core.models import OrgUnit
from leaven.people import normalize
from leaven.people.models import (
    Affiliation,
    CustomField,
    Email,
    Household,
    Note,
    PartnerOrganization,
    Person,
    PersonUnit,
    Phone,
    Relationship,
    Stage,
    StageChange,
    Tag,
    Tagging,
)

PERSON_FIELDS = ("given_name", "family_name", "preferred_name", "pronouns", "language", "source")
LANGUAGE_CODE_MAX = 16


@dataclass(frozen=True)
class EmailInput:
    address: str
    status: str = Email.Status.SUBSCRIBED
    is_primary: bool = False
    source: str = ""


@dataclass(frozen=True)
class PhoneInput:
    number: str
    kind: str = Phone.Kind.MOBILE
    sms_status: str = Phone.SMSStatus.NONE
    urgent_alerts: bool = False
    is_primary: bool = False
    source: str = ""


def _require_edit(actor: Any, person: Person) -> None:
    if not person_editable_by(actor=actor, person=person):
        raise ValidationError(_("You cannot change this person."))


def person_editable_by(*, actor: Any, person: Person) -> bool:
    unit_ids = access.unit_ids_in_scope(actor, permissions.PEOPLE_EDIT)
    if not unit_ids:
        return False
    return PersonUnit.objects.filter(person=person, unit_id__in=unit_ids).exists()


def _visible_unit(actor: Any, unit: OrgUnit) -> bool:
    """A tag or partner of a unit in the actor's scope, or of a unit above one of theirs."""
    if access.can(actor, permissions.PEOPLE_VIEW, unit):
        return True
    return any(path.startswith(unit.path) for _role, path, _id in access.roles_of(actor))


def _person_visible(actor: Any, person: Person) -> bool:
    unit_ids = access.unit_ids_in_scope(actor, permissions.PEOPLE_VIEW)
    return PersonUnit.objects.filter(person=person, unit_id__in=unit_ids).exists()


def _clean_language(language: str) -> str:
    language = (language or "en").strip().lower()
    if not language or len(language) > LANGUAGE_CODE_MAX or not language.replace("-", "").isalpha():
        raise ValidationError({"language": _("Use a language code such as en or es.")})
    return language


def _touch(person: Person) -> None:
    person.modified_at = timezone.now()
    person.save(update_fields=["modified_at"])


def _refresh_contact_flags(person: Person) -> None:
    person.has_email = person.emails.exists()
    person.has_phone = person.phones.exists()
    person.modified_at = timezone.now()
    person.save(update_fields=["has_email", "has_phone", "modified_at"])


@transaction.atomic
def person_create(
    *,
    actor: Any,
    owner_unit: OrgUnit,
    given_name: str,
    family_name: str = "",
    preferred_name: str = "",
    pronouns: str = "",
    language: str = "en",
    stage: str = Stage.UNKNOWN,
    source: str = "",
    household: Household | None = None,
    emails: list[EmailInput] | None = None,
    phones: list[PhoneInput] | None = None,
    custom_fields: dict[str, Any] | None = None,
    sensitive_fields: dict[str, Any] | None = None,
) -> Person:
    """Create a person in `owner_unit`. Neither an email, a phone nor voter registration is
    required: a name is enough."""
    if not access.can(actor, permissions.PEOPLE_EDIT, owner_unit):
        raise ValidationError(_("You cannot add people to this unit."))
    given_name = normalize.nfc(given_name)
    family_name = normalize.nfc(family_name)
    if not given_name:
        raise ValidationError({"given_name": _("A given name is required.")})
    if stage not in Stage.values:
        raise ValidationError({"stage": _("Unknown stage.")})
    person = Person.objects.create(
        owner_unit=owner_unit,
        household=household,
        given_name=given_name,
        family_name=family_name,
        preferred_name=normalize.nfc(preferred_name),
        pronouns=pronouns.strip(),
        language=_clean_language(language),
        stage=stage,
        source=source.strip(),
        sort_name=normalize.sort_key(family_name, given_name),
        given_sort=normalize.fold(given_name)[:100],
        custom_fields=custom_fields or {},
        sensitive_fields=sensitive_fields or {},
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    PersonUnit.objects.create(person=person, unit=owner_unit)
    if stage != Stage.UNKNOWN:
        StageChange.objects.create(
            person=person,
            from_stage=Stage.UNKNOWN,
            to_stage=stage,
            reason="",
            actor=person.created_by,
        )
    audit_record(actor=actor, verb="person.created", obj=person, unit=owner_unit)
    for email in emails or []:
        _email_add(actor=actor, person=person, data=email)
    for phone in phones or []:
        _phone_add(actor=actor, person=person, data=phone)
    if emails or phones:
        _refresh_contact_flags(person)
    return person


@transaction.atomic
def person_update(
    *,
    actor: Any,
    person: Person,
    given_name: str,
    family_name: str,
    preferred_name: str = "",
    pronouns: str = "",
    language: str = "en",
    source: str | None = None,
    custom_fields: dict[str, Any] | None = None,
    sensitive_fields: dict[str, Any] | None = None,
) -> Person:
    _require_edit(actor, person)
    given_name = normalize.nfc(given_name)
    if not given_name:
        raise ValidationError({"given_name": _("A given name is required.")})
    new = {
        "given_name": given_name,
        "family_name": normalize.nfc(family_name),
        "preferred_name": normalize.nfc(preferred_name),
        "pronouns": pronouns.strip(),
        "language": _clean_language(language),
        "source": person.source if source is None else source.strip(),
    }
    changed = [field for field, value in new.items() if getattr(person, field) != value]
    for field, value in new.items():
        setattr(person, field, value)
    if custom_fields is not None and custom_fields != person.custom_fields:
        person.custom_fields = custom_fields
        changed.append("custom_fields")
    if sensitive_fields is not None and sensitive_fields != person.sensitive_fields:
        person.sensitive_fields = sensitive_fields
        changed.append("sensitive_fields")
    person.sort_name = normalize.sort_key(person.family_name, person.given_name)
    person.given_sort = normalize.fold(person.given_name)[:100]
    person.modified_at = timezone.now()
    person.save()
    audit_record(
        actor=actor,
        verb="person.updated",
        obj=person,
        unit=person.owner_unit,
        detail={"fields": changed},
    )
    return person


@transaction.atomic
def person_set_stage(*, actor: Any, person: Person, stage: str, reason: str = "") -> Person:
    """Move a person on the ladder, keeping who, when and why."""
    _require_edit(actor, person)
    if stage not in Stage.values:
        raise ValidationError({"stage": _("Unknown stage.")})
    if stage == person.stage:
        return person
    StageChange.objects.create(
        person=person,
        from_stage=person.stage,
        to_stage=stage,
        reason=reason.strip()[:200],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    previous = person.stage
    person.stage = stage
    person.modified_at = timezone.now()
    person.save(update_fields=["stage", "modified_at"])
    audit_record(
        actor=actor,
        verb="person.stage_changed",
        obj=person,
        unit=person.owner_unit,
        detail={"from": previous, "to": stage},
    )
    return person


def _email_add(*, actor: Any, person: Person, data: EmailInput) -> Email:
    address = normalize.email_normalize(data.address)
    if data.status not in Email.Status.values:
        raise ValidationError({"status": _("Unknown email consent state.")})
    index = blind_index(address)
    if Email.objects.filter(person=person, address_index=index).exists():
        raise ValidationError({"address": _("This person already has that email address.")})
    first = not person.emails.exists()
    if data.is_primary:
        person.emails.update(is_primary=False)
    email = Email.objects.create(
        person=person,
        address=address,
        address_index=index,
        status=data.status,
        is_primary=data.is_primary or first,
        source=data.source.strip(),
        consent_at=timezone.now() if data.status == Email.Status.SUBSCRIBED else None,
    )
    audit_record(
        actor=actor,
        verb="email.added",
        obj=person,
        unit=person.owner_unit,
        detail={"email": email.pk, "status": email.status},
    )
    return email


def _phone_add(*, actor: Any, person: Person, data: PhoneInput) -> Phone:
    number = normalize.phone_normalize(data.number)
    if data.sms_status not in Phone.SMSStatus.values or data.kind not in Phone.Kind.values:
        raise ValidationError({"sms_status": _("Unknown SMS consent state.")})
    index = blind_index(number)
    if Phone.objects.filter(person=person, number_index=index).exists():
        raise ValidationError({"number": _("This person already has that phone number.")})
    first = not person.phones.exists()
    if data.is_primary:
        person.phones.update(is_primary=False)
    phone = Phone.objects.create(
        person=person,
        number=number,
        number_index=index,
        kind=data.kind,
        sms_status=data.sms_status,
        urgent_alerts=data.urgent_alerts,
        is_primary=data.is_primary or first,
        source=data.source.strip(),
        consent_at=timezone.now() if data.sms_status != Phone.SMSStatus.NONE else None,
    )
    audit_record(
        actor=actor,
        verb="phone.added",
        obj=person,
        unit=person.owner_unit,
        detail={"phone": phone.pk, "sms_status": phone.sms_status},
    )
    return phone


@transaction.atomic
def email_add(*, actor: Any, person: Person, data: EmailInput) -> Email:
    _require_edit(actor, person)
    email = _email_add(actor=actor, person=person, data=data)
    _refresh_contact_flags(person)
    return email


@transaction.atomic
def phone_add(*, actor: Any, person: Person, data: PhoneInput) -> Phone:
    _require_edit(actor, person)
    phone = _phone_add(actor=actor, person=person, data=data)
    _refresh_contact_flags(person)
    return phone


@transaction.atomic
def email_update(*, actor: Any, email: Email, address: str, status: str, is_primary: bool) -> Email:
    """Change an address or its consent. An unsubscribe can only be lifted by the person
    themselves (through their own confirmation), never from this page."""
    person = email.person
    _require_edit(actor, person)
    address = normalize.email_normalize(address)
    if status not in Email.Status.values:
        raise ValidationError({"status": _("Unknown email consent state.")})
    if email.status == Email.Status.UNSUBSCRIBED and status != Email.Status.UNSUBSCRIBED:
        raise ValidationError(
            {"status": _("Only the person can undo an unsubscribe, by subscribing again.")}
        )
    index = blind_index(address)
    if Email.objects.filter(person=person, address_index=index).exclude(pk=email.pk).exists():
        raise ValidationError({"address": _("This person already has that email address.")})
    changed = []
    if index != email.address_index:
        changed.append("address")
    if status != email.status:
        changed.append("status")
        email.consent_at = timezone.now()
    if is_primary and not email.is_primary:
        person.emails.exclude(pk=email.pk).update(is_primary=False)
        changed.append("is_primary")
    email.address, email.address_index, email.status = address, index, status
    email.is_primary = is_primary or email.is_primary
    email.save()
    _touch(person)
    audit_record(
        actor=actor,
        verb="email.updated",
        obj=person,
        unit=person.owner_unit,
        detail={"email": email.pk, "fields": changed, "status": status},
    )
    return email


@transaction.atomic
def phone_update(
    *,
    actor: Any,
    phone: Phone,
    number: str,
    kind: str,
    sms_status: str,
    urgent_alerts: bool,
    is_primary: bool,
) -> Phone:
    """Change a number or its consent. An SMS opt-out can only be lifted by the person
    (a START text), never from this page."""
    person = phone.person
    _require_edit(actor, person)
    number = normalize.phone_normalize(number)
    if sms_status not in Phone.SMSStatus.values or kind not in Phone.Kind.values:
        raise ValidationError({"sms_status": _("Unknown SMS consent state.")})
    if phone.sms_status == Phone.SMSStatus.OPTED_OUT and sms_status != Phone.SMSStatus.OPTED_OUT:
        raise ValidationError(
            {"sms_status": _("Only the person can undo an SMS opt-out, by texting START.")}
        )
    index = blind_index(number)
    if Phone.objects.filter(person=person, number_index=index).exclude(pk=phone.pk).exists():
        raise ValidationError({"number": _("This person already has that phone number.")})
    changed = [
        name
        for name, old, new in (
            ("number", phone.number_index, index),
            ("kind", phone.kind, kind),
            ("sms_status", phone.sms_status, sms_status),
            ("urgent_alerts", phone.urgent_alerts, urgent_alerts),
        )
        if old != new
    ]
    if "sms_status" in changed or "urgent_alerts" in changed:
        phone.consent_at = timezone.now()
    if is_primary and not phone.is_primary:
        person.phones.exclude(pk=phone.pk).update(is_primary=False)
        changed.append("is_primary")
    phone.number, phone.number_index, phone.kind = number, index, kind
    phone.sms_status, phone.urgent_alerts = sms_status, urgent_alerts
    phone.is_primary = is_primary or phone.is_primary
    phone.save()
    _touch(person)
    audit_record(
        actor=actor,
        verb="phone.updated",
        obj=person,
        unit=person.owner_unit,
        detail={"phone": phone.pk, "fields": changed, "sms_status": sms_status},
    )
    return phone


@transaction.atomic
def contact_remove(*, actor: Any, contact: Email | Phone) -> None:
    """Remove an email or phone. An opted-out or unsubscribed one is kept: the opt-out
    must survive."""
    person = contact.person
    _require_edit(actor, person)
    if (isinstance(contact, Email) and contact.status == Email.Status.UNSUBSCRIBED) or (
        isinstance(contact, Phone) and contact.sms_status == Phone.SMSStatus.OPTED_OUT
    ):
        raise ValidationError(_("An opted-out contact is kept so the opt-out is honored."))
    verb = "email.removed" if isinstance(contact, Email) else "phone.removed"
    audit_record(
        actor=actor,
        verb=verb,
        obj=person,
        unit=person.owner_unit,
        detail={verb.split(".")[0]: contact.pk},
    )
    was_primary = contact.is_primary
    contact.delete()
    if was_primary:
        remaining = (person.emails if isinstance(contact, Email) else person.phones).first()
        if remaining is not None:
            remaining.is_primary = True
            remaining.save(update_fields=["is_primary"])
    _refresh_contact_flags(person)


@transaction.atomic
def person_tag(*, actor: Any, person: Person, tag: Tag) -> Tagging:
    _require_edit(actor, person)
    if not _visible_unit(actor, tag.owner_unit):
        raise ValidationError(_("You cannot use this tag."))
    tagging, created = Tagging.objects.get_or_create(tag=tag, person=person)
    if created:
        _touch(person)
        audit_record(
            actor=actor,
            verb="person.tagged",
            obj=person,
            unit=person.owner_unit,
            detail={"tag": tag.pk},
        )
    return tagging


@transaction.atomic
def person_untag(*, actor: Any, person: Person, tag: Tag) -> None:
    _require_edit(actor, person)
    deleted, _count = Tagging.objects.filter(tag=tag, person=person).delete()
    if deleted:
        _touch(person)
        audit_record(
            actor=actor,
            verb="person.untagged",
            obj=person,
            unit=person.owner_unit,
            detail={"tag": tag.pk},
        )


@transaction.atomic
def tag_create(*, actor: Any, owner_unit: OrgUnit, name: str) -> Tag:
    if not access.can(actor, permissions.PEOPLE_EDIT, owner_unit):
        raise ValidationError(_("You cannot add tags to this unit."))
    name = normalize.nfc(name)
    if not name:
        raise ValidationError({"name": _("A tag needs a name.")})
    tag, created = Tag.objects.get_or_create(owner_unit=owner_unit, name=name)
    if created:
        audit_record(actor=actor, verb="tag.created", obj=tag, unit=owner_unit)
    return tag


@transaction.atomic
def person_join_unit(*, actor: Any, person: Person, unit: OrgUnit) -> PersonUnit:
    """Add a person to a committee, circle or caucus the actor works in."""
    _require_edit(actor, person)
    if not access.can(actor, permissions.PEOPLE_EDIT, unit):
        raise ValidationError(_("You cannot add people to this unit."))
    link, created = PersonUnit.objects.get_or_create(person=person, unit=unit)
    if created:
        _touch(person)
        audit_record(
            actor=actor,
            verb="person.joined_unit",
            obj=person,
            unit=unit,
            detail={"unit": unit.pk},
        )
    return link


@transaction.atomic
def person_leave_unit(*, actor: Any, person: Person, unit: OrgUnit) -> None:
    _require_edit(actor, person)
    if not access.can(actor, permissions.PEOPLE_EDIT, unit):
        raise ValidationError(_("You cannot change this unit's people."))
    if unit.pk == person.owner_unit_id:
        raise ValidationError(_("A person always belongs to the unit that holds their record."))
    deleted, _count = PersonUnit.objects.filter(person=person, unit=unit).delete()
    if deleted:
        _touch(person)
        audit_record(
            actor=actor, verb="person.left_unit", obj=person, unit=unit, detail={"unit": unit.pk}
        )


@transaction.atomic
def relationship_create(*, actor: Any, person: Person, other: Person, kind: str) -> Relationship:
    _require_edit(actor, person)
    if not _person_visible(actor, other):
        raise ValidationError(_("You cannot link to this person."))
    if kind not in Relationship.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of relationship.")})
    if person.pk == other.pk:
        raise ValidationError(_("A person cannot be related to themselves."))
    try:
        with transaction.atomic():
            relationship = Relationship.objects.create(person=person, other=other, kind=kind)
    except IntegrityError:
        raise ValidationError(_("That relationship is already recorded.")) from None
    audit_record(
        actor=actor,
        verb="relationship.created",
        obj=person,
        unit=person.owner_unit,
        detail={"relationship": relationship.pk, "other": other.pk, "kind": kind},
    )
    return relationship


@transaction.atomic
def relationship_delete(*, actor: Any, relationship: Relationship) -> None:
    _require_edit(actor, relationship.person)
    audit_record(
        actor=actor,
        verb="relationship.deleted",
        obj=relationship.person,
        unit=relationship.person.owner_unit,
        detail={"relationship": relationship.pk, "other": relationship.other_id},
    )
    relationship.delete()


@transaction.atomic
def partner_create(
    *, actor: Any, owner_unit: OrgUnit, name: str, sector: str
) -> PartnerOrganization:
    if not access.can(actor, permissions.PEOPLE_EDIT, owner_unit):
        raise ValidationError(_("You cannot add partners to this unit."))
    if sector not in PartnerOrganization.Sector.values:
        raise ValidationError({"sector": _("Unknown sector.")})
    name = normalize.nfc(name)
    if not name:
        raise ValidationError({"name": _("A partner organization needs a name.")})
    partner, created = PartnerOrganization.objects.get_or_create(
        owner_unit=owner_unit, name=name, defaults={"sector": sector}
    )
    if created:
        audit_record(actor=actor, verb="partner.created", obj=partner, unit=owner_unit)
    return partner


@transaction.atomic
def affiliation_create(
    *, actor: Any, person: Person, organization: PartnerOrganization, title: str = ""
) -> Affiliation:
    _require_edit(actor, person)
    if not _visible_unit(actor, organization.owner_unit):
        raise ValidationError(_("You cannot use this organization."))
    affiliation, created = Affiliation.objects.get_or_create(
        person=person, organization=organization, defaults={"title": title.strip()}
    )
    if created:
        audit_record(
            actor=actor,
            verb="affiliation.created",
            obj=person,
            unit=person.owner_unit,
            detail={"affiliation": affiliation.pk, "organization": organization.pk},
        )
    return affiliation


@transaction.atomic
def note_create(*, actor: Any, person: Person, body: str) -> Note:
    _require_edit(actor, person)
    body = normalize.nfc(body)
    if not body:
        raise ValidationError({"body": _("Write something first.")})
    note = Note.objects.create(
        person=person,
        body=body,
        author=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _touch(person)
    audit_record(
        actor=actor,
        verb="note.created",
        obj=person,
        unit=person.owner_unit,
        detail={"note": note.pk},
    )
    return note


@transaction.atomic
def household_get_or_create(
    *,
    actor: Any,
    owner_unit: OrgUnit,
    street: str,
    unit: str = "",
    city: str,
    state: str,
    zip_code: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
) -> Household:
    """The household at this address in this unit, created if new."""
    if not access.can(actor, permissions.PEOPLE_EDIT, owner_unit):
        raise ValidationError(_("You cannot add households to this unit."))
    street, city = normalize.nfc(street), normalize.nfc(city)
    state = state.strip().upper()
    if not street or not city or len(state) != 2 or not state.isalpha():
        raise ValidationError(_("An address needs a street, a city and a two-letter state."))
    zip_code = zip_code.strip()
    if zip_code and not (zip_code.replace("-", "").isdigit() and len(zip_code) in (5, 10)):
        raise ValidationError({"zip_code": _("Enter a 5-digit ZIP code.")})
    key = normalize.address_key(street, unit, city, state, zip_code)
    household, created = Household.objects.get_or_create(
        owner_unit=owner_unit,
        address_key=key,
        defaults={
            "street": street,
            "unit": unit.strip(),
            "city": city,
            "state": state,
            "zip_code": zip_code,
            "latitude": latitude,
            "longitude": longitude,
        },
    )
    if created:
        audit_record(actor=actor, verb="household.created", obj=household, unit=owner_unit)
    return household


@transaction.atomic
def person_set_household(*, actor: Any, person: Person, household: Household | None) -> Person:
    _require_edit(actor, person)
    if household is not None and not access.can(
        actor, permissions.PEOPLE_EDIT, household.owner_unit
    ):
        raise ValidationError(_("You cannot use this household."))
    previous = person.household_id
    person.household = household
    person.modified_at = timezone.now()
    person.save(update_fields=["household", "modified_at"])
    audit_record(
        actor=actor,
        verb="person.household_changed",
        obj=person,
        unit=person.owner_unit,
        detail={"from": previous, "to": household.pk if household else None},
    )
    return person


@transaction.atomic
def contact_consent_merge(
    *,
    actor: Any,
    person: Person,
    email: str = "",
    email_consent: bool = False,
    phone: str = "",
    sms_consent: bool = False,
    source: str = "",
    add_new: bool = False,
) -> None:
    """What a person says about themselves on a form, applied to their record: consent they
    give now for an email or phone already on it is turned on, and with `add_new` (only where
    the person proved who they are, such as their own signed link) a new email or phone is
    added. A public form never attaches a new address to a record it matched by another
    one: knowing someone's phone must not let anyone add their own email to that record.
    Consent nobody gave is never created (an email without the box ticked has no consent,
    which is not an unsubscribe), and an unsubscribe or an SMS opt-out is never lifted."""
    _require_edit(actor, person)
    changed = False
    if email:
        address = normalize.email_normalize(email)
        existing_email = Email.objects.filter(
            person=person, address_index=blind_index(address)
        ).first()
        if existing_email is None and add_new:
            status = Email.Status.SUBSCRIBED if email_consent else Email.Status.NONE
            _email_add(
                actor=actor,
                person=person,
                data=EmailInput(address=address, status=status, source=source),
            )
            changed = True
        elif existing_email and email_consent and existing_email.status == Email.Status.NONE:
            Email.objects.filter(pk=existing_email.pk).update(
                status=Email.Status.SUBSCRIBED, consent_at=timezone.now()
            )
            audit_record(
                actor=actor,
                verb="email.consent_given",
                obj=person,
                unit=person.owner_unit,
                detail={"email": existing_email.pk, "source": source[:40]},
            )
    if phone:
        number = normalize.phone_normalize(phone)
        existing_phone = Phone.objects.filter(
            person=person, number_index=blind_index(number)
        ).first()
        if existing_phone is None and add_new:
            sms_status = Phone.SMSStatus.OPTED_IN if sms_consent else Phone.SMSStatus.NONE
            _phone_add(
                actor=actor,
                person=person,
                data=PhoneInput(number=number, sms_status=sms_status, source=source),
            )
            changed = True
        elif existing_phone and sms_consent and existing_phone.sms_status == Phone.SMSStatus.NONE:
            Phone.objects.filter(pk=existing_phone.pk).update(
                sms_status=Phone.SMSStatus.OPTED_IN, consent_at=timezone.now()
            )
            audit_record(
                actor=actor,
                verb="phone.sms_consent",
                obj=person,
                unit=person.owner_unit,
                detail={"phone": existing_phone.pk, "source": source[:40]},
            )
    if changed:
        _refresh_contact_flags(person)


def person_find_by_contact(*, email: str = "", phone: str = "") -> list[int]:
    """Ids of people with this exact email or phone, found through the blind index. For
    duplicate detection; callers scope the result before showing anything."""
    ids: set[int] = set()
    if email:
        index = blind_index(normalize.email_normalize(email))
        ids.update(Email.objects.filter(address_index=index).values_list("person_id", flat=True))
    if phone:
        index = blind_index(normalize.phone_normalize(phone))
        ids.update(Phone.objects.filter(number_index=index).values_list("person_id", flat=True))
    return sorted(ids)


@transaction.atomic
def custom_field_define(
    *, actor: Any, owner_unit: OrgUnit, key: str, label: str, sensitive: bool = False
) -> CustomField:
    """Add a field to the people of a unit and the units below it. A sensitive field is
    stored encrypted and shown only to roles that read notes."""
    if not access.can(actor, permissions.UNITS_MANAGE, owner_unit):
        raise ValidationError(_("You cannot add fields to this unit."))
    key = slugify(key or label).replace("-", "_")[:50]
    label = normalize.nfc(label)
    if not key or not label:
        raise ValidationError({"label": _("A field needs a label.")})
    if CustomField.objects.filter(owner_unit=owner_unit, key=key).exists():
        raise ValidationError({"label": _("This unit already has a field with that name.")})
    field = CustomField.objects.create(
        owner_unit=owner_unit, key=key, label=label, sensitive=sensitive
    )
    audit_record(
        actor=actor,
        verb="custom_field.created",
        obj=field,
        unit=owner_unit,
        detail={"sensitive": sensitive},
    )
    return field

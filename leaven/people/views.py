"""Pages for people and households. Thin: parse the form, call a selector or a service,
render."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from leaven.core import access, permissions
from leaven.core.forms import form_add_errors, unit_choices
from leaven.core.selectors import (
    unit_get_by_id_for_actor,
    unit_get_for_actor,
)
from leaven.people import normalize, selectors, services
from leaven.people.forms import (
    AffiliationForm,
    CustomFieldForm,
    EmailForm,
    HouseholdForm,
    NoteForm,
    PartnerForm,
    PersonCreateForm,
    PersonFilterForm,
    PersonForm,
    PhoneForm,
    RelationshipForm,
    StageForm,
    TagForm,
    UnitJoinForm,
    tristate,
)
from leaven.people.models import Email, Person, Phone, Relationship, Stage


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.can_anywhere(user, permissions.PEOPLE_VIEW):
        raise Http404
    tags = [(t.pk, t.name) for t in selectors.tags_for_actor(actor=user)]
    form = PersonFilterForm(
        request.GET or None, tags=tags, units=unit_choices(user, permissions.PEOPLE_VIEW)
    )
    filters = selectors.PersonFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.PersonFilters(
            q=data["q"].strip(),
            tag=data["tag"],
            unit=data["unit"],
            stage=data["stage"],
            language=data["language"],
            has_phone=tristate(data["has_phone"]),
            has_email=tristate(data["has_email"]),
        )
    page = selectors.person_list(
        actor=user,
        filters=filters,
        after=_int(request.GET.get("after")),
        before=_int(request.GET.get("before")),
        page_size=settings.LEAVEN_PAGE_SIZE,
    )
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("before", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": filters.active,
        "can_edit": access.can_anywhere(user, permissions.PEOPLE_EDIT),
    }
    template = "people/_person_rows.html" if request.htmx else "people/person_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def person_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = unit_choices(user, permissions.PEOPLE_EDIT)
    if not units:
        raise Http404
    form = PersonCreateForm(
        request.POST or None,
        units=units,
        initial={"language": "es" if request.LANGUAGE_CODE == "es" else "en"},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = unit_get_by_id_for_actor(
            actor=user, pk=data["owner_unit"], permission=permissions.PEOPLE_EDIT
        )
        emails = (
            [services.EmailInput(address=data["email"], source="page")] if data["email"] else []
        )
        phones = (
            [
                services.PhoneInput(
                    number=data["phone"],
                    sms_status=Phone.SMSStatus.OPTED_IN
                    if data["sms_consent"]
                    else Phone.SMSStatus.NONE,
                    source="page",
                )
            ]
            if data["phone"]
            else []
        )
        try:
            person = services.person_create(
                actor=user,
                owner_unit=unit,
                given_name=data["given_name"],
                family_name=data["family_name"],
                preferred_name=data["preferred_name"],
                pronouns=data["pronouns"],
                language=data["language"],
                stage=data["stage"],
                source=data["source"] or "page",
                emails=emails,
                phones=phones,
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Person added."))
            return redirect("people:person_detail", pk=person.pk)
    return render(request, "people/person_form.html", {"form": form, "creating": True})


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = selectors.person_get_for_actor(actor=user, pk=pk)
    units = selectors.person_units(actor=user, person=person)
    can_contacts = any(access.can(user, permissions.PEOPLE_VIEW_CONTACTS, u) for u in units)
    can_edit = services.person_editable_by(actor=user, person=person)
    if can_contacts:
        selectors.person_view_audited(actor=user, person=person)
    relationships, related_from = selectors.person_relationships(actor=user, person=person)
    edit_units = set(access.unit_ids_in_scope(user, permissions.PEOPLE_EDIT))
    context = {
        "person": person,
        "units": units,
        "can_contacts": can_contacts,
        "can_edit": can_edit,
        "emails": list(person.emails.all()) if can_contacts else [],
        "phones": list(person.phones.all()) if can_contacts else [],
        "tags": [t.tag for t in person.taggings.select_related("tag").order_by("tag__name")],
        "relationships": relationships,
        "related_from": related_from,
        "affiliations": person.affiliations.select_related("organization"),
        "household_members": (
            selectors.household_residents(actor=user, household=person.household).exclude(
                pk=person.pk
            )
            if person.household
            else []
        ),
        "timeline": selectors.person_timeline(actor=user, person=person),
        "audit": selectors.person_audit_trail(actor=user, person=person),
        "stage_form": StageForm(initial={"stage": person.stage}),
        "note_form": NoteForm(),
        "tag_form": TagForm(),
        "unit_form": UnitJoinForm(
            units=[c for c in unit_choices(user, permissions.PEOPLE_EDIT) if c[0] in edit_units]
        ),
        "relationship_form": RelationshipForm(),
        "stages": Stage.choices,
        "custom_values": _custom_values(user, person),
        "affiliation_form": AffiliationForm(
            organizations=[(p.pk, p.name) for p in selectors.partners_for_actor(actor=user)]
        ),
    }
    return render(request, "people/person_detail.html", context)


def _custom_values(actor: Any, person: Person) -> list[tuple[str, str, bool]]:
    """(label, value, sensitive) for each defined field with a value the actor may read."""
    read_sensitive = selectors.person_can_read_sensitive(actor=actor, person=person)
    rows = []
    for definition in selectors.custom_fields_for_unit(unit=person.owner_unit):
        if definition.sensitive and not read_sensitive:
            continue
        values = person.sensitive_fields if definition.sensitive else person.custom_fields
        value = values.get(definition.key)
        if value not in (None, ""):
            rows.append((definition.label, str(value), definition.sensitive))
    return rows


def _editable_person(request: HttpRequest, pk: int) -> Person:
    person = selectors.person_get_for_actor(actor=request.user, pk=pk)
    if not services.person_editable_by(actor=request.user, person=person):
        raise Http404
    return person


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable_person(request, pk)
    definitions = selectors.custom_fields_for_unit(unit=person.owner_unit)
    read_sensitive = selectors.person_can_read_sensitive(actor=request.user, person=person)
    shown = [d for d in definitions if read_sensitive or not d.sensitive]
    initial: dict[str, Any] = {f: getattr(person, f) for f in services.PERSON_FIELDS}
    for definition in shown:
        values = person.sensitive_fields if definition.sensitive else person.custom_fields
        initial[f"cf_{definition.key}"] = values.get(definition.key, "")
    form = PersonForm(request.POST or None, initial=initial, custom_fields=shown)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        custom = dict(person.custom_fields)
        sensitive = dict(person.sensitive_fields) if read_sensitive else None
        for definition in shown:
            value = data.pop(f"cf_{definition.key}", "").strip()
            target = sensitive if definition.sensitive else custom
            if target is None:
                continue
            if value:
                target[definition.key] = value
            else:
                target.pop(definition.key, None)
        try:
            services.person_update(
                actor=request.user,
                person=person,
                custom_fields=custom,
                sensitive_fields=sensitive,
                **data,
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("people:person_detail", pk=person.pk)
    return render(request, "people/person_form.html", {"form": form, "person": person})


@login_required
@require_http_methods(["GET", "POST"])
def email_form(request: HttpRequest, pk: int, email_pk: int | None = None) -> HttpResponse:
    person = _editable_person(request, pk)
    email: Email | None = None
    if email_pk is not None:
        email = person.emails.filter(pk=email_pk).first()
        if email is None:
            raise Http404
    initial = (
        {"address": email.address, "status": email.status, "is_primary": email.is_primary}
        if email
        else {"status": Email.Status.SUBSCRIBED}
    )
    form = EmailForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if email is None:
                services.email_add(
                    actor=request.user,
                    person=person,
                    data=services.EmailInput(
                        address=data["address"],
                        status=data["status"],
                        is_primary=data["is_primary"],
                        source="page",
                    ),
                )
            else:
                services.email_update(actor=request.user, email=email, **data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("people:person_detail", pk=person.pk)
    return render(
        request, "people/contact_form.html", {"form": form, "person": person, "contact": email}
    )


@login_required
@require_http_methods(["GET", "POST"])
def phone_form(request: HttpRequest, pk: int, phone_pk: int | None = None) -> HttpResponse:
    person = _editable_person(request, pk)
    phone: Phone | None = None
    if phone_pk is not None:
        phone = person.phones.filter(pk=phone_pk).first()
        if phone is None:
            raise Http404
    initial = (
        {
            "number": normalize.phone_display(phone.number),
            "kind": phone.kind,
            "sms_status": phone.sms_status,
            "urgent_alerts": phone.urgent_alerts,
            "is_primary": phone.is_primary,
        }
        if phone
        else {"kind": Phone.Kind.MOBILE, "sms_status": Phone.SMSStatus.NONE}
    )
    form = PhoneForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if phone is None:
                services.phone_add(
                    actor=request.user,
                    person=person,
                    data=services.PhoneInput(source="page", **data),
                )
            else:
                services.phone_update(actor=request.user, phone=phone, **data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("people:person_detail", pk=person.pk)
    return render(
        request,
        "people/contact_form.html",
        {"form": form, "person": person, "contact": phone, "is_phone": True},
    )


@login_required
@require_POST
def contact_remove(request: HttpRequest, pk: int, kind: str, contact_pk: int) -> HttpResponse:
    if kind not in ("email", "phone"):
        raise Http404
    person = _editable_person(request, pk)
    manager = person.emails if kind == "email" else person.phones
    contact = manager.filter(pk=contact_pk).first()
    if contact is None:
        raise Http404
    try:
        services.contact_remove(actor=request.user, contact=contact)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Removed."))
    return redirect("people:person_detail", pk=person.pk)


@login_required
@require_POST
def person_stage(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable_person(request, pk)
    form = StageForm(request.POST)
    if form.is_valid():
        services.person_set_stage(
            actor=request.user,
            person=person,
            stage=form.cleaned_data["stage"],
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, _("Stage updated."))
    else:
        messages.error(request, _("Choose a stage."))
    return redirect("people:person_detail", pk=person.pk)


@login_required
@require_POST
def person_note(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable_person(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.note_create(actor=request.user, person=person, body=form.cleaned_data["body"])
        messages.success(request, _("Note added."))
    else:
        messages.error(request, _("Write something first."))
    return redirect("people:person_detail", pk=person.pk)


@login_required
@require_POST
def person_tag(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable_person(request, pk)
    form = TagForm(request.POST)
    if form.is_valid():
        name = form.cleaned_data["name"].strip()
        tag = selectors.tags_for_actor(actor=request.user).filter(name=name).first()
        try:
            if tag is None:
                tag = services.tag_create(
                    actor=request.user, owner_unit=person.owner_unit, name=name
                )
            services.person_tag(actor=request.user, person=person, tag=tag)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("people:person_detail", pk=person.pk)


@login_required
@require_POST
def person_untag(request: HttpRequest, pk: int, tag_pk: int) -> HttpResponse:
    person = _editable_person(request, pk)
    tag = selectors.tag_get_for_actor(actor=request.user, pk=tag_pk)
    services.person_untag(actor=request.user, person=person, tag=tag)
    return redirect("people:person_detail", pk=person.pk)


@login_required
@require_POST
def person_unit(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable_person(request, pk)
    units = unit_choices(request.user, permissions.PEOPLE_EDIT)
    form = UnitJoinForm(request.POST, units=units)
    if form.is_valid():
        unit = unit_get_by_id_for_actor(
            actor=request.user, pk=form.cleaned_data["unit"], permission=permissions.PEOPLE_EDIT
        )
        action = request.POST.get("action", "join")
        try:
            if action == "leave":
                services.person_leave_unit(actor=request.user, person=person, unit=unit)
            else:
                services.person_join_unit(actor=request.user, person=person, unit=unit)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("people:person_detail", pk=person.pk)


@login_required
@require_POST
def person_relationship(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable_person(request, pk)
    form = RelationshipForm(request.POST)
    if form.is_valid():
        try:
            other = selectors.person_get_for_actor(
                actor=request.user, pk=form.cleaned_data["other"]
            )
        except Http404:
            messages.error(request, _("No person with that number in your units."))
            return redirect("people:person_detail", pk=person.pk)
        try:
            services.relationship_create(
                actor=request.user, person=person, other=other, kind=form.cleaned_data["kind"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("people:person_detail", pk=person.pk)


@login_required
@require_POST
def relationship_delete(request: HttpRequest, pk: int, rel_pk: int) -> HttpResponse:
    person = _editable_person(request, pk)
    relationship = Relationship.objects.filter(pk=rel_pk, person=person).first()
    if relationship is None:
        raise Http404
    services.relationship_delete(actor=request.user, relationship=relationship)
    return redirect("people:person_detail", pk=person.pk)


@login_required
@require_http_methods(["GET", "POST"])
def person_household(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable_person(request, pk)
    household = person.household
    initial = (
        {
            "street": household.street,
            "unit": household.unit,
            "city": household.city,
            "state": household.state,
            "zip_code": household.zip_code,
        }
        if household
        else {}
    )
    form = HouseholdForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            household = services.household_get_or_create(
                actor=request.user, owner_unit=person.owner_unit, **form.cleaned_data
            )
            services.person_set_household(actor=request.user, person=person, household=household)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Address saved."))
            return redirect("people:person_detail", pk=person.pk)
    return render(request, "people/household_form.html", {"form": form, "person": person})


@login_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = selectors.household_get_for_actor(actor=request.user, pk=pk)
    residents = selectors.household_residents(actor=request.user, household=household)
    return render(
        request, "people/household_detail.html", {"household": household, "residents": residents}
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_custom_fields(request: HttpRequest, slug: str) -> HttpResponse:
    """The custom fields a unit adds to its people; organizers and admins add them."""
    unit = unit_get_for_actor(actor=request.user, slug=slug)
    can_manage = access.can(request.user, permissions.UNITS_MANAGE, unit)
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise Http404
        if form.is_valid():
            try:
                services.custom_field_define(
                    actor=request.user,
                    owner_unit=unit,
                    key="",
                    label=form.cleaned_data["label"],
                    sensitive=form.cleaned_data["sensitive"],
                )
            except ValidationError as exc:
                form_add_errors(form, exc)
            else:
                messages.success(request, _("Field added."))
                return redirect("people:unit_custom_fields", slug=unit.slug)
    return render(
        request,
        "people/custom_fields.html",
        {
            "unit": unit,
            "definitions": selectors.custom_fields_for_unit(unit=unit),
            "form": form,
            "can_manage": can_manage,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def partner_list(request: HttpRequest) -> HttpResponse:
    """Partner organizations: unions, parishes, hometown clubs, clinics, artists, donors."""
    user = request.user
    if not access.can_anywhere(user, permissions.PEOPLE_VIEW):
        raise Http404
    units = unit_choices(user, permissions.PEOPLE_EDIT)
    form = PartnerForm(request.POST or None, units=units)
    if request.method == "POST":
        if not units:
            raise Http404
        if form.is_valid():
            unit = unit_get_by_id_for_actor(
                actor=user, pk=form.cleaned_data["owner_unit"], permission=permissions.PEOPLE_EDIT
            )
            try:
                services.partner_create(
                    actor=user,
                    owner_unit=unit,
                    name=form.cleaned_data["name"],
                    sector=form.cleaned_data["sector"],
                )
            except ValidationError as exc:
                form_add_errors(form, exc)
            else:
                messages.success(request, _("Partner organization added."))
                return redirect("people:partner_list")
    partners = selectors.partners_for_actor(actor=user).order_by("name")
    return render(
        request,
        "people/partner_list.html",
        {"partners": partners, "form": form, "can_edit": bool(units)},
    )


@login_required
@require_POST
def person_affiliation(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable_person(request, pk)
    organizations = [(p.pk, p.name) for p in selectors.partners_for_actor(actor=request.user)]
    form = AffiliationForm(request.POST, organizations=organizations)
    if form.is_valid():
        partner = selectors.partner_get_for_actor(
            actor=request.user, pk=form.cleaned_data["organization"]
        )
        services.affiliation_create(
            actor=request.user,
            person=person,
            organization=partner,
            title=form.cleaned_data["title"],
        )
        messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Choose an organization."))
    return redirect("people:person_detail", pk=person.pk)

"""Reads for units, roles and the audit log, always scoped to the actor."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from leaven.core import access, permissions
from leaven.core.audit import audit_record
from leaven.core.models import AuditEvent, OrgUnit, RoleAssignment


def deny(*, actor: Any, obj_type: str, obj_id: Any, unit: OrgUnit | None = None) -> Http404:
    """Record a denied access and return the 404 to raise: the same 404 as a missing record."""
    audit_record(
        actor=actor, verb="access.denied", object_type=obj_type, object_id=obj_id, unit=unit
    )
    return Http404()


def unit_list_for_actor(
    *, actor: Any, permission: str = permissions.PEOPLE_VIEW
) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(access.units_in_scope(actor, permission))


def unit_get_for_actor(
    *, actor: Any, slug: str, permission: str = permissions.PEOPLE_VIEW
) -> OrgUnit:
    unit = OrgUnit.objects.filter(slug=slug).first()
    if unit is None:
        raise Http404
    if not access.can(actor, permission, unit):
        raise deny(actor=actor, obj_type="orgunit", obj_id=unit.pk, unit=unit)
    return unit


def unit_get_by_id_for_actor(
    *, actor: Any, pk: int, permission: str = permissions.PEOPLE_VIEW
) -> OrgUnit:
    """A unit picked from a form's list, re-checked: 404 unless the actor holds `permission`
    on it."""
    unit = OrgUnit.objects.filter(pk=pk).first()
    if unit is None:
        raise Http404
    if not access.can(actor, permission, unit):
        raise deny(actor=actor, obj_type="orgunit", obj_id=unit.pk, unit=unit)
    return unit


def unit_roles(*, actor: Any, unit: OrgUnit) -> QuerySet[RoleAssignment]:
    """The roles held on this unit itself, for people who may see the unit."""
    access.require(actor, permissions.PEOPLE_VIEW, unit)
    return RoleAssignment.objects.filter(unit=unit).select_related("user").order_by("role", "user")


def unit_ancestors(*, unit: OrgUnit) -> list[OrgUnit]:
    ids = [int(part) for part in unit.path.strip("/").split("/") if part][:-1]
    by_id = OrgUnit.objects.in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def audit_list_for_unit(*, actor: Any, unit: OrgUnit) -> QuerySet[AuditEvent]:
    """The audit log of a unit and its descendants, for admins of it."""
    if not access.can(actor, permissions.AUDIT_VIEW_UNIT, unit):
        raise deny(actor=actor, obj_type="orgunit.audit", obj_id=unit.pk, unit=unit)
    return AuditEvent.objects.filter(unit__path__startswith=unit.path).select_related(
        "actor", "unit"
    )


def audit_list_for_object(*, object_type: str, object_id: Any) -> QuerySet[AuditEvent]:
    """Audit events about one record. Callers check access to the record first."""
    return AuditEvent.objects.filter(
        object_type=object_type, object_id=str(object_id)
    ).select_related("actor")

"""Writes for the organization tree, users and roles. Each takes the acting user and
leaves an audit event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from leaven.core import access, permissions
from leaven.core.audit import audit_record
from leaven.core.models import OrgUnit, Role, RoleAssignment, User

# Which kinds of unit may sit under which. Anything may hold a circle or a caucus.
ALLOWED_CHILDREN: dict[str, set[str]] = {
    OrgUnit.Kind.NETWORK: {
        OrgUnit.Kind.ORGANIZATION,
        OrgUnit.Kind.REGION,
        OrgUnit.Kind.COMMITTEE,
        OrgUnit.Kind.CIRCLE,
        OrgUnit.Kind.CAUCUS,
    },
    OrgUnit.Kind.ORGANIZATION: {
        OrgUnit.Kind.REGION,
        OrgUnit.Kind.COMMITTEE,
        OrgUnit.Kind.CIRCLE,
        OrgUnit.Kind.CAUCUS,
        OrgUnit.Kind.WARD_TEAM,
    },
    OrgUnit.Kind.REGION: {
        OrgUnit.Kind.COMMITTEE,
        OrgUnit.Kind.CIRCLE,
        OrgUnit.Kind.CAUCUS,
        OrgUnit.Kind.WARD_TEAM,
    },
    OrgUnit.Kind.COMMITTEE: {
        OrgUnit.Kind.CIRCLE,
        OrgUnit.Kind.CAUCUS,
        OrgUnit.Kind.WARD_TEAM,
        OrgUnit.Kind.PRECINCT_TEAM,
    },
    OrgUnit.Kind.WARD_TEAM: {OrgUnit.Kind.PRECINCT_TEAM, OrgUnit.Kind.CIRCLE},
    OrgUnit.Kind.CIRCLE: {OrgUnit.Kind.CIRCLE},
    OrgUnit.Kind.CAUCUS: {OrgUnit.Kind.CIRCLE},
    OrgUnit.Kind.PRECINCT_TEAM: set(),
}


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "unit"
    slug, n = base, 2
    while OrgUnit.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


def _validate_time_zone(time_zone: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"time_zone": _("Unknown time zone.")}) from None


@transaction.atomic
def unit_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    parent: OrgUnit | None,
    slug: str = "",
    languages: list[str] | None = None,
    time_zone: str = "",
    takes_public_reports: bool = False,
    as_operator: bool = False,
) -> OrgUnit:
    """Create a unit under `parent`. Root units, and units outside the actor's roles, are
    for operators (a command or the admin), who pass `as_operator`. `takes_public_reports`
    opens the unit's public incident report page (closed unless asked for)."""
    if parent is None and not as_operator:
        raise ValidationError(_("Only an operator can create a root unit."))
    if parent is not None:
        if not as_operator and not access.can(actor, permissions.UNITS_MANAGE, parent):
            raise ValidationError(_("You cannot add units here."))
        if kind not in ALLOWED_CHILDREN.get(parent.kind, set()):
            raise ValidationError(
                {
                    "kind": _("A %(kind)s cannot sit under this unit.")
                    % {"kind": OrgUnit.Kind(kind).label if kind in OrgUnit.Kind.values else kind}
                }
            )
    elif kind not in {OrgUnit.Kind.NETWORK, OrgUnit.Kind.ORGANIZATION}:
        raise ValidationError({"parent": _("Only a network or organization can be a root.")})
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("A unit needs a name.")})
    time_zone = time_zone or (parent.time_zone if parent else "America/Chicago")
    _validate_time_zone(time_zone)
    if slug and OrgUnit.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("That short name is taken.")})
    unit = OrgUnit.objects.create(
        name=name,
        kind=kind,
        parent=parent,
        slug=slug or _unique_slug(name),
        languages=languages or (list(parent.languages) if parent else ["en", "es"]),
        time_zone=time_zone,
        takes_public_reports=bool(takes_public_reports),
        depth=(parent.depth + 1) if parent else 0,
    )
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    audit_record(
        actor=actor,
        verb="unit.created",
        obj=unit,
        unit=unit,
        detail={"takes_public_reports": True} if takes_public_reports else None,
    )
    return unit


@transaction.atomic
def unit_update(
    *,
    actor: Any,
    unit: OrgUnit,
    name: str,
    languages: list[str],
    time_zone: str,
    takes_public_reports: bool | None = None,
) -> OrgUnit:
    """Rename a unit, set its languages and time zone, and (unless None, which leaves it as
    it is) whether its public incident report page takes reports."""
    if not access.can(actor, permissions.UNITS_MANAGE, unit):
        raise ValidationError(_("You cannot change this unit."))
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("A unit needs a name.")})
    _validate_time_zone(time_zone)
    public = unit.takes_public_reports if takes_public_reports is None else takes_public_reports
    changed = [
        field
        for field, value in (
            ("name", name),
            ("languages", languages),
            ("time_zone", time_zone),
            ("takes_public_reports", bool(public)),
        )
        if getattr(unit, field) != value
    ]
    unit.name, unit.languages, unit.time_zone = name, languages, time_zone
    unit.takes_public_reports = bool(public)
    unit.save(update_fields=["name", "languages", "time_zone", "takes_public_reports"])
    audit_record(actor=actor, verb="unit.updated", obj=unit, unit=unit, detail={"fields": changed})
    return unit


@transaction.atomic
def user_create(
    *,
    actor: Any,
    email: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    language: str = "en",
) -> User:
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("A user with this email already exists.")})
    user = User.objects.create_user(
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        language=language,
    )
    audit_record(actor=actor, verb="user.created", obj=user)
    return user


@transaction.atomic
def user_make_operator(*, actor: Any, user: User) -> User:
    """Make `user` an operator (a superuser). Only commands call this; it is audited."""
    if user.is_superuser and user.is_staff:
        return user
    user.is_superuser = user.is_staff = True
    user.save(update_fields=["is_superuser", "is_staff"])
    audit_record(actor=actor, verb="user.made_operator", obj=user)
    return user


@transaction.atomic
def role_grant(
    *, actor: Any, user: User, unit: OrgUnit, role: str, as_operator: bool = False
) -> RoleAssignment:
    """Give `user` a role on `unit`. Only someone who manages roles on the unit (or an
    operator, through a command or the admin) may."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if not as_operator and not access.can(actor, permissions.ROLES_MANAGE, unit):
        raise ValidationError(_("You cannot grant roles on this unit."))
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user,
        unit=unit,
        role=role,
        defaults={"granted_by": actor if isinstance(actor, User) else None},
    )
    if created:
        audit_record(
            actor=actor,
            verb="role.granted",
            obj=assignment,
            unit=unit,
            detail={"user": user.pk, "role": role},
        )
    access.clear_access_cache(user)
    return assignment


@transaction.atomic
def role_revoke(*, actor: Any, assignment: RoleAssignment, as_operator: bool = False) -> None:
    if not as_operator and not access.can(actor, permissions.ROLES_MANAGE, assignment.unit):
        raise ValidationError(_("You cannot revoke roles on this unit."))
    audit_record(
        actor=actor,
        verb="role.revoked",
        obj=assignment,
        unit=assignment.unit,
        detail={"user": assignment.user_id, "role": assignment.role},
    )
    assignment.delete()
    access.clear_access_cache(assignment.user)


def task_results_prune(*, actor: Any = None, now: dt.datetime | None = None) -> int:
    """Delete the rows of finished background tasks older than LEAVEN_TASK_RESULTS_DAYS
    (7 by default). Waiting and running tasks are never touched. Returns how many went."""
    from django_tasks_db.models import DBTaskResult

    days = int(getattr(settings, "LEAVEN_TASK_RESULTS_DAYS", 7))
    before = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lte=before).delete()
    if deleted:
        audit_record(
            actor=actor, verb="tasks.pruned", object_type="task_result", detail={"count": deleted}
        )
    return deleted

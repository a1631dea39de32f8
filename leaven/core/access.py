"""The single permission checkpoint. Every selector asks here which units an actor may act
on; nothing else decides access."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.http import Http404

from leaven.core.models import OrgUnit, RoleAssignment, User
from leaven.core.permissions import MATRIX

Actor = User | AnonymousUser

_CACHE_ATTR = "_leaven_access_cache"


def _cache(actor: Any) -> dict[str, Any]:
    cache: dict[str, Any] | None = getattr(actor, _CACHE_ATTR, None)
    if cache is None:
        cache = {}
        setattr(actor, _CACHE_ATTR, cache)
    return cache


def clear_access_cache(actor: Any) -> None:
    if hasattr(actor, _CACHE_ATTR):
        delattr(actor, _CACHE_ATTR)


def roles_of(actor: Actor) -> list[tuple[str, str, int]]:
    """(role, unit path, unit id) for each role the actor holds. A public form acts through
    an object carrying `granted_roles`: the narrow roles it is given for one request."""
    granted = getattr(actor, "granted_roles", None)
    if granted is not None:
        return list(granted)
    if not actor.is_authenticated or not actor.is_active:
        return []
    cache = _cache(actor)
    if "roles" not in cache:
        cache["roles"] = list(
            RoleAssignment.objects.filter(user_id=actor.pk).values_list(
                "role", "unit__path", "unit_id"
            )
        )
    roles: list[tuple[str, str, int]] = cache["roles"]
    return roles


def _paths_for(actor: Actor, permission: str) -> list[str]:
    paths = sorted({path for role, path, _ in roles_of(actor) if permission in MATRIX[role]})
    # Drop paths already covered by an ancestor path.
    kept: list[str] = []
    for path in paths:
        if not any(path.startswith(parent) for parent in kept):
            kept.append(path)
    return kept


def units_in_scope(actor: Actor, permission: str) -> Q:
    """A filter on OrgUnit for the units where the actor holds `permission`."""
    paths = _paths_for(actor, permission)
    if not paths:
        return Q(pk__in=[])
    query = Q()
    for path in paths:
        query |= Q(path__startswith=path)
    return query


def unit_ids_in_scope(actor: Actor, permission: str) -> frozenset[int]:
    """Ids of every unit where the actor holds `permission` (their units and descendants)."""
    cache = _cache(actor) if actor.is_authenticated else {}
    key = f"ids:{permission}"
    if key not in cache:
        paths = _paths_for(actor, permission)
        ids: frozenset[int] = frozenset()
        if paths:
            ids = frozenset(
                OrgUnit.objects.filter(units_in_scope(actor, permission)).values_list(
                    "pk", flat=True
                )
            )
        cache[key] = ids
    result: frozenset[int] = cache[key]
    return result


def can(actor: Actor, permission: str, unit: OrgUnit | None) -> bool:
    if unit is None:
        return False
    return any(unit.path.startswith(path) for path in _paths_for(actor, permission))


def can_anywhere(actor: Actor, permission: str) -> bool:
    return bool(_paths_for(actor, permission))


def require(actor: Actor, permission: str, unit: OrgUnit | None) -> None:
    """Raise Http404 (never 403: no hint that the record exists) unless allowed."""
    if not can(actor, permission, unit):
        raise Http404

"""The audit log: who did what to which record, from where. Ids only, no personal data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models

from leaven.core.models import AuditEvent, OrgUnit, User

_source: ContextVar[str] = ContextVar("leaven_audit_source", default=AuditEvent.Source.SYSTEM)


@contextmanager
def audit_source(source: str) -> Iterator[None]:
    """Mark every audit event written inside the block with this source."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


def current_source() -> str:
    return _source.get()


def audit_record(
    *,
    actor: Any,
    verb: str,
    obj: models.Model | None = None,
    unit: OrgUnit | None = None,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one audit event. `detail` must hold ids, field names and codes only."""
    if obj is not None:
        object_type = object_type or obj._meta.model_name or ""
        object_id = object_id or str(obj.pk)
    user = actor if isinstance(actor, User) else None
    if not actor_label:
        actor_label = str(actor.pk) if user is not None else str(actor or "system")
    return AuditEvent.objects.create(
        actor=user,
        actor_label=actor_label[:80],
        verb=verb,
        object_type=object_type,
        object_id=str(object_id),
        unit=unit,
        source=current_source(),
        detail=detail or {},
    )

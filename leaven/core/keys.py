"""Key rotation: find every encrypted column and rewrite values not under the primary key."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connection, transaction

from leaven.core import crypto
from leaven.core.audit import audit_record


def encrypted_columns() -> list[tuple[type[Any], str, str]]:
    """(model, field name, column) for every encrypted field of every installed model."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if getattr(field, "encrypted", False):
                found.append((model, field.name, field.column))
    return found


def rotate_all(*, actor: Any, batch_size: int = 1000) -> dict[str, int]:
    """Re-encrypt, in batches, every value written under a key other than the primary one.
    Works on raw column values, so it never needs to understand what a field holds."""
    primary = crypto.keyring().primary_kid
    prefix = f"{crypto.PREFIX}:{primary}:"
    counts: dict[str, int] = {}
    for model, _name, column in encrypted_columns():
        table = model._meta.db_table
        pk = model._meta.pk.column
        label = f"{model._meta.label}.{column}"
        counts[label] = 0
        last = 0
        qn = connection.ops.quote_name
        select = (
            f"SELECT {qn(pk)}, {qn(column)} FROM {qn(table)} "  # noqa: S608
            f"WHERE {qn(pk)} > %s AND {qn(column)} <> '' AND {qn(column)} NOT LIKE %s "
            f"ORDER BY {qn(pk)} LIMIT %s"
        )
        update = f"UPDATE {qn(table)} SET {qn(column)} = %s WHERE {qn(pk)} = %s"  # noqa: S608
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(select, [last, prefix + "%", batch_size])
                rows = cursor.fetchall()
                if not rows:
                    break
                cursor.executemany(
                    update, [(crypto.encrypt(crypto.decrypt(value)), key) for key, value in rows]
                )
                last = rows[-1][0]
                counts[label] += len(rows)
    if apps.is_installed("allauth.mfa"):
        counts["mfa.Authenticator.data"] = _rotate_authenticators(prefix, batch_size)
    audit_record(actor=actor, verb="keys.rotated", detail={"primary": primary, **counts})
    return counts


def _rotate_json(value: Any, prefix: str) -> tuple[Any, bool]:
    """Re-encrypt every encrypted string inside a JSON value not yet under `prefix`."""
    if isinstance(value, str):
        if value.startswith(f"{crypto.PREFIX}:") and not value.startswith(prefix):
            return crypto.encrypt(crypto.decrypt(value)), True
        return value, False
    if isinstance(value, list):
        pairs = [_rotate_json(item, prefix) for item in value]
        return [item for item, _ in pairs], any(changed for _, changed in pairs)
    if isinstance(value, dict):
        rotated = {key: _rotate_json(item, prefix) for key, item in value.items()}
        return {key: item for key, (item, _) in rotated.items()}, any(
            changed for _, changed in rotated.values()
        )
    return value, False


def _rotate_authenticators(prefix: str, batch_size: int) -> int:
    """allauth keeps TOTP secrets and recovery-code seeds, encrypted with these same keys
    (see adapters.MFAAdapter), inside a JSON column: rotate them too."""
    authenticator = apps.get_model("mfa", "Authenticator")
    count, last = 0, 0
    while True:
        with transaction.atomic():
            rows = list(
                authenticator.objects.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", "data")[:batch_size]
            )
            if not rows:
                break
            for pk, data in rows:
                rotated, changed = _rotate_json(data, prefix)
                if changed:
                    authenticator.objects.filter(pk=pk).update(data=rotated)
                    count += 1
            last = rows[-1][0]
    return count

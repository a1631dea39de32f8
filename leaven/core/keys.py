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
    audit_record(actor=actor, verb="keys.rotated", detail={"primary": primary, **counts})
    return counts

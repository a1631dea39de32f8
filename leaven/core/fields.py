"""Model fields whose values are stored encrypted."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.db import models

from leaven.core import crypto

if TYPE_CHECKING:
    _AnyTextField = models.TextField[Any, Any]
else:
    _AnyTextField = models.TextField


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text stored as AES-GCM ciphertext with a key id. Not searchable: pair it with a
    blind-index column for exact lookups."""

    encrypted = True

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))


class EncryptedJSONField(_AnyTextField):
    """A JSON object stored encrypted."""

    if TYPE_CHECKING:
        _pyi_private_set_type: dict[str, Any] | None  # type: ignore[assignment]
        _pyi_private_get_type: dict[str, Any]  # type: ignore[assignment]

    encrypted = True

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return {}
        return json.loads(crypto.decrypt(value))

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value else {}
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if not value:
            return ""
        return crypto.encrypt(json.dumps(value, sort_keys=True, ensure_ascii=False))

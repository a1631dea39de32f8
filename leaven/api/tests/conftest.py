"""Fixtures for the API tests: keys for committee A and B and a client that sends them."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def api_key(tree):
    """(key, token) for committee A (Pilsen)."""
    from leaven.api.services import apikey_create

    return apikey_create(actor=None, unit=tree.committee_a, name="sync", as_operator=True)


@pytest.fixture
def other_key(tree):
    """(key, token) for committee B (Little Village): an outsider to committee A."""
    from leaven.api.services import apikey_create

    return apikey_create(actor=None, unit=tree.committee_b, name="other", as_operator=True)


class ApiClient:
    """A Django test client that sends the OSDI-API-Token header and JSON bodies."""

    def __init__(self, token: str) -> None:
        from django.test import Client

        self.client = Client()
        self.token = token

    def _headers(self, extra: dict[str, str] | None) -> Any:
        return {"HTTP_OSDI_API_TOKEN": self.token, **(extra or {})}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, **self._headers(None))

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(
            path, body, content_type="application/json", **self._headers(headers)
        )

    def put(self, path: str, body: Any) -> Any:
        return self.client.put(path, body, content_type="application/json", **self._headers(None))

    def delete(self, path: str) -> Any:
        return self.client.delete(path, **self._headers(None))


@pytest.fixture
def api(api_key):
    return ApiClient(api_key[1])


@pytest.fixture
def other_api(other_key):
    return ApiClient(other_key[1])


def an_id(body: dict[str, Any]) -> str:
    """The uuid from a record's action_network identifier."""
    return str(
        next(i for i in body["identifiers"] if i.startswith("action_network:")).split(":")[1]
    )

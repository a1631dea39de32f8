"""`leaven apikey create|list|revoke`."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_create_prints_the_token_once_and_it_works(tree):
    from leaven.api.models import ApiKey
    from leaven.api.selectors import apikey_for_token

    out = io.StringIO()
    call_command("apikey", "create", "--unit", tree.committee_a.slug, "--name", "sync", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    key = ApiKey.objects.get()
    assert apikey_for_token(token) == key
    listing = io.StringIO()
    call_command("apikey", "list", stdout=listing)
    assert token not in listing.getvalue() and "active" in listing.getvalue()
    call_command("apikey", "revoke", str(key.pk), stdout=io.StringIO())
    assert apikey_for_token(token) is None


def test_unknown_unit_is_an_error(tree):
    with pytest.raises(CommandError):
        call_command("apikey", "create", "--unit", "nowhere", "--name", "x")

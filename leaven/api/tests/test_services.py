"""API keys and webhooks: who may make them, what is stored, what is audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

pytestmark = pytest.mark.django_db


def test_apikey_create_stores_only_a_hash_and_audits(tree, admin):
    """The token is returned once; the database holds its hash and a short prefix."""
    from leaven.api.models import ApiKey
    from leaven.api.selectors import apikey_for_token
    from leaven.api.services import apikey_create, token_hash
    from leaven.core.models import AuditEvent

    key, token = apikey_create(actor=admin, unit=tree.committee_a, name="sync")
    stored = ApiKey.objects.get()
    assert token not in (stored.token_hash, stored.prefix, stored.name)
    assert stored.token_hash == token_hash(token)
    assert apikey_for_token(token) == key
    assert AuditEvent.objects.filter(verb="apikey.created", object_id=str(key.pk)).exists()


def test_only_admins_of_the_unit_make_keys(tree, coordinator, outsider, admin):
    from leaven.api.services import apikey_create

    with pytest.raises(ValidationError):
        apikey_create(actor=coordinator, unit=tree.committee_a, name="x")
    with pytest.raises(ValidationError):
        apikey_create(actor=outsider, unit=tree.committee_a, name="x")
    with pytest.raises(ValidationError):
        apikey_create(actor=admin, unit=tree.committee_a, name="  ")


def test_revoked_key_no_longer_authenticates(tree, admin):
    from leaven.api.selectors import apikey_for_token
    from leaven.api.services import apikey_create, apikey_revoke

    key, token = apikey_create(actor=admin, unit=tree.committee_a, name="sync")
    apikey_revoke(actor=admin, key=key)
    assert key.revoked_at is not None
    assert apikey_for_token(token) is None


def test_key_actor_is_admin_of_its_unit_only(tree):
    """The key's actor holds an admin role on its unit and nothing above or beside it."""
    from leaven.api.services import apikey_create, key_actor
    from leaven.core import access, permissions

    key, _token = apikey_create(actor=None, unit=tree.committee_a, name="x", as_operator=True)
    actor: Any = key_actor(key)
    assert str(actor) == f"apikey:{key.pk}"
    assert access.can(actor, permissions.PEOPLE_EDIT, tree.committee_a)
    assert access.can(actor, permissions.PEOPLE_EDIT, tree.circle_a)
    assert not access.can(actor, permissions.PEOPLE_VIEW, tree.committee_b)
    assert not access.can(actor, permissions.PEOPLE_VIEW, tree.region)


def test_webhook_needs_https_and_a_topic(tree, admin):
    from leaven.api.services import webhook_create

    with pytest.raises(ValidationError):
        webhook_create(actor=admin, unit=tree.committee_a, url="http://x.org", topics=["tagging"])
    with pytest.raises(ValidationError):
        webhook_create(actor=admin, unit=tree.committee_a, url="https://x.org", topics=[])
    hook = webhook_create(
        actor=admin, unit=tree.committee_a, url="https://x.org/h", topics=["tagging", "bogus"]
    )
    assert hook.topics == ["tagging"] and len(hook.secret) == 64


def test_root_key_sees_its_whole_tree_and_never_another_organization(tree, make_person):
    """A key of the only root sees everyone in any unit (by the shorter scope filter);
    once a second organization exists, the same key sees only its own tree."""
    from leaven.api.selectors import person_queryset
    from leaven.api.services import apikey_create, key_actor
    from leaven.core.models import OrgUnit
    from leaven.core.services import unit_create

    key, _token = apikey_create(actor=None, unit=tree.network, name="root", as_operator=True)
    ana = make_person(tree.committee_a, given_name="Ana")
    luis = make_person(tree.circle_a, given_name="Luis")
    actor: Any = key_actor(key)
    assert actor.whole_tree is True
    assert set(person_queryset(actor=actor)) == {ana, luis}
    other = unit_create(
        actor=None, name="Otra Red", kind=OrgUnit.Kind.NETWORK, parent=None, as_operator=True
    )
    other_key, _ = apikey_create(actor=None, unit=other, name="other", as_operator=True)
    eve = make_person(other, actor=key_actor(other_key), given_name="Eve")
    actor = key_actor(key)
    assert actor.whole_tree is False
    assert set(person_queryset(actor=actor)) == {ana, luis}
    assert eve not in person_queryset(actor=key_actor(key))
    committee_key, _ = apikey_create(actor=None, unit=tree.committee_a, name="a", as_operator=True)
    assert key_actor(committee_key).whole_tree is False

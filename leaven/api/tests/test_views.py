"""The settings page: admins create keys (token shown once) and webhooks, revoke keys,
read a webhook's delivery log; everyone else gets 404."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_admin_creates_a_key_and_sees_the_token_once(client_for, admin, tree):
    from leaven.api.models import ApiKey

    client = client_for(admin)
    page = client.get("/settings/api/")
    assert page.status_code == 200
    response = client.post(
        "/settings/api/", {"form": "key", "key-unit": tree.committee_a.pk, "key-name": "CRM sync"}
    )
    assert response.status_code == 200
    key = ApiKey.objects.get()
    token = response.context["new_token"]
    assert token.startswith("lvn_") and token.encode() in response.content
    assert token.encode() not in client.get("/settings/api/").content
    assert key.name == "CRM sync" and key.unit == tree.committee_a


def test_bad_key_form_keeps_input_and_explains(client_for, admin, tree):
    response = client_for(admin).post(
        "/settings/api/", {"form": "key", "key-unit": tree.committee_a.pk, "key-name": ""}
    )
    assert response.status_code == 400
    assert b"This field is required" in response.content


def test_admin_revokes_a_key(client_for, admin, api_key):
    key, _token = api_key
    response = client_for(admin).post(f"/settings/api/keys/{key.pk}/revoke/")
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_admin_adds_a_webhook_and_reads_its_log(client_for, admin, tree):
    from leaven.api.models import Webhook

    client = client_for(admin)
    response = client.post(
        "/settings/api/",
        {
            "form": "hook",
            "hook-unit": tree.committee_a.pk,
            "hook-url": "https://crm.example.org/hook",
            "hook-topics": ["person.created", "attendance"],
        },
    )
    assert response.status_code == 302
    hook = Webhook.objects.get()
    assert hook.topics == ["person.created", "attendance"]
    assert hook.api_base == "http://testserver/api/v2"
    detail = client.get(f"/settings/api/webhooks/{hook.pk}/")
    assert detail.status_code == 200 and hook.secret.encode() in detail.content
    client.post(f"/settings/api/webhooks/{hook.pk}/toggle/")
    hook.refresh_from_db()
    assert not hook.is_active


def test_http_webhook_is_refused_with_a_message(client_for, admin, tree):
    response = client_for(admin).post(
        "/settings/api/",
        {
            "form": "hook",
            "hook-unit": tree.committee_a.pk,
            "hook-url": "http://crm.example.org/hook",
            "hook-topics": ["tagging"],
        },
    )
    assert response.status_code == 400 and b"https://" in response.content
    assert b"http://crm.example.org/hook" in response.content


def test_outsider_and_coordinator_get_404(client_for, outsider, coordinator, api_key, tree):
    """A coordinator has no API page; an admin of another unit cannot revoke or open this
    unit's keys and webhooks."""
    from leaven.api.services import webhook_create
    from leaven.core.services import role_grant

    key, _token = api_key
    hook = webhook_create(
        actor=None, unit=tree.committee_a, url="https://x.org", topics=["tagging"], as_operator=True
    )
    assert client_for(coordinator).get("/settings/api/").status_code == 404
    role_grant(actor=None, user=outsider, unit=tree.committee_b, role="admin", as_operator=True)
    client = client_for(outsider)
    assert client.get("/settings/api/").status_code == 200
    assert key.prefix.encode() not in client.get("/settings/api/").content
    assert client.post(f"/settings/api/keys/{key.pk}/revoke/").status_code == 404
    assert client.get(f"/settings/api/webhooks/{hook.pk}/").status_code == 404
    assert client.post(f"/settings/api/webhooks/{hook.pk}/toggle/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_page_in_spanish(client_for, admin):
    client = client_for(admin)
    client.cookies["django_language"] = "es"
    response = client.get("/settings/api/", HTTP_ACCEPT_LANGUAGE="es")
    assert b"Claves" in response.content

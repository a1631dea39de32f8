"""The member's own page, opened by a signed link that holds only a membership id: status
and payments, change of tier and language, new contact details, cancel. A tampered or
expired link is a 404."""

from __future__ import annotations

import pytest
from django.core import signing
from django.utils import timezone

from leaven.membership import services
from leaven.membership.models import Membership, MembershipReminder


@pytest.fixture
def member(make_membership, captain):
    membership = make_membership(today=timezone.localdate(), language="es")
    services.payment_record(
        actor=captain,
        membership=membership,
        amount_cents=1000,
        paid_on=timezone.localdate(),
        method="cash",
        receipt_number="R-77",
        today=timezone.localdate(),
    )
    membership.refresh_from_db()
    return membership


def _url(membership):
    return f"/membership/me/{services.self_service_token(membership=membership)}/"


def test_token_holds_no_contact_data(member):
    token = services.self_service_token(membership=member)
    data = signing.loads(token, salt=services.SELF_SERVICE_SALT)
    assert data == {"m": member.pk}


def test_member_sees_status_and_payments(client, member):
    response = client.get(_url(member), HTTP_ACCEPT_LANGUAGE="es")
    body = response.content.decode()
    assert response.status_code == 200
    assert "R-77" in body and "$10.00" in body
    assert "Activa" in body


def test_tampered_token_refused(client, member):
    token = services.self_service_token(membership=member)
    forged = signing.dumps({"m": member.pk + 1}, salt="another-salt")
    assert client.get(f"/membership/me/{token[:-2]}xx/").status_code == 404
    assert client.get(f"/membership/me/{forged}/").status_code == 404


def test_expired_token_refused(client, member, settings):
    """A link older than its lifetime is a 404 (signed with a clock set back 15 days)."""
    import time

    class Past(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 15 * 24 * 3600)

    fresh = signing.dumps(
        {"m": member.pk},
        salt=services.SELF_SERVICE_SALT,
        compress=True,
        serializer=signing.JSONSerializer,
    )
    assert client.get(f"/membership/me/{fresh}/").status_code == 200
    expired = Past(salt=services.SELF_SERVICE_SALT).sign_object({"m": member.pk}, compress=True)
    assert client.get(f"/membership/me/{expired}/").status_code == 404


def test_change_tier_amount_and_language(client, member, tiers):
    _sliding, yearly = tiers
    response = client.post(
        _url(member), {"action": "tier", "tier": str(yearly.pk), "amount": "", "language": "en"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.tier, member.amount_cents, member.person.language) == (yearly, 6000, "en")


def test_amount_below_minimum_refused_with_message(client, member, tiers):
    response = client.post(
        _url(member),
        {"action": "tier", "tier": str(tiers[0].pk), "amount": "0.10", "language": "en"},
    )
    assert response.status_code == 200
    assert "Choose an amount of at least $1.00." in response.content.decode()


def test_add_a_phone_with_consent(client, member):
    response = client.post(
        _url(member), {"action": "contact", "phone": "(312) 555-0177", "sms_consent": "on"}
    )
    assert response.status_code == 302
    phone = member.person.phones.get()
    assert phone.sms_status == "opted_in"


def test_cancel_needs_the_box(client, member):
    client.post(_url(member), {"action": "cancel"})
    member.refresh_from_db()
    assert member.status == "active"
    client.post(_url(member), {"action": "cancel", "confirm": "yes"})
    member.refresh_from_db()
    assert member.status == "cancelled"
    assert member.status_changes.first().reason == "cancelled by the member"


def test_sending_the_link_is_a_pending_message(client_for, coordinator, member):
    response = client_for(coordinator).post(f"/membership/{member.pk}/link/")
    assert response.status_code == 302
    reminder = MembershipReminder.objects.get(kind="self_service_link")
    assert (reminder.state, reminder.language) == ("pending", "es")


def test_outsider_cannot_send_a_link(client_for, outsider, member):
    assert client_for(outsider).post(f"/membership/{member.pk}/link/").status_code == 404
    assert not MembershipReminder.objects.filter(kind="self_service_link").exists()
    assert Membership.objects.get().status == "active"

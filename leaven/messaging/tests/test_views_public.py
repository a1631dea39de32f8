"""The public endpoints: Twilio's inbound and status webhooks (signature checked, replays
applied once) and the one-click unsubscribe."""

from __future__ import annotations

import pytest
from django.core import mail

from leaven.core.models import AuditEvent
from leaven.messaging import services
from leaven.messaging.models import InboundMessage, OutboxMessage, ProviderCallback, SmsSuppression
from leaven.messaging.tests.conftest import twilio_signature
from leaven.people.models import Email, Phone

pytestmark = pytest.mark.django_db

INBOUND = "http://testserver/m/twilio/inbound/"
STATUS = "http://testserver/m/twilio/status/"
NUMBER = "+13125550123"


def post_inbound(client, body, sid="SM1", sender=NUMBER, signature=None):
    params = {"MessageSid": sid, "From": sender, "To": "+13125550100", "Body": body}
    signature = signature or twilio_signature(INBOUND, params)
    return client.post("/m/twilio/inbound/", params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_bad_signature_is_refused_and_nothing_is_stored(client):
    response = post_inbound(client, "STOP", signature="bad")
    assert response.status_code == 403
    assert InboundMessage.objects.count() == 0
    assert SmsSuppression.objects.count() == 0
    response = client.post("/m/twilio/inbound/", {"MessageSid": "SM1", "From": NUMBER, "Body": "x"})
    assert response.status_code == 403
    assert InboundMessage.objects.count() == 0


@pytest.mark.parametrize(
    ("word", "language", "confirmation"),
    [
        ("STOP", "en", "no more texts"),
        ("¡Párar!", "es", "no recibirá"),
        ("opt-out", "en", "no more texts"),
        ("  alto. ", "es", "no recibirá"),
        ("Cancelar", "es", "no recibirá"),
    ],
)
def test_opt_out_word_suppresses_cancels_audits_and_confirms_once(
    client, add_person, word, language, confirmation
):
    """One transaction: the number is suppressed everywhere, its queued texts cancelled, an
    audit event written, one confirmation queued in the word's language."""
    person = add_person(phone=NUMBER)
    other_record = add_person(phone="(312) 555-0123")  # the same number on another person
    services.outbox_enqueue(
        actor=None, person=person, channel="sms", body="Rally", idempotency_key="ev:1"
    )
    response = post_inbound(client, word)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert set(Phone.objects.values_list("sms_status", flat=True)) == {"opted_out"}
    assert other_record.phones.get().sms_status == "opted_out"
    assert OutboxMessage.objects.get(idempotency_key="ev:1").state == "suppressed"
    replies = OutboxMessage.objects.filter(kind="compliance")
    assert replies.count() == 1
    assert confirmation in replies.get().body
    assert replies.get().language == language
    event = AuditEvent.objects.get(verb="sms.opt_out")
    assert event.object_id == str(person.pk)
    assert "+1312" not in str(event.detail)
    # A replay of the same webhook changes nothing and confirms nothing more.
    post_inbound(client, word)
    assert OutboxMessage.objects.filter(kind="compliance").count() == 1
    assert InboundMessage.objects.count() == 1


def test_opt_out_from_unknown_number_still_suppresses(client, add_person):
    post_inbound(client, "STOP", sender="+13125550199")
    assert SmsSuppression.objects.count() == 1
    person = add_person(phone="+13125550199")  # added later, with consent typed in
    services.outbox_enqueue(actor=None, person=person, channel="sms", body="x", idempotency_key="k")
    assert services.outbox_drain(channel="sms").suppressed >= 1


@pytest.mark.parametrize(("word", "needle"), [("HELP", "Reply STOP"), ("ayúda!", "PARAR")])
def test_help_gets_name_contact_frequency_and_how_to_stop(client, add_person, word, needle):
    add_person(phone=NUMBER)
    post_inbound(client, word)
    reply = OutboxMessage.objects.get(kind="compliance")
    assert "Red Solidaria" in reply.body and "info@example.org" in reply.body
    assert needle in reply.body


def test_start_resubscribes_only_the_same_number(client, add_person, settings):
    settings.LEAVEN_QUIET_END_HOUR, settings.LEAVEN_QUIET_START_HOUR = 0, 24
    add_person(phone=NUMBER)
    post_inbound(client, "STOP", sid="SM1")
    post_inbound(client, "START", sid="SM2", sender="+13125550111")
    assert Phone.objects.get().sms_status == "opted_out"
    post_inbound(client, "start", sid="SM3")
    assert Phone.objects.get().sms_status == "opted_in"
    assert SmsSuppression.objects.count() == 0


def test_keyword_in_a_sentence_goes_to_review_and_suppresses_nothing(client, add_person):
    add_person(phone=NUMBER)
    post_inbound(client, "We have to STOP this bill!")
    message = InboundMessage.objects.get()
    assert (message.kind, message.review) == ("review", "open")
    assert Phone.objects.get().sms_status == "opted_in"
    assert OutboxMessage.objects.count() == 0


def test_inbound_body_is_stored_encrypted(client, add_person):
    from django.db import connection

    add_person(phone=NUMBER)
    post_inbound(client, "See you Saturday")
    with connection.cursor() as cursor:
        cursor.execute("SELECT body, from_number FROM messaging_inboundmessage")
        body, number = cursor.fetchone()
    assert body.startswith("v1:") and number.startswith("v1:")
    assert "Saturday" not in body and "3125550" not in number.replace("v1:", "")


def _sent_sms(add_person, settings, fake_twilio):
    settings.LEAVEN_QUIET_END_HOUR, settings.LEAVEN_QUIET_START_HOUR = 0, 24
    person = add_person(phone=NUMBER)
    services.outbox_enqueue(
        actor=None, person=person, channel="sms", body="Hi", idempotency_key="k"
    )
    services.outbox_drain(channel="sms")
    return OutboxMessage.objects.get()


def test_status_callback_replay_is_applied_once(client, add_person, settings, fake_twilio):
    message = _sent_sms(add_person, settings, fake_twilio)
    assert message.state == "sent" and message.provider_id.startswith("SM")
    params = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    signature = twilio_signature(STATUS, params)
    for _ in range(3):
        response = client.post("/m/twilio/status/", params, HTTP_X_TWILIO_SIGNATURE=signature)
        assert response.status_code == 204
    message.refresh_from_db()
    assert message.delivery_status == "delivered"
    assert AuditEvent.objects.filter(verb="outbox.delivery_status").count() == 1
    assert ProviderCallback.objects.count() == 1


def test_status_callback_bad_signature_stores_nothing(client, add_person, settings, fake_twilio):
    message = _sent_sms(add_person, settings, fake_twilio)
    params = {
        "MessageSid": message.provider_id,
        "MessageStatus": "undelivered",
        "ErrorCode": "21610",
    }
    response = client.post("/m/twilio/status/", params, HTTP_X_TWILIO_SIGNATURE="forged")
    assert response.status_code == 403
    assert ProviderCallback.objects.count() == 0
    message.refresh_from_db()
    assert message.state == "sent" and message.delivery_status == ""


def test_carrier_opt_out_in_callback_suppresses_the_number(
    client, add_person, settings, fake_twilio
):
    message = _sent_sms(add_person, settings, fake_twilio)
    params = {
        "MessageSid": message.provider_id,
        "MessageStatus": "undelivered",
        "ErrorCode": "21610",
    }
    client.post(
        "/m/twilio/status/", params, HTTP_X_TWILIO_SIGNATURE=twilio_signature(STATUS, params)
    )
    message.refresh_from_db()
    assert message.state == "failed"
    assert Phone.objects.get().sms_status == "opted_out"


def _unsubscribe_url(organizer, tree, add_person, language="en"):
    person = add_person(email="ana@example.org", language=language)
    add_person(email="ANA@example.org")  # the same address on another record
    services.outbox_enqueue(
        actor=None, person=person, channel="email", subject="s", body="b", idempotency_key="k1"
    )
    services.outbox_drain(channel="email")
    return (
        mail.outbox[0]
        .extra_headers["List-Unsubscribe"]
        .strip("<>")
        .replace("http://testserver", "")
    )


def test_one_click_unsubscribe_needs_no_sign_in(client, organizer, tree, add_person):
    url = _unsubscribe_url(organizer, tree, add_person)
    assert "ana" not in url
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert set(Email.objects.values_list("status", flat=True)) == {"unsubscribed"}
    assert AuditEvent.objects.filter(verb="email.unsubscribed").count() == 2


def test_footer_link_shows_a_confirmation_page_in_the_right_language(
    client, organizer, tree, add_person
):
    url = _unsubscribe_url(organizer, tree, add_person, language="es")
    response = client.get(url)
    assert response.status_code == 200
    assert "¿Dejar de recibir" in response.content.decode()
    assert Email.objects.filter(status="subscribed").count() == 2  # a GET changes nothing
    client.post(url)
    assert Email.objects.filter(status="unsubscribed").count() == 2


def test_tampered_token_is_refused(client, organizer, tree, add_person):
    url = _unsubscribe_url(organizer, tree, add_person)
    response = client.post(url[:-3] + "xx/")
    assert response.status_code == 404
    assert Email.objects.filter(status="unsubscribed").count() == 0

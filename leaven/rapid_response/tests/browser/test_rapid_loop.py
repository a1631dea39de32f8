"""The whole rapid-response loop in real browsers: a report from a phone in Spanish with a
pin on the map, a dispatcher asks a verifier, the verifier confirms from their phone, the
responders in range get alerts, two answer "going" and, with three needed, the next ring is
alerted when the escalation job runs after the wait."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leaven.core.tests.browser.fixtures import PHONE
from leaven.core.tests.browser.helpers import assert_fits_a_phone

pytestmark = pytest.mark.browser


def _link(message) -> str:
    return "/rapid/a/" + str(message.body).rsplit("/rapid/a/", 1)[1]


def test_report_verify_confirm_acknowledge_escalate(
    new_context, sign_in_as, tree, public_a, dispatcher, make_responder
):
    from leaven.messaging.models import OutboxMessage
    from leaven.rapid_response import services
    from leaven.rapid_response.models import Alert, Incident

    verifier = make_responder(0.2, skills=["verifier"], language="es")
    near = [make_responder(0.5 + i * 0.2, language="es" if i % 2 else "en") for i in range(3)]
    farther = make_responder(6.0)

    # A phone in Spanish: the public form, no sign-in.
    phone = new_context(language="es", **PHONE).new_page()
    phone.goto(f"/rapid/report/{tree.committee_a.slug}/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Reportar una acción de inmigración")
    phone.get_by_label("Retén").check()
    expect(phone.locator("#rapid-map")).to_be_visible()
    phone.locator("#rapid-map").click()
    assert phone.locator("input[name=lat]").input_value() != ""
    phone.get_by_label("Detalles").fill("Dos camionetas y cuatro agentes")
    assert_fits_a_phone(phone)
    phone.get_by_role("button", name="Enviar reporte").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Gracias. Recibimos su reporte.")
    incident = Incident.objects.get()
    assert incident.lat is not None
    # The map opens on the committee; put the incident where the responders are.
    Incident.objects.filter(pk=incident.pk).update(lat=41.8565, lon=-87.6594)

    # The dispatcher sees it on the dashboard and asks the nearest verifier.
    desk = new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_as(desk, dispatcher)
    desk.goto("/rapid/")
    desk.get_by_role("link", name="Checkpoint").click()
    desk.get_by_role("button", name="Ask the nearest verifiers to go").click()
    expect(desk.locator("ul.messages")).to_contain_text("verifiers were asked")
    verify = OutboxMessage.objects.get(idempotency_key__endswith=":verify")
    assert verify.person == verifier.person and verify.urgent

    # The verifier confirms from their phone, in Spanish.
    vphone = new_context(language="es", **PHONE).new_page()
    vphone.goto(_link(verify))
    expect(vphone.get_by_role("heading", level=1)).to_have_text("Por favor verifique este reporte")
    vphone.get_by_role("button", name="Confirmado: lo estoy viendo").click()
    expect(vphone.locator("ul.messages")).to_contain_text("Gracias")
    incident.refresh_from_db()
    assert incident.state == "confirmed"
    alerts = OutboxMessage.objects.filter(idempotency_key__endswith=":respond")
    alerted = {m.person_id for m in alerts}
    assert alerted == {verifier.person_id, *(r.person_id for r in near)}

    # Two answer "going" from their phones.
    for responder in near[:2]:
        page = new_context(language=responder.person.language, **PHONE).new_page()
        page.goto(_link(alerts.get(person=responder.person)))
        assert_fits_a_phone(page)
        page.get_by_role(
            "button", name={"en": "I'm going", "es": "Voy"}[responder.person.language]
        ).click()
        expect(page.locator("ul.messages")).to_be_visible()
    assert Alert.objects.filter(kind="respond", ack="going").count() == 2

    desk.reload()
    expect(desk.locator(".rapid-acks li.rapid-ack-going")).to_have_count(2)

    # Too few after the wait: the escalation job alerts the next ring.
    later = timezone.now() + dt.timedelta(minutes=incident.escalate_minutes + 1)
    rings = services.escalate_due(now=later)
    assert [r.number for r in rings] == [2]
    assert Alert.objects.get(ring=rings[0]).responder == farther
    desk.reload()
    expect(desk.get_by_text("Ring 2:")).to_be_visible()

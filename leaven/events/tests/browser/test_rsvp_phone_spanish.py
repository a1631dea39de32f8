"""A person RSVPs from a phone in Spanish: errors in Spanish, nothing lost, then the thank
you page with a cancel link."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leaven.core.tests.browser.fixtures import PHONE
from leaven.core.tests.browser.helpers import assert_fits_a_phone

pytestmark = pytest.mark.browser


def test_rsvp_on_a_phone_in_spanish(new_context, make_event, settings):
    from leaven.events.models import RSVP

    settings.LEAVEN_EVENTS_MIN_FILL_SECONDS = 0
    event = make_event(capacity=30)
    page = new_context(language="es", **PHONE).new_page()
    page.goto(f"/e/{event.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Taller Conozca Sus Derechos")
    assert_fits_a_phone(page)

    page.get_by_label("Apellido").fill("Hernández")
    page.get_by_role("button", name="Cuenten conmigo").tap()
    expect(page.get_by_text("Por favor, díganos su nombre.")).to_be_visible()
    expect(page.get_by_label("Apellido")).to_have_value("Hernández")
    assert_fits_a_phone(page)

    page.get_by_label("Nombre", exact=True).fill("Lupe")
    page.locator("#id_phone").fill("(312) 555-0177")
    page.get_by_label("Sí, envíenme mensajes de texto", exact=False).check()
    page.get_by_role("button", name="Cuenten conmigo").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("¡Gracias, Lupe!")
    expect(page.get_by_role("link", name="Cancelar mi confirmación")).to_be_visible()
    assert_fits_a_phone(page)

    rsvp = RSVP.objects.get()
    assert rsvp.language == "es" and rsvp.status == "going"
    assert rsvp.person.phones.get().sms_status == "opted_in"

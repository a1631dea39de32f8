"""A new member joins in Spanish on a phone: the page fits, the choices are easy to tap,
and the membership is recorded with SMS consent because the box was ticked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leaven.core.tests.browser.fixtures import PHONE
from leaven.core.tests.browser.helpers import assert_fits_a_phone

pytestmark = pytest.mark.browser


def test_join_in_spanish_on_a_phone(new_context, tree, tiers, monkeypatch):
    from leaven.membership import views
    from leaven.membership.models import Membership
    from leaven.people.models import Person

    # A person takes more than the minimum fill time; the test need not wait for it.
    monkeypatch.setattr(views, "MIN_FILL_SECONDS", 0)
    page = new_context(language="es", **PHONE).new_page()
    page.goto(f"/join/{tree.committee_a.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Únase a Pilsen")
    assert_fits_a_phone(page)

    page.get_by_label("Nombre", exact=True).fill("Guadalupe")
    page.get_by_label("Apellido").fill("Ramírez")
    page.get_by_label("Celular").fill("(312) 555-0148")
    page.get_by_label("Escala móvil: desde $1.00 al mes").check()
    page.get_by_label("Su monto (escala móvil)").fill("5")
    page.get_by_label("Efectivo a un capitán").check()
    page.get_by_label("Sí, envíenme mensajes de texto").check()
    page.get_by_role("button", name="Unirme").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("¡Gracias por unirse!")
    expect(page.get_by_text("Un capitán recibirá su cuota en efectivo")).to_be_visible()
    assert_fits_a_phone(page)
    person = Person.objects.get()
    assert (person.given_name, person.language) == ("Guadalupe", "es")
    assert person.phones.get().sms_status == "opted_in"
    membership = Membership.objects.get()
    assert (membership.amount_cents, membership.status) == (500, "pending")


def test_join_error_shown_in_spanish_and_answers_kept(new_context, tree, tiers, monkeypatch):
    from leaven.membership import views

    monkeypatch.setattr(views, "MIN_FILL_SECONDS", 0)
    page = new_context(language="es", **PHONE).new_page()
    page.goto(f"/join/{tree.committee_a.slug}/")
    page.get_by_label("Nombre", exact=True).fill("Guadalupe")
    page.get_by_label("Escala móvil: desde $1.00 al mes").check()
    page.get_by_label("Efectivo a un capitán").check()
    page.get_by_role("button", name="Unirme").tap()
    expect(page.get_by_role("alert").first).to_contain_text("Indique un celular o un correo")
    expect(page.get_by_label("Nombre", exact=True)).to_have_value("Guadalupe")
    assert_fits_a_phone(page)

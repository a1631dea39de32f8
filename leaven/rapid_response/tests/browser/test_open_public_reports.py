"""Opening a committee's public report page: closed, it answers "not found" like an address
that does not exist; an admin ticks the box on the unit's edit page, in Spanish; then a
phone with no sign-in reaches the form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leaven.core.tests.browser.fixtures import PHONE

pytestmark = pytest.mark.browser


def test_an_admin_opens_the_public_report_page(new_context, sign_in_as, admin, tree):
    from leaven.core.models import AuditEvent

    slug = tree.committee_b.slug
    public = new_context(language="es", **PHONE).new_page()
    closed = public.goto(f"/rapid/report/{slug}/")
    assert closed is not None and closed.status == 404
    unknown = public.goto("/rapid/report/no-such-committee/")
    assert unknown is not None and unknown.status == 404

    desk = new_context(language="es", **PHONE).new_page()
    sign_in_as(desk, admin)
    desk.goto(f"/units/{slug}/")
    desk.get_by_role("link", name="Editar unidad").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Editar la unidad Little Village")
    box = desk.get_by_label("Recibir reportes de incidentes del público")
    expect(box).not_to_be_checked()
    box.check()
    desk.get_by_role("button", name="Guardar").click()
    expect(desk.get_by_role("status")).to_contain_text("Unidad guardada.")
    expect(desk.get_by_text("Recibe reportes de incidentes del público")).to_be_visible()
    assert AuditEvent.objects.filter(verb="unit.updated", actor=admin).exists()

    opened = public.goto(f"/rapid/report/{slug}/")
    assert opened is not None and opened.status == 200
    expect(public.get_by_role("heading", level=1)).to_have_text(
        "Reportar una acción de inmigración"
    )

"""An organizer cancels a broadcast that is being sent, on a phone: the page says what will
be withdrawn and what stays sent; after confirming, nothing more goes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leaven.core.tests.browser.helpers import assert_fits_a_phone

pytestmark = pytest.mark.browser


def test_cancel_a_broadcast_mid_delivery(page, sign_in_as, organizer, tree, add_person):
    from leaven.messaging import services
    from leaven.messaging.models import OutboxMessage

    for i in range(4):
        add_person(email=f"p{i}@example.org", language="es")
    segment = services.segment_create(
        actor=organizer, owner_unit=tree.committee_a, name="Todos", conditions={}
    )
    broadcast = services.broadcast_create(
        actor=organizer,
        segment=segment,
        channel="email",
        name="Asamblea",
        templates={"es": {"subject": "Asamblea", "body": "Hola {first_name}"}},
    )
    services.broadcast_queue(actor=organizer, broadcast=broadcast)
    services.outbox_process(channel="email", limit=1)

    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_as(page, organizer)
    page.goto(f"/messaging/broadcasts/{broadcast.pk}/")
    page.get_by_role("link", name="Cancel broadcast").click()
    expect(
        page.get_by_text("3 messages have not been sent yet and will be withdrawn.")
    ).to_be_visible()
    expect(page.get_by_text("1 message was already sent and stays sent.")).to_be_visible()
    assert_fits_a_phone(page)
    page.get_by_role("button", name="Cancel this broadcast").click()
    expect(page.get_by_text("3 messages were withdrawn; 1 already sent stay sent.")).to_be_visible()
    expect(page.locator("#count-withdrawn")).to_have_text("3")
    expect(page.get_by_role("link", name="Cancel broadcast")).to_have_count(0)
    assert OutboxMessage.objects.filter(state="withdrawn").count() == 3
    assert OutboxMessage.objects.filter(state="sent").count() == 1

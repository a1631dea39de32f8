"""An organizer builds a segment (watching the live count), writes a bilingual email,
previews it in Spanish, sends it, and watches it arrive at a real SMTP server."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_segment_compose_preview_send_deliver(
    page, sign_in_as, organizer, tree, add_person, smtp_server, settings
):
    settings.LEAVEN_OUTBOX_DRAIN_ON_COMMIT = True
    add_person(email="ana@example.org", given_name="Ana", language="es")
    add_person(email="luis@example.org", given_name="Luis", language="es")
    add_person(email="bo@example.org", given_name="Bo", language="en")
    sign_in_as(page, organizer)

    page.goto("/messaging/segments/new/")
    page.get_by_label("Name").fill("Spanish speakers")
    page.get_by_label("Unit", exact=True).select_option(label="Pilsen")
    count = page.get_by_role("status").filter(has_text="match")
    expect(count).to_have_text("3 people match now.")
    page.get_by_role("group", name="Speaking").get_by_label("Spanish").check()
    expect(count).to_have_text("2 people match now.")
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_role("link", name="Spanish speakers")).to_be_visible()

    page.get_by_role("link", name="Write a broadcast").click()
    page.get_by_label("Name").fill("Assembly")
    page.get_by_label("Subject in English").fill("Assembly on Saturday")
    page.get_by_label("Message in English").fill("Hi {first_name}, see you at {committee}.")
    page.get_by_label("Subject in Spanish").fill("Asamblea el sábado")
    page.get_by_label("Message in Spanish").fill("Hola {first_name}, nos vemos en {committee}.")
    page.get_by_role("button", name="Save and preview").click()

    page.get_by_role("link", name="Spanish", exact=True).click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Asamblea el sábado")
    expect(preview).to_contain_text("Hola María, nos vemos en Pilsen.")
    expect(page.get_by_text("2 people in the segment now.")).to_be_visible()

    page.get_by_role("button", name="Send now").click()
    expect(page.get_by_role("status").filter(has_text="Sending to 2 people.")).to_be_visible()
    expect(page.locator("#count-sent")).to_have_text("2")
    received = sorted(m["To"] for m in smtp_server.messages)
    assert received == ["ana@example.org", "luis@example.org"]
    assert all(m["Subject"] == "Asamblea el sábado" for m in smtp_server.messages)
    assert all(
        m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in smtp_server.messages
    )

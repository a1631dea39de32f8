"""A coordinator imports a sign-in sheet: upload, map columns, preview, run, watch the
progress, download the reject file."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SHEET = (
    "Nombre,Apellido,Correo\n"
    "José,Muñoz,jose@example.org\n"
    "Thảo,Nguyễn,thao@example.org\n"
    ",Peña,\n"
    "Sean,O'Brien,not-an-email\n"
)


def test_upload_map_preview_run_and_download_rejects(
    page, sign_in_as, coordinator, tmp_path, settings
):
    from leaven.people.models import Person

    settings.LEAVEN_IMPORT_DIR = tmp_path / "imports"
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    sign_in_as(page, coordinator)
    page.goto("/imports/")
    page.get_by_label("File").set_input_files(str(sheet))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Which column holds what")).to_be_visible()
    page.get_by_label("Given name").select_option("Nombre")
    page.get_by_label("Family name (optional)").select_option("Apellido")
    page.get_by_label("Email (optional)", exact=True).select_option("Correo")
    page.get_by_role("button", name="Preview").click()
    table = page.get_by_role("table")
    expect(table).to_contain_text("Nguyễn")
    expect(table).to_contain_text("A given name is required.")
    expect(table).to_contain_text("Not a valid email address.")
    page.get_by_role("button", name="Start the import").click()
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "done", timeout=20000)
    expect(page.locator("[data-figure=created]")).to_have_text("2")
    expect(page.locator("[data-figure=rejected]")).to_have_text("2")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the reject file").click()
    content = open(info.value.path(), encoding="utf-8").read()  # noqa: SIM115
    assert "Peña" in content and "O'Brien" in content and "_reason" in content
    assert set(Person.objects.values_list("family_name", flat=True)) == {"Muñoz", "Nguyễn"}

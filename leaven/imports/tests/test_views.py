"""Import pages: upload, mapping, preview, run, progress, rejects; errors shown in the page;
the outsider gets 404 on every page of an import."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leaven.imports.models import ImportJob
from leaven.people.models import Person

pytestmark = pytest.mark.django_db

GOOD = "given_name,family_name,email\nJosé,Muñoz,jose@example.org\n,Peña,\n=cmd,O'Brien,\n"


def _upload(client, tree, data: bytes, name: str = "list.csv"):
    return client.post(
        "/imports/",
        {"unit": tree.committee_a.pk, "file": SimpleUploadedFile(name, data)},
    )


def test_full_flow(client_for, coordinator, tree, django_capture_on_commit_callbacks):
    """Upload, map, preview, start, watch progress, download rejects."""
    client = client_for(coordinator)
    assert client.get("/imports/").status_code == 200
    response = _upload(client, tree, GOOD.encode())
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    page = client.get(f"/imports/{job.pk}/")
    assert b"Which column holds what" in page.content
    page = client.get(f"/imports/{job.pk}/?edit=1&source=preset:generic")
    assert b'value="given_name" selected' in page.content
    response = client.post(
        f"/imports/{job.pk}/mapping/",
        {"col_given_name": "given_name", "col_family_name": "family_name",
         "col_email": "email", "mode": "valid", "save_as": "Our sheet"},
    )  # fmt: skip
    assert response.status_code == 302
    preview = client.get(f"/imports/{job.pk}/").content.decode()
    assert "José" in preview and "Muñoz" in preview and "A given name is required." in preview
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/imports/{job.pk}/start/").status_code == 302
    progress = client.get(f"/imports/{job.pk}/progress/").content.decode()
    assert 'data-state="done"' in progress and 'hx-trigger="every 1s"' not in progress
    assert set(Person.objects.values_list("family_name", flat=True)) == {"Muñoz", "O'Brien"}
    rejects = client.get(f"/imports/{job.pk}/rejects.csv")
    assert rejects["Content-Type"].startswith("text/csv")
    body = b"".join(rejects.streaming_content).decode()
    assert ",Peña," in body and "A given name is required." in body


def test_running_progress_polls_every_second(client_for, coordinator, tree):
    client = client_for(coordinator)
    _upload(client, tree, GOOD.encode())
    ImportJob.objects.update(state=ImportJob.State.RUNNING, rows_total=3, rows_read=1)
    job = ImportJob.objects.get()
    html = client.get(f"/imports/{job.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in html and "Cancel the import" in html
    client.post(f"/imports/{job.pk}/cancel/")
    assert ImportJob.objects.get().cancel_requested


def test_bad_upload_shows_the_reason_in_the_page(client_for, coordinator, tree):
    client = client_for(coordinator)
    response = _upload(client, tree, b"")
    assert response.status_code == 200
    assert "file is empty." in response.content.decode()
    response = _upload(client, tree, bytes(range(256)) * 4, "photo.csv")
    assert "binary" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_windows_1252_confirmation_page(client_for, coordinator, tree):
    client = client_for(coordinator)
    _upload(client, tree, "given_name,family_name\nJosé,Muñoz\n".encode("cp1252"))
    job = ImportJob.objects.get()
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "José,Muñoz" in page and "The names read correctly" in page
    client.post(f"/imports/{job.pk}/encoding/")
    assert ImportJob.objects.get().encoding_confirmed


def test_spanish_pages(client_for, coordinator, tree):
    client = client_for(coordinator)
    client.cookies["django_language"] = "es"
    html = client.get("/imports/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Importaciones" in html


def test_outsider_gets_404_everywhere(client_for, coordinator, outsider, tree):
    """An import, its rows and its reject file are invisible outside the owning unit."""
    _upload(client_for(coordinator), tree, GOOD.encode())
    job = ImportJob.objects.get()
    client = client_for(outsider)
    for url in ("", "progress/", "rejects.csv", "?edit=1"):
        assert client.get(f"/imports/{job.pk}/{url}").status_code == 404, url
    for url in ("encoding/", "mapping/", "start/", "cancel/", "resume/"):
        assert client.post(f"/imports/{job.pk}/{url}").status_code == 404, url
    assert "list.csv" not in client.get("/imports/").content.decode()
    response = client.post(
        "/imports/", {"unit": tree.committee_a.pk, "file": SimpleUploadedFile("x.csv", b"a,b\n")}
    )
    assert ImportJob.objects.count() == 1 and response.status_code == 200


def test_captain_cannot_import(client_for, captain):
    assert client_for(captain).get("/imports/").status_code == 404

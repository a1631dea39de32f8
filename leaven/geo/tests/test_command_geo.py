"""`leaven geo import|results|assign`: the command line calls the same services."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from leaven.core.models import AuditEvent
from leaven.geo.models import ElectionResult, Jurisdiction
from leaven.geo.tests.conftest import PRECINCTS, WARDS, feature_collection

pytestmark = pytest.mark.django_db


def test_import_boundaries_with_a_parent(tmp_path, capsys):
    wards = tmp_path / "wards.geojson"
    wards.write_bytes(feature_collection(WARDS, code_field="ward", name_field="label"))
    call_command(
        "geo",
        "import",
        str(wards),
        "--kind",
        "ward",
        "--code-field",
        "ward",
        "--name-field",
        "label",
    )
    precincts = tmp_path / "precincts.geojson"
    precincts.write_bytes(feature_collection(PRECINCTS))
    call_command(
        "geo",
        "import",
        str(precincts),
        "--kind",
        "precinct",
        "--code-field",
        "PREC",
        "--name-field",
        "NAME",
        "--parent",
        "W1",
    )
    out = capsys.readouterr().out
    assert "5 created, 0 updated, 0 repaired, 0 rejected." in out
    assert Jurisdiction.objects.get(kind="precinct", code="003").parent.code == "W1"
    event = AuditEvent.objects.filter(verb="geo.boundaries_imported").first()
    assert event.source == AuditEvent.Source.COMMAND and event.actor is None


def test_the_leaven_cli_passes_geo_through(tmp_path, capsys, monkeypatch):
    from django.db import connections

    from leaven.cli import main

    # A command run from the command line closes the connections at the end; the test's
    # transaction needs its connection afterwards.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    path = tmp_path / "p.geojson"
    path.write_bytes(feature_collection(PRECINCTS[:2]))
    main(["leaven", "geo", "import", str(path), "--kind", "precinct", "--code-field", "PREC"])
    assert "2 created" in capsys.readouterr().out
    assert Jurisdiction.objects.get(code="001").name == "001"  # no name field: the code


def test_errors_are_command_errors(tmp_path):
    path = tmp_path / "p.geojson"
    path.write_bytes(b"nope")
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("geo", "import", str(path), "--kind", "precinct", "--code-field", "PREC")
    with pytest.raises(CommandError, match="No file"):
        call_command(
            "geo", "import", str(tmp_path / "missing"), "--kind", "precinct", "--code-field", "PREC"
        )
    with pytest.raises(CommandError, match="No jurisdiction"):
        call_command(
            "geo",
            "import",
            str(path),
            "--kind",
            "precinct",
            "--code-field",
            "PREC",
            "--parent",
            "W7",
        )
    assert not Jurisdiction.objects.exists()


def test_results_and_assign(tmp_path, capsys, precincts, place, tree):
    csv_path = tmp_path / "results.csv"
    csv_path.write_text("precinct,contest,choice,votes\n001,Mayor,Rosa Peña,12\n", "utf-8")
    call_command("geo", "results", str(csv_path), "--election", "2027", "--date", "2027-02-23")
    assert ElectionResult.objects.get().election_date.isoformat() == "2027-02-23"
    household = place(tree.committee_a, 41.89, -87.69)
    call_command("geo", "assign")
    assert "1 households changed." in capsys.readouterr().out
    household.refresh_from_db()
    assert household.precinct_code == "001"

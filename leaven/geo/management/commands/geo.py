"""`leaven geo import FILE --kind precinct --code-field PREC_ID --name-field NAME`: load
boundaries from a GeoJSON or TopoJSON file; `leaven geo results FILE --election NAME`: load
precinct election results; `leaven geo assign`: put households in precincts and wards."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent
from leaven.geo import selectors, services
from leaven.geo.models import Jurisdiction


class Command(BaseCommand):
    help = "Geography: import boundaries or election results, assign households to precincts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        boundaries = sub.add_parser("import", help="Import boundaries (GeoJSON or TopoJSON).")
        boundaries.add_argument("file")
        boundaries.add_argument("--kind", required=True, choices=Jurisdiction.Kind.values)
        boundaries.add_argument("--code-field", required=True)
        boundaries.add_argument("--name-field", default="")
        boundaries.add_argument("--parent", default="", help="The parent jurisdiction's code.")
        boundaries.add_argument(
            "--parent-kind", default="", choices=["", *Jurisdiction.Kind.values]
        )
        results = sub.add_parser("results", help="Import precinct election results (CSV).")
        results.add_argument("file")
        results.add_argument("--election", required=True)
        results.add_argument("--date", default="", help="YYYY-MM-DD")
        sub.add_parser("assign", help="Assign households with coordinates to precincts.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with audit_source(AuditEvent.Source.COMMAND):
                getattr(self, f"_{options['action']}")(options)
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc

    def _read(self, name: str) -> bytes:
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"No file {name}.")
        return path.read_bytes()

    def _import(self, options: dict[str, Any]) -> None:
        parent = None
        if options["parent"]:
            parent = selectors.jurisdiction_find_parent(
                code=options["parent"], kind=options["parent_kind"]
            )
            if parent is None:
                raise CommandError(f"No jurisdiction has the code {options['parent']!r}.")
        summary = services.jurisdictions_import_geojson(
            actor=None,
            data=self._read(options["file"]),
            kind=options["kind"],
            code_field=options["code_field"],
            name_field=options["name_field"],
            parent=parent,
            as_operator=True,
        )
        for line in summary.repaired:
            self.stdout.write(line)
        for line in summary.rejected:
            self.stderr.write(line)
        self.stdout.write(
            f"{summary.created} created, {summary.updated} updated, "
            f"{len(summary.repaired)} repaired, {len(summary.rejected)} rejected."
        )

    def _results(self, options: dict[str, Any]) -> None:
        when = None
        if options["date"]:
            try:
                when = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("Give --date as YYYY-MM-DD.") from None
        summary = services.election_results_import_csv(
            actor=None,
            data=self._read(options["file"]),
            election=options["election"],
            election_date=when,
            as_operator=True,
        )
        self.stdout.write(
            f"{summary.rows} results in {summary.precincts} precincts: "
            f"{summary.created} created, {summary.updated} updated."
        )

    def _assign(self, options: dict[str, Any]) -> None:
        changed = services.households_assign_jurisdictions(actor=None, as_operator=True)
        self.stdout.write(f"{changed} households changed.")

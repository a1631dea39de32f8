"""`leaven unit create`: add a unit to the tree (root units are created this way)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leaven.core import services
from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent, OrgUnit


class Command(BaseCommand):
    help = "Create an org unit: `leaven unit create --name NAME --kind KIND [--parent SLUG]`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "list"])
        parser.add_argument("--name")
        parser.add_argument("--kind", choices=OrgUnit.Kind.values)
        parser.add_argument("--parent", help="The parent's slug; none for a root unit.")
        parser.add_argument("--slug", default="")
        parser.add_argument("--time-zone", default="")
        parser.add_argument("--languages", default="en,es")
        parser.add_argument(
            "--public-reports",
            action="store_true",
            help="Open the unit's public incident report page (closed unless given).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for unit in OrgUnit.objects.order_by("path"):
                self.stdout.write(f"{'  ' * unit.depth}{unit.slug}  {unit.name} ({unit.kind})")
            return
        if not options["name"] or not options["kind"]:
            raise CommandError("Give --name and --kind.")
        parent = None
        if options["parent"]:
            parent = OrgUnit.objects.filter(slug=options["parent"]).first()
            if parent is None:
                raise CommandError(f"No unit with slug {options['parent']!r}.")
        try:
            with audit_source(AuditEvent.Source.COMMAND):
                unit = services.unit_create(
                    actor=None,
                    name=options["name"],
                    kind=options["kind"],
                    parent=parent,
                    slug=options["slug"],
                    time_zone=options["time_zone"],
                    languages=[c.strip() for c in options["languages"].split(",") if c.strip()],
                    takes_public_reports=options["public_reports"],
                    as_operator=True,
                )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Created {unit.slug}")

"""`leaven demo`: load the demo organization (once) and print its logins."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent
from leaven.people import demo


class Command(BaseCommand):
    help = (
        "Load a bilingual demo organization (network, regions, committees, circles, ward "
        "teams, people, households, users for each role). Does nothing if it is already there."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=5000, help="How many people.")
        parser.add_argument("--seed", type=int, default=1, help="Seed of the generator.")
        parser.add_argument(
            "--batch-size", type=int, default=demo.DEFAULT_BATCH, help="People per transaction."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["people"] < 0:
            raise CommandError("--people cannot be negative.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        with audit_source(AuditEvent.Source.COMMAND):
            result = demo.demo_load(
                people=options["people"],
                seed=options["seed"],
                batch_size=options["batch_size"],
                progress=self.stdout.write,
            )
        if result.created:
            counts = result.counts
            self.stdout.write(
                ", ".join(
                    f"{counts.get(key, 0):,} {label}"
                    for key, label in (
                        ("households", "households"),
                        ("email", "emails"),
                        ("phone", "phones"),
                        ("personunit", "memberships"),
                        ("tagging", "tags applied"),
                        ("stagechange", "stage changes"),
                        ("relationship", "relationships"),
                        ("affiliation", "affiliations"),
                        ("note", "notes"),
                    )
                )
            )
        else:
            self.stdout.write("The demo organization is already loaded; nothing was changed.")
            if not result.complete:
                self.stderr.write(
                    "Warning: its load did not finish (no demo.loaded audit event). Start again "
                    "from an empty database to get the whole demo."
                )
        self._print_logins(result.logins)

    def _print_logins(self, logins: list[demo.DemoLogin]) -> None:
        headers = ("email", "password", "role", "unit")
        rows = [(login.email, login.password, login.role, login.unit) for login in logins]
        widths = [
            max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)
        ]

        def line(cells: tuple[str, ...]) -> str:
            return "  ".join(
                cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
            ).rstrip()

        self.stdout.write("")
        self.stdout.write("Demo logins (all share one password and one authenticator secret):")
        self.stdout.write(line(headers))
        self.stdout.write(line(tuple("-" * width for width in widths)))
        for row in rows:
            self.stdout.write(line(row))
        self.stdout.write("")
        self.stdout.write(
            "Every demo user signs in with a second factor. For the current 6-digit code run "
            "`leaven democode`, or add this secret to an authenticator app: "
            f"{demo.DEMO_TOTP_SECRET}"
        )
        self.stdout.write("These logins are for a demo database only; never use them elsewhere.")

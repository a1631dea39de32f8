"""`leaven import FILE --unit SLUG --mapping NAME [--mode valid|all] [--encoding cp1252]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent, OrgUnit, User
from leaven.imports import services
from leaven.imports.models import ColumnMapping, ImportJob


class Command(BaseCommand):
    help = "Import a CSV or tab-delimited file of people (a list or a voter file) into a unit."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="The file to import.")
        parser.add_argument("--unit", help="Slug of the unit to import into.")
        parser.add_argument(
            "--mapping",
            default="generic",
            help="A preset (ncvoter, actionnetwork, generic) or a saved mapping's name.",
        )
        parser.add_argument("--mode", choices=["valid", "all"], default="valid")
        parser.add_argument(
            "--encoding",
            choices=["utf-8", "cp1252"],
            default="",
            help="Confirm Windows-1252 for a file that is not UTF-8.",
        )
        parser.add_argument("--user", default="", help="Email of the acting user.")
        parser.add_argument(
            "--resume", type=int, default=0, help="Resume an interrupted import by its number."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_source(AuditEvent.Source.COMMAND):
            if options["resume"]:
                self._resume(options["resume"])
                return
            self._import(options)

    def _actor(self, email: str) -> Any:
        if not email:
            return services.OPERATOR
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError("No such user.")
        return user

    def _resume(self, job_id: int) -> None:
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is None:
            raise CommandError("No such import.")
        if job.state != ImportJob.State.DONE:
            ImportJob.objects.filter(pk=job.pk).update(
                state=ImportJob.State.RUNNING, cancel_requested=False
            )
        job = services.job_run(job_id=job.pk)
        self._report(job)

    def _import(self, options: dict[str, Any]) -> None:
        if not options["file"] or not options["unit"]:
            raise CommandError("Give a FILE and --unit.")
        unit = OrgUnit.objects.filter(slug=options["unit"]).first()
        if unit is None:
            raise CommandError("No such unit.")
        actor = self._actor(options["user"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError("No such file.")
        try:
            with path.open("rb") as stream:
                job = services.job_upload(
                    actor=actor,
                    owner_unit=unit,
                    file_name=path.name,
                    stream=stream,
                    size=path.stat().st_size,
                )
            if not job.encoding_confirmed:
                if options["encoding"] != "cp1252":
                    preview = services.non_ascii_preview(job)
                    for number, line in preview[:10]:
                        self.stdout.write(f"  line {number}: {line}")
                    raise CommandError(
                        "The file is not UTF-8. If the lines above read correctly as "
                        "Windows-1252, run again with --encoding cp1252."
                    )
                services.job_confirm_encoding(actor=actor, job=job)
            saved = ColumnMapping.objects.filter(
                owner_unit__in=_lineage(unit), name=options["mapping"]
            ).first()
            resolved = services.resolve_mapping(job=job, preset=options["mapping"], saved=saved)
            services.job_set_mapping(
                actor=actor,
                job=job,
                columns=resolved["columns"],
                constants=resolved["constants"],
                mode=options["mode"],
                name=options["mapping"],
            )
            ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
            self.stdout.write(f"import {job.pk}: {job.rows_total} rows")
            job = services.job_run(job_id=job.pk)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self._report(job)

    def _report(self, job: ImportJob) -> None:
        self.stdout.write(
            f"import {job.pk} {job.state}: read {job.rows_read}, created {job.rows_created}, "
            f"updated {job.rows_updated}, rejected {job.rows_rejected}"
        )
        if job.error:
            self.stdout.write(job.error)
        if job.state == ImportJob.State.FAILED:
            raise CommandError(job.error or "The import failed.")


def _lineage(unit: OrgUnit) -> list[int]:
    return [int(p) for p in unit.path.strip("/").split("/") if p]

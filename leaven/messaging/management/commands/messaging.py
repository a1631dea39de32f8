"""`leaven messaging worker`: deliver the outbox until stopped (SIGTERM stops it cleanly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent
from leaven.messaging import worker


class Command(BaseCommand):
    help = "Messaging: `worker` delivers queued email and texts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["worker"])
        parser.add_argument("--channel", action="append", choices=["email", "sms"])
        parser.add_argument(
            "--until-idle", action="store_true", help="Stop when nothing is left to send."
        )
        parser.add_argument("--poll", type=float, default=1.0, help="Seconds between polls.")

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_source(AuditEvent.Source.COMMAND):
            sent = worker.run(
                channels=options["channel"],
                until_idle=options["until_idle"],
                poll=options["poll"],
                log=lambda line: self.stdout.write(line) if options["verbosity"] > 1 else None,
                on_ready=self._ready,
            )
        self.stdout.write(f"sent {sent}")

    def _ready(self) -> None:
        self.stdout.write("worker ready")
        self.stdout.flush()

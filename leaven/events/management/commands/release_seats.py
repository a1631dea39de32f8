"""Release unused mobilization seats whose deadline has passed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent
from leaven.events import services


class Command(BaseCommand):
    help = "Give unused seats back to the shared pool at each mobilization's deadline."

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_source(AuditEvent.Source.COMMAND):
            done = services.mobilization_release_due()
        self.stdout.write(f"released seats of {len(done)} events")

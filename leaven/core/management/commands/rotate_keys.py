"""`leaven rotate-keys`: re-encrypt every stored encrypted value with the primary key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from leaven.core.audit import audit_source
from leaven.core.keys import rotate_all
from leaven.core.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Re-encrypt stored fields that were written with an older key. Put the new key first "
        "in LEAVEN_ENCRYPTION_KEYS, keep the old ones after it, run this, then drop the old."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_source(AuditEvent.Source.COMMAND):
            counts = rotate_all(actor=None, batch_size=options["batch_size"])
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} re-encrypted")
        self.stdout.write(f"Done: {sum(counts.values())} values now use the primary key.")

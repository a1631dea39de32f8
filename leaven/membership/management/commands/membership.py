"""`leaven membership rules [--today YYYY-MM-DD]`: apply the daily membership rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent
from leaven.membership import services


class Command(BaseCommand):
    help = "Membership upkeep. `rules`: move memberships by their dates and queue reminders."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rules"])
        parser.add_argument("--today", help="the date to apply the rules for (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            today = (
                dt.date.fromisoformat(options["today"])
                if options["today"]
                else timezone.localdate()
            )
        except ValueError:
            raise CommandError("--today must be a date such as 2026-01-31") from None
        with audit_source(AuditEvent.Source.COMMAND):
            result = services.membership_apply_rules(today=today)
        self.stdout.write(
            f"grace {result.grace}, lapsed {result.lapsed}, "
            f"waivers to review {result.waiver_review}, "
            f"renewal reminders {result.renewal_reminders}"
        )

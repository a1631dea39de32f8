"""`leaven createuser`: a user with a role on a unit."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from leaven.core import services
from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent, OrgUnit, Role, User


class Command(BaseCommand):
    help = "Create a user (or reuse one by email) and give them a role on an org unit."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", help="Asked for when not given.")
        parser.add_argument("--role", choices=Role.values)
        parser.add_argument("--unit", help="The unit's slug.")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--language", default="en")
        parser.add_argument("--superuser", action="store_true", help="An operator account.")

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["role"]) != bool(options["unit"]):
            raise CommandError("Give --role and --unit together.")
        unit = None
        if options["unit"]:
            unit = OrgUnit.objects.filter(slug=options["unit"]).first()
            if unit is None:
                raise CommandError(f"No unit with slug {options['unit']!r}.")
        with audit_source(AuditEvent.Source.COMMAND), transaction.atomic():
            user = User.objects.filter(email__iexact=options["email"]).first()
            if user is None:
                password = options["password"] or getpass.getpass("Password: ")
                try:
                    user = services.user_create(
                        actor=None,
                        email=options["email"],
                        password=password,
                        first_name=options["first_name"],
                        last_name=options["last_name"],
                        language=options["language"],
                    )
                except ValidationError as exc:
                    raise CommandError("; ".join(exc.messages)) from exc
                self.stdout.write(f"Created {user.email}")
            if options["superuser"]:
                services.user_make_operator(actor=None, user=user)
            if unit is not None:
                services.role_grant(
                    actor=None, user=user, unit=unit, role=options["role"], as_operator=True
                )
                self.stdout.write(f"{user.email} is {options['role']} of {unit.name}")

"""`leaven apikey create --unit SLUG --name NAME`, `leaven apikey revoke ID`,
`leaven apikey list`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leaven.api import services
from leaven.api.models import ApiKey
from leaven.core.audit import audit_source
from leaven.core.models import AuditEvent, OrgUnit


class Command(BaseCommand):
    help = "Create, list and revoke keys for the Action Network-compatible API."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a key; prints the token once.")
        create.add_argument("--unit", required=True, help="The unit's slug.")
        create.add_argument("--name", required=True, help="What uses the key.")
        revoke = sub.add_parser("revoke", help="Revoke a key by id.")
        revoke.add_argument("id", type=int)
        sub.add_parser("list", help="List keys (never their tokens).")

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_source(AuditEvent.Source.COMMAND):
            action = options["action"]
            if action == "create":
                unit = OrgUnit.objects.filter(slug=options["unit"]).first()
                if unit is None:
                    raise CommandError(f"No unit with the slug {options['unit']!r}.")
                try:
                    key, token = services.apikey_create(
                        actor=None, unit=unit, name=options["name"], as_operator=True
                    )
                except ValidationError as exc:
                    raise CommandError(" ".join(exc.messages)) from exc
                self.stdout.write(f"Key {key.pk} for {unit.slug}. Token (shown once):")
                self.stdout.write(token)
            elif action == "revoke":
                found = ApiKey.objects.select_related("unit").filter(pk=options["id"]).first()
                if found is None:
                    raise CommandError(f"No key {options['id']}.")
                services.apikey_revoke(actor=None, key=found, as_operator=True)
                self.stdout.write(f"Key {found.pk} revoked.")
            else:
                for key in ApiKey.objects.select_related("unit").order_by("pk"):
                    state = "revoked" if key.revoked_at else "active"
                    self.stdout.write(
                        f"{key.pk}\t{key.unit.slug}\t{key.prefix}…\t{state}\t{key.name}"
                    )

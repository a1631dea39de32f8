"""The `leaven` command: Leaven's own commands plus everything `manage.py` does.

leaven serve              web workers and a task worker, in one command
leaven demo               load the demo organization
leaven democode           the current sign-in code of the demo users
leaven createuser         create a user with a role on a unit
leaven unit create        add a unit to the organization tree
leaven rotate-keys        re-encrypt stored fields with the current key
leaven genenv             print a fresh .env with new secrets
leaven <anything else>    the Django management command of that name
"""

from __future__ import annotations

import os
import sys

ALIASES = {"rotate-keys": "rotate_keys", "create-user": "createuser", "unit": "unit"}


def genenv() -> str:
    import secrets

    from leaven.core.crypto import generate_key

    return "\n".join(
        [
            "# Written by `leaven genenv`. Keep this file secret.",
            f"SECRET_KEY={secrets.token_urlsafe(50)}",
            f"LEAVEN_ENCRYPTION_KEYS=k1:{generate_key()}",
            f"LEAVEN_BLIND_INDEX_KEY={generate_key()}",
            "LEAVEN_HTTPS=false",
            "ALLOWED_HOSTS=127.0.0.1,localhost",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and args[1] == "genenv":
        sys.stdout.write(genenv())
        return
    if len(args) > 1:
        args[1] = ALIASES.get(args[1], args[1])
    args[0] = "leaven"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaven.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)


if __name__ == "__main__":
    main()

"""`leaven democode`: the current 6-digit second-factor code of the demo users."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from leaven.people.demo import demo_code


class Command(BaseCommand):
    help = "Print the current TOTP code of the demo users' shared (demo-only) secret."

    def handle(self, *args: Any, **options: Any) -> None:
        from allauth.mfa import app_settings

        self.stdout.write(demo_code())
        period = int(app_settings.TOTP_PERIOD)
        self.stderr.write(f"(valid for about {period - int(time.time()) % period} more seconds)")

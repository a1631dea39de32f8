"""`leaven scheduler`: enqueue periodic tasks when they are due; Ctrl-C or SIGTERM stops it."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from leaven.core.scheduler import tick


class Command(BaseCommand):
    help = "Enqueue Leaven's periodic tasks (membership rules, seat releases, scheduled sends)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--interval", type=float, default=20.0)

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping:
            for name in tick():
                self.stdout.write(f"enqueued {name}")
            if options["once"]:
                break
            deadline = time.monotonic() + options["interval"]
            while not stopping and time.monotonic() < deadline:
                time.sleep(0.5)

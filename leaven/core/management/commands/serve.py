"""`leaven serve`: gunicorn web workers and a task worker side by side; Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Leaven with gunicorn and run a background task worker beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("LEAVEN_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )
        parser.add_argument("--task-workers", type=int, default=1)
        parser.add_argument("--no-migrate", action="store_true", help="Skip migrations.")
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Do not start the scheduler of periodic tasks (run one per deployment).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        web = [
            sys.executable, "-m", "gunicorn", "leaven.wsgi:application",
            "--bind", options["bind"],
            "--workers", str(options["workers"]),
            "--graceful-timeout", "10",
            "--access-logfile", "-",
            # Paths only: a query string may hold a search term, never log it.
            "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        ]  # fmt: skip
        worker = [sys.executable, "-m", "leaven.cli", "db_worker", "--queue-name", "default"]
        children = [subprocess.Popen(web)]  # noqa: S603
        children += [subprocess.Popen(worker) for _ in range(options["task_workers"])]  # noqa: S603
        if not options["no_scheduler"]:
            scheduler = [sys.executable, "-m", "leaven.cli", "scheduler"]
            children.append(subprocess.Popen(scheduler))  # noqa: S603
        self.stdout.write(f"Leaven is serving on http://{options['bind']} (Ctrl-C stops it)")

        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                if any(child.poll() is not None for child in children):
                    self.stderr.write("A child process exited; stopping.")
                    break
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
            self.stdout.write("Stopped.")

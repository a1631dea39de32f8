"""The outbox worker loop: claim, send, record; stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections

from leaven.messaging import conf, services
from leaven.messaging.models import Channel
from leaven.messaging.transports import Transport, transport_for


class Throttle:
    """At most `rate` messages a second on average (0: no limit)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.started = time.monotonic()
        self.count = 0

    def wait(self, sent: int, stop: threading.Event) -> None:
        if self.rate <= 0 or not sent:
            return
        self.count += sent
        ahead = self.count / self.rate - (time.monotonic() - self.started)
        if ahead > 0:
            stop.wait(ahead)


def run(
    *,
    channels: list[str] | None = None,
    until_idle: bool = False,
    poll: float = 1.0,
    stop: threading.Event | None = None,
    log: Callable[[str], None] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Run until stopped (SIGTERM, SIGINT or `stop`), or with until_idle until nothing is
    due or leased. Returns how many messages were sent."""
    stop = stop or threading.Event()
    channels = channels or list(Channel.values)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_args: stop.set())
    transports: dict[str, Transport] = {c: transport_for(c) for c in channels}
    throttles: dict[str, Throttle] = {
        Channel.EMAIL: Throttle(float(conf.get("LEAVEN_EMAIL_RATE"))),
        Channel.SMS: Throttle(float(conf.get("LEAVEN_SMS_RATE"))),
    }
    total = 0
    last_schedule_check = 0.0
    services.delivery_warm_up()
    if on_ready:
        on_ready()
    while not stop.is_set():
        close_old_connections()
        if time.monotonic() - last_schedule_check > 30:
            services.broadcast_queue_due()
            last_schedule_check = time.monotonic()
        handled = 0
        for channel in channels:
            if stop.is_set():
                break
            result = services.outbox_process(channel=channel, transport=transports[channel])
            handled += result.handled
            total += result.sent
            throttles[channel].wait(result.sent, stop)
            if log and result.handled:
                log(f"{channel}: {result}")
        if handled:
            continue
        if until_idle and not services.outbox_has_work():
            break
        stop.wait(poll)
    return total

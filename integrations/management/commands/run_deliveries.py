"""The embedded delivery loop: sends due deliveries from the outbox without Celery.

`make run` starts it beside the web server. It polls every DELIVERY_POLL_MS and sends on a
small thread pool, so one slow partner does not hold up the others. It calls the same
delivery_send as the Celery task; several loops (or a loop and Celery) may run at once,
because each send claims its delivery first.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from integrations import sending
from referrals.services import referrals_purge_by_policy, referrals_sweep

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Send due deliveries from the outbox (the embedded default, when Celery is not used)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="One pass in this thread, then exit."
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=settings.DELIVERY_LOOP_THREADS,
            help="How many deliveries may be in flight at once (default %(default)s).",
        )

    def handle(self, *args, once: bool = False, threads: int = 4, **options) -> None:
        if once:
            referrals_purge_by_policy()
            expired = referrals_sweep()
            sent = sending.deliveries_send_due()
            self.stdout.write(f"{sent} deliveries attempted, {expired} referrals expired")
            return
        self._loop(max(1, threads))

    def _loop(self, threads: int) -> None:
        stop = threading.Event()
        # Set when a send ends (or on stop): its endpoint's slot is free, so the next due
        # delivery there goes now, not at the next poll. Waiting out the poll instead held
        # one endpoint's backlog to its send slots per poll (2 per 200 ms: 10 a second).
        woken = threading.Event()

        def stop_now(*_) -> None:
            stop.set()
            woken.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, stop_now)
        poll = settings.DELIVERY_POLL_MS / 1000
        in_flight: set[int] = set()
        lock = threading.Lock()
        last_expiry = 0.0
        last_purge = 0.0
        last_release = 0.0

        def send(delivery_id: int) -> None:
            close_old_connections()
            try:
                sending.delivery_send(delivery_id=delivery_id)
            except Exception:
                # The claim's lease runs out and the delivery is tried again: nothing is lost.
                logger.exception("sending delivery %s failed unexpectedly", delivery_id)
            finally:
                with lock:
                    in_flight.discard(delivery_id)
                close_old_connections()
                woken.set()

        self.stdout.write(f"run_deliveries: polling every {poll:g} s with {threads} senders")
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="delivery") as pool:
            while not stop.is_set():
                submitted = 0
                woken.clear()
                close_old_connections()
                try:
                    if time.monotonic() - last_expiry >= settings.DELIVERY_SWEEP_SECONDS:
                        # The referrals' own sweep, as beat runs it when there is a broker.
                        referrals_sweep()
                        last_expiry = time.monotonic()
                    # The retention purge, as beat runs it when there is a broker.
                    if time.monotonic() - last_purge >= settings.PATIENT_DETAILS_PURGE_SECONDS:
                        referrals_purge_by_policy()
                        last_purge = time.monotonic()
                    if time.monotonic() - last_release >= settings.DELIVERY_SWEEP_SECONDS:
                        # What a killed loop before this one held goes now, not at its lease.
                        sending.leases_of_dead_senders_release()
                        last_release = time.monotonic()
                    with lock:
                        busy = set(in_flight)
                    free = threads - len(busy)
                    if free > 0:
                        for delivery_id in sending.deliveries_due(limit=free + len(busy)):
                            if delivery_id in busy or submitted >= free:
                                continue
                            with lock:
                                in_flight.add(delivery_id)
                            pool.submit(send, delivery_id)
                            submitted += 1
                except DatabaseError:
                    logger.exception("delivery loop could not read the outbox; retrying")
                # Come straight back while there is work; otherwise until a send ends or
                # the poll is up.
                woken.wait(0.02 if submitted else poll)
        self.stdout.write("run_deliveries: stopped")

"""The chaos suite's partner: a webhook receiver in a thread of the test process whose
answer the test switches (200, 503, 410, 429 with Retry-After, or hanging), and every
request it saw."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECEIVER_PORT = int(os.environ.get("CHAOS_RECEIVER_PORT", "8191"))


@dataclass
class Hit:
    at: float
    webhook_id: str
    referral_id: str
    answered: int | None  # None: hung up without an answer


class SwitchableReceiver:
    """A webhook receiver whose answer the test switches: 200, 503, 410, 429 or "hang".

    `per_message`: answer this way only to each message's first request, 200 after.
    """

    def __init__(self, port: int = RECEIVER_PORT) -> None:
        self.mode: int | str = 200
        self.retry_after = "3"
        self.per_message = False
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                webhook_id = self.headers.get("webhook-id", "")
                try:
                    referral_id = json.loads(body)["data"]["referral_id"]
                except (ValueError, KeyError, TypeError):
                    referral_id = ""
                with receiver._lock:
                    mode = receiver.mode
                    if receiver.per_message and any(
                        h.webhook_id == webhook_id for h in receiver.hits
                    ):
                        mode = 200
                    hit = Hit(time.monotonic(), webhook_id, referral_id, None)
                    receiver.hits.append(hit)
                if mode == "hang":
                    receiver._closing.wait(120)
                    return
                hit.answered = int(mode)
                self.send_response(hit.answered)
                if hit.answered in (429, 503) and receiver.retry_after:
                    self.send_header("Retry-After", receiver.retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def snapshot(self) -> list[Hit]:
        with self._lock:
            return list(self.hits)

    def delivered_webhook_ids(self) -> Counter:
        """webhook-id -> how many times it was answered 200 (more than once: a duplicate)."""
        return Counter(h.webhook_id for h in self.snapshot() if h.answered == 200)

    def close(self) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()

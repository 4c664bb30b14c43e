"""A real HTTP receiver on 127.0.0.1, in a thread, that answers as a test scripts it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answer (until the receiver closes)
    delay: float = 0.0  # seconds to think before answering


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class Receiver:
    """Records every POST; answers with the scripted answers in turn, then 200."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.received: list[Received] = []
        self._closing = threading.Event()
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._arrived:
                    receiver.received.append(Received(self.path, headers, body))
                    answer = receiver.answers.pop(0) if receiver.answers else Answer()
                    receiver._arrived.notify_all()
                if answer.hang:
                    receiver._closing.wait()
                    return
                time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def wait_for(self, count: int, *, within: float = 30.0) -> list[Received]:
        """Block until `count` requests arrived (for other processes' sends), or fail."""
        deadline = time.monotonic() + within
        with self._arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"receiver got {len(self.received)} requests, expected {count}"
                    )
                self._arrived.wait(left)
        return self.received

    def close(self) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()

"""A local webhook receiver for the demo: checks each message's signature and logs it.

`make run` starts it beside the server; seed_demo points the demo partner's webhook here.
It logs the event, its status and the referral's id, never anything about the patient.
"""

from __future__ import annotations

from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from integrations.demo import received_summary, signature_valid
from integrations.models import Endpoint

MAX_BODY = 1024 * 1024


def receiver_secrets(port: int) -> list[str]:
    """The signing secrets of the endpoints that point at this receiver."""
    return list(
        Endpoint.objects.filter(
            kind__in=[Endpoint.Kind.WEBHOOK, Endpoint.Kind.FHIR],
            url__startswith=f"http://127.0.0.1:{port}/",
        ).values_list("secret", flat=True)
    )


def receiver_server(
    *, host: str, port: int, secrets: Callable[[], list[str]], out: TextIO
) -> ThreadingHTTPServer:
    """An HTTP server that answers 204 to a correctly signed POST and 401 to anything else."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._answer(413, "refused a message over 1 MB")
                return
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            summary = received_summary(headers=headers, body=body)
            if not signature_valid(secrets=secrets(), headers=headers, body=body):
                self._answer(401, f"refused (bad or missing signature): {summary.line()}")
                return
            self._answer(204, f"received, signature checked: {summary.line()}")

        def _answer(self, status: int, line: str) -> None:
            # Logged before answering: once the sender has its answer, the line is there.
            out.write(f"demo_receiver: {line}\n")
            out.flush()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass  # our own line above says what matters; the request line adds nothing

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


class Command(BaseCommand):
    help = "Receive the demo partner's webhooks on 127.0.0.1, check their signature and log them."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=settings.DEMO_RECEIVER_PORT)

    def handle(self, *args, port: int, **options):
        def secrets() -> list[str]:
            # Each request runs on its own thread: read the current secrets, then let go of
            # the connection so the receiver holds none between messages.
            try:
                return receiver_secrets(port)
            finally:
                connection.close()

        server = receiver_server(host="127.0.0.1", port=port, secrets=secrets, out=self.stdout)
        self.stdout.write(f"demo_receiver: listening on http://127.0.0.1:{port}/")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

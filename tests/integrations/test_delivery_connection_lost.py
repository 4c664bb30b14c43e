"""A send whose database connection is terminated under it (pg_terminate_backend, a
database restart) carries on with a new one: the partner's answer is recorded, the
delivery is not held until its lease runs out, and it is not sent a second time."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection, connections

from integrations import sending
from integrations.models import Delivery
from tests.integrations.conftest import make_endpoint, make_referral

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL backend"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


class TerminatingReceiver:
    """Answers 200, but first terminates the database connection of the sender (by pid)."""

    def __init__(self, sender_pid: int) -> None:
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests += 1
                try:
                    with connections["default"].cursor() as cursor:  # this thread's own
                        cursor.execute("SELECT pg_terminate_backend(%s)", [sender_pid])
                finally:
                    connections["default"].close()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_it_records_the_answer_when_its_database_connection_is_terminated_mid_send(
    crew, service, provider
):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    receiver = TerminatingReceiver(pid)
    try:
        make_endpoint(provider, url=receiver.url)
        make_referral(crew, service)
        delivery = Delivery.objects.get()

        sent = sending.delivery_send(delivery_id=delivery.pk)
    finally:
        receiver.close()

    assert sent.status == Delivery.Status.DELIVERED
    assert sent.locked_until is None
    assert receiver.requests == 1

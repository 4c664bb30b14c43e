"""The production commands as the README prints them, for tests that run them as printed."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database as a DATABASE_URL, for the processes a test starts beside it."""
    db = connection.settings_dict
    port = f":{db['PORT']}" if db.get("PORT") else ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}{port}/{db['NAME']}"


@contextlib.contextmanager
def broker_to_ourselves(url: str) -> Iterator[None]:
    """Hold this broker for the block against every other test process on the machine (the
    run's xdist workers, another checkout's run): each purges its queues and starts a worker
    that takes any task there, and a task queued beside another test database would be run
    against the wrong one."""
    name = hashlib.sha256(url.encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"frontdoor-broker-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def on_test_broker(url: str, settings) -> Iterator[str]:
    """This process's Celery app and settings on the test broker `url`, held against other
    test processes (broker_to_ourselves), its queues purged of tasks an earlier run left;
    everything put back when the block ends."""
    from config.celery import app
    from integrations import queueing

    with broker_to_ourselves(url):
        settings.CELERY_BROKER_URL = url
        previous = app.conf.broker_url
        app.conf.broker_url = url
        with app.connection_for_write() as conn:
            for queue in app.amqp.queues:
                conn.default_channel.queue_purge(queue)
        try:
            yield url
        finally:
            queueing._publisher_drop()
            app.close()
            app.conf.broker_url = previous


@contextlib.contextmanager
def celery_worker(env: dict[str, str], *options: str) -> Iterator[tuple[subprocess.Popen, Path]]:
    """A `celery -A config worker` process of the test's own (with `options`), its output in a
    log file; stopped by pid when the block ends (TERM, then KILL of its process group), and
    its log's end printed if it holds a traceback (pytest shows it when the test fails)."""
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "worker.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", *options,
                 "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info"],
                cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            try:
                yield process, log_path
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        output = log_path.read_text(errors="replace")
        if "Traceback" in output:
            print(output[-5000:])


def readme_commands() -> dict[str, list[str]]:
    """{"worker": argv, "beat": argv}: the Celery commands in the README's Production shape."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Production shape", 1)[1].split("\n## ", 1)[0]
    commands = {}
    for line in section.splitlines():
        match = re.match(r"\s+(celery -A config (worker|beat)\b.*)$", line)
        if match:
            commands[match.group(2)] = shlex.split(match.group(1))
    return commands


def procfile_commands() -> dict[str, list[str]]:
    """{"process type": argv} from the Procfile."""
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            commands[name.strip()] = shlex.split(command)
    return commands


def worker_queues(argv: list[str], app) -> set[str]:
    """The queues a `celery worker` started with argv consumes (-Q, else every declared one)."""
    for i, arg in enumerate(argv):
        if arg in {"-Q", "--queues"}:
            return set(argv[i + 1].split(","))
        if arg.startswith("--queues="):
            return set(arg.split("=", 1)[1].split(","))
    return set(app.amqp.queues)


class RedisServer:
    """A redis-server of the test's own, on one port, that the test may kill and restart."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: the broker dies as in a crash, with no goodbye to its clients."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]

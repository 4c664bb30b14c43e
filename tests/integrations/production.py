"""The production commands as the README prints them, for tests that run them as printed."""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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

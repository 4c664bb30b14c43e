"""The production commands as the README prints them, for tests that run them as printed."""

from __future__ import annotations

import re
import shlex
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

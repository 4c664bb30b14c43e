"""The chaos suite's real processes and load: each started and stopped by this test, by pid.

The partner's switchable receiver (receiver.py, in a thread of the test process), gunicorn
as production runs it (config/gunicorn.py, two workers of four threads), the README's Celery
worker and beat, the embedded run_deliveries loop, a redis-server of the test's own, and a crew
client that creates referrals over HTTP the way an ePCR does (one Idempotency-Key per
referral, the same key again after a dropped connection or a 5xx).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from pathlib import Path

from django.conf import settings

from tests.chaos.receiver import SwitchableReceiver  # noqa: F401 (the suite's partner)
from tests.integrations.production import ROOT, database_url, readme_commands

BIN = Path(sys.executable).parent
# The ports of this suite (HTTP 8191-8199, Redis 6401-6409): fixed, so a leftover is visible.
WEB_PORT = int(os.environ.get("CHAOS_WEB_PORT", "8192"))
REDIS_PORT = int(os.environ.get("CHAOS_REDIS_PORT", "6401"))
# 1,000 referrals per scenario unless CI's time asks for fewer; each table prints the count.
REFERRALS = int(os.environ.get("CHAOS_REFERRALS", "1000"))
# 2880: the 24 h retry window passes in 30 s, two days of back-off in a minute.
TIME_SCALE = 2880


def eventually(check, *, within: float, what: str) -> None:
    """Wait for other processes to get somewhere (a bound against hanging, not a timing test)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:g} s: {what}")
        time.sleep(0.2)


# --- processes -------------------------------------------------------------------------


class Process:
    """One command of ours in its own process group: killed, it takes its children with it
    (a Celery worker's pool, gunicorn's workers), and nothing else."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name, self.argv, self.env, self.workdir = name, argv, env, workdir
        self.process: subprocess.Popen | None = None
        self.log = workdir / f"{name}.log"
        self.starts = 0

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv, cwd=self.workdir, env=self.env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.starts += 1

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the group this process leads: a crash, with no goodbye."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def process_env(**overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DEBUG": "true",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": "",
        "OUTBOUND_ALLOW_PRIVATE": "true",
        "OUTBOUND_TIMEOUT_SECONDS": "2",
        "DELIVERY_SWEEP_SECONDS": "1",
        "DELIVERY_POLL_MS": "200",
        "DELIVERY_TIME_SCALE": str(TIME_SCALE),
        "SITE_URL": "https://frontdoor.test",
        "LOG_LEVEL": "WARNING",
        # A scenario slowed by a loaded machine can outlast the 10 min a partner has to
        # acknowledge; its escalations would be webhook-ids the invariant does not count.
        "ESCALATE_WITHIN_1H_MINUTES": "1440",
    }
    env.update(overrides)
    return env


def field_encryption_key() -> str:
    """The key this test process stored the endpoints' secrets with (integrations/fields.py:
    FIELD_ENCRYPTION_KEY, else derived from SECRET_KEY), for a process with a SECRET_KEY of
    its own, as a deployment sets FIELD_ENCRYPTION_KEY before changing SECRET_KEY."""
    if settings.FIELD_ENCRYPTION_KEY:
        return settings.FIELD_ENCRYPTION_KEY
    digest = hashlib.sha256(b"frontdoor endpoint secrets\0" + settings.SECRET_KEY.encode())
    return base64.urlsafe_b64encode(digest.digest()).decode()


def production_web_env(env: dict[str, str]) -> dict[str, str]:
    """The web process with DEBUG off, as deployed (its 500s are the API's error shape), on
    plain HTTP here since no TLS proxy stands in front of it."""
    return {
        **env,
        "DEBUG": "false",
        "SECRET_KEY": "chaos-" + uuid.uuid4().hex * 2,
        "FIELD_ENCRYPTION_KEY": field_encryption_key(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DELIVERY_TIME_SCALE": "1",
        "OUTBOUND_ALLOW_PRIVATE": "false",
    }


def web(env, workdir) -> Process:
    return Process(
        "gunicorn",
        [str(BIN / "gunicorn"), "-c", str(ROOT / "config" / "gunicorn.py"), "--workers", "2",
         "--bind", f"127.0.0.1:{WEB_PORT}", "--timeout", "30", "--graceful-timeout", "5"],
        env, workdir,
    )  # fmt: skip


def celery(kind: str, env, workdir) -> Process:
    """The README's `celery -A config worker ...` or `celery -A config beat`, as printed."""
    argv = readme_commands()[kind]
    return Process(kind, [str(BIN / "celery"), *argv[1:]], env, workdir)


def delivery_loop(env, workdir) -> Process:
    return Process(
        "run_deliveries", [sys.executable, str(ROOT / "manage.py"), "run_deliveries"], env, workdir
    )


def start_stack(processes: list[Process], env, workdir) -> tuple[Process, Process, Process]:
    """gunicorn, the Celery worker and beat, started (and owned by `processes`, which the
    test's fixture kills by pid), once the web answers."""
    stack = (web(env, workdir), celery("worker", env, workdir), celery("beat", env, workdir))
    start_all(processes, *stack)
    return stack


def start_all(processes: list[Process], *started: Process) -> None:
    processes.extend(started)
    for process in processes:
        process.start()
    wait_for_http(WEB_PORT)


def gunicorn_workers(master: Process) -> list[int]:
    """Pids of the gunicorn workers (the master's children), read from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master.pid:
            children.append(int(entry.name))
    return children


def wait_for_http(port: int, *, within: float = 90) -> None:
    def up() -> bool:
        try:
            conn = HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/me/")
            conn.getresponse().read()
            conn.close()
            return True
        except OSError:
            return False

    eventually(up, within=within, what=f"an HTTP server on port {port}")


# --- the crews' load -------------------------------------------------------------------


def referral_body(service_id: int, n: int) -> dict:
    """A fictional patient; the receiver only ever sees ids."""
    return {
        "service": service_id,
        "incident_reference": f"CAD-CHAOS-{n}",
        "urgency": "within_1h",
        "patient": {"given_name": "Chaos", "family_name": "Testpatient", "sex": "female",
                    "date_of_birth": "1950-01-01", "postcode": "SW1A 1AA"},
        "clinical": {"category": "falls", "presenting_complaint": "fell", "summary": "test",
                     "observations": {}, "safeguarding_concern": False, "mobility": "with_aid"},
        "consent": {"given": True},
    }  # fmt: skip


@dataclass
class Load:
    """Creates `count` referrals on `threads` connections, retrying each with its own key."""

    token: str
    service_id: int
    count: int
    threads: int = 4
    created: dict[str, str] = field(default_factory=dict)  # idempotency key -> referral id
    first_answers: dict[str, dict] = field(default_factory=dict)
    bodies: dict[str, bytes] = field(default_factory=dict)
    server_errors: list[dict] = field(default_factory=list)  # the bodies of 5xx answers
    statuses: Counter = field(default_factory=Counter)  # every answer, and "dropped"
    worst_seconds: float = 0.0
    started: float = 0.0
    finished: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)

    def _post(self, key: str, body: bytes) -> tuple[int, dict]:
        conn = HTTPConnection("127.0.0.1", WEB_PORT, timeout=30)
        try:
            conn.request(
                "POST", "/api/v1/referrals/", body=body,
                headers={"Authorization": f"Token {self.token}", "Idempotency-Key": key,
                         "Content-Type": "application/json"},
            )  # fmt: skip
            response = conn.getresponse()
            raw = response.read()
            try:
                return response.status, json.loads(raw)
            except ValueError:
                return response.status, {}
        finally:
            conn.close()

    def _one(self, n: int, lock: threading.Lock) -> None:
        key = str(uuid.uuid4())
        body = json.dumps(referral_body(self.service_id, n)).encode()
        with lock:
            self.bodies[key] = body
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            began = time.monotonic()
            try:
                status, answer = self._post(key, body)
            except (OSError, HTTPException):
                # The connection broke before the whole answer came (refused, reset, or cut
                # mid-body by a killed worker: IncompleteRead): the device tries again.
                status, answer = "dropped", {}
            with lock:
                self.statuses[status] += 1
                if status != "dropped" and status >= 500:
                    self.server_errors.append(answer)
                if status == 201:
                    self.worst_seconds = max(self.worst_seconds, time.monotonic() - began)
                    self.created[key] = answer["id"]
                    self.first_answers[key] = answer
                    return
            if status not in ("dropped", 409) and status < 500:
                raise AssertionError(f"referral {n} answered {status}: {answer}")
            time.sleep(0.2)  # a crew's device tries again with the same key
        raise AssertionError(f"referral {n} never answered 201")

    def run(self) -> None:
        lock = threading.Lock()
        self.started = time.monotonic()
        counter = iter(range(self.count))
        counter_lock = threading.Lock()
        errors: list[BaseException] = []

        def worker() -> None:
            while True:
                with counter_lock:
                    n = next(counter, None)
                if n is None:
                    return
                try:
                    self._one(n, lock)
                except BaseException as exc:  # noqa: BLE001 - reported by the test
                    errors.append(exc)
                    return

        pool = [threading.Thread(target=worker) for _ in range(self.threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        self.finished = time.monotonic()
        self.errors = errors
        self.done.set()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread

    def replay(self, key: str) -> tuple[int, dict]:
        return self._post(key, self.bodies[key])


# --- the figures -----------------------------------------------------------------------

RESULTS: list[dict] = []


def record(scenario: str, **figures) -> None:
    """One row of the suite's table (printed at the end of the run, and now with -s)."""
    row = {"scenario": scenario, **figures}
    RESULTS.append(row)
    print("\nchaos:", "  ".join(f"{k}={v}" for k, v in row.items()))


def table() -> str:
    if not RESULTS:
        return ""
    columns = list(dict.fromkeys(k for row in RESULTS for k in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for row in RESULTS:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    try:
        load = "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    except OSError:
        load = ""
    return "\n".join(lines) + f"\n({os.cpu_count()} cores, {load})"

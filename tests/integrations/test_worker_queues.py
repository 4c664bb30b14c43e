"""The worker the README starts consumes every queue that deliveries and the sweep go to."""

import shlex
from pathlib import Path

from django.conf import settings

from config.celery import app
from tests.integrations.production import (
    ROOT,
    procfile_commands,
    readme_commands,
    worker_queues,
)


def _queue_of(task_name: str, **options) -> str:
    return app.amqp.router.route(options, task_name)["queue"].name


def test_the_readme_worker_consumes_the_queues_deliveries_are_sent_to():
    consumed = worker_queues(readme_commands()["worker"], app)
    assert _queue_of("integrations.deliver") in consumed
    assert _queue_of("integrations.sweep") in consumed
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert _queue_of(entry["task"], **entry.get("options", {})) in consumed


def test_the_sweep_has_a_queue_of_its_own_and_a_stale_sweep_is_dropped():
    assert _queue_of("integrations.sweep") != _queue_of("integrations.deliver")
    # Each queue has its own binding, so no task is copied into the other queue.
    bindings = [(q.exchange.name, q.routing_key) for q in app.amqp.queues.values()]
    assert len(set(bindings)) == len(bindings)
    entry = settings.CELERY_BEAT_SCHEDULE["deliveries-sweep"]
    # A sweep still queued after a few intervals is discarded unrun: newer ones are coming,
    # so at most a minute's worth run when a worker comes back, not every one beat sent.
    assert settings.DELIVERY_SWEEP_SECONDS <= entry["options"]["expires"] <= 60


def test_the_procfile_runs_the_readme_commands():
    readme, procfile = readme_commands(), procfile_commands()
    assert procfile["worker"] == readme["worker"]
    assert procfile["beat"] == readme["beat"]


def test_the_systemd_worker_unit_runs_the_readme_worker_and_restarts_it():
    unit = (ROOT / "deploy/systemd/frontdoor-worker.service").read_text()
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart="))
    assert Path(argv[0]).name == "celery"
    assert argv[1:] == readme_commands()["worker"][1:]
    assert "Restart=always" in unit.splitlines()

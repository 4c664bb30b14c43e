"""The web processes' gunicorn settings (config/gunicorn.py), shared by the Procfile and the
referral benchmark."""

import runpy
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "config/gunicorn.py")


def test_it_runs_two_gthread_workers_of_four_threads_by_default(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("WEB_THREADS", raising=False)
    settings = runpy.run_path(CONFIG)
    assert (settings["worker_class"], settings["workers"], settings["threads"]) == (
        "gthread",
        2,
        4,
    )


def test_it_takes_its_size_from_the_environment(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("WEB_THREADS", "2")
    settings = runpy.run_path(CONFIG)
    assert (settings["workers"], settings["threads"]) == (3, 2)


@pytest.mark.parametrize("value", ["0", "four"])
def test_it_refuses_a_bad_thread_count_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("WEB_THREADS", value)
    with pytest.raises(SystemExit, match="WEB_THREADS"):
        runpy.run_path(CONFIG)


def test_the_procfile_runs_the_web_processes_with_it():
    web = next(
        line.split(":", 1)[1]
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    argv = shlex.split(web)
    assert argv[argv.index("-c") + 1] == "config/gunicorn.py"

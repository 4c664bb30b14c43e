"""gunicorn settings for the web processes, read by the Procfile (`gunicorn -c
config/gunicorn.py`) and by bench/referrals.py, so the benchmark measures what production runs.

gthread workers: each holds its database connection across requests (CONN_MAX_AGE) and keeps
clients' connections alive, and its threads overlap one request's database waits with
another's Python. Measured on 2 cores (README, "Benchmarks" > "Referrals"): 2 workers x 4
threads did at least as well as 3 or 4 sync workers or 3 x 2 threads. WEB_CONCURRENCY (the
worker count gunicorn itself reads) and WEB_THREADS size it to other machines; a bad value
stops gunicorn at start-up with the variable's name.
"""

import os


def _positive(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(
            f"Environment variable {name} must be a whole number, not {raw!r}"
        ) from None
    if value < 1:
        raise SystemExit(f"Environment variable {name} must be 1 or more, not {value}")
    return value


wsgi_app = "config.wsgi:application"
worker_class = "gthread"
workers = _positive("WEB_CONCURRENCY", 2)
threads = _positive("WEB_THREADS", 4)
keepalive = 5

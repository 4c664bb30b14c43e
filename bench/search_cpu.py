"""CPU per search in this process: time.process_time over the bench's 200 searches,
through the endpoint (routing, token, DRF, the search, the log) and through
service_search alone. Wall time on a shared machine moves with its load; CPU per search
is the part the code controls.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_bench_search .venv/bin/python \
        bench/search_cpu.py [--rounds 3]

Expects a database bench/search.py has already loaded.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.referrals_setup import PRODUCTION_SHAPE  # noqa: E402

os.environ.update(PRODUCTION_SHAPE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()

    from bench.search import _searches, crew_client
    from directory.search import search_query_from_params, service_search

    searches = _searches(random.Random(args.seed))
    client = crew_client(searches)

    for _ in range(args.rounds):
        started = time.process_time()
        for params in searches:
            client.get("/api/v1/services/search/", params)
        endpoint = (time.process_time() - started) * 1000 / len(searches)
        started = time.process_time()
        for params in searches:
            service_search(query=search_query_from_params(params))
        search = (time.process_time() - started) * 1000 / len(searches)
        print(
            f"CPU per search: endpoint {endpoint:.2f} ms, service_search {search:.2f} ms;"
            f" load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())}",
            flush=True,
        )


if __name__ == "__main__":
    main()

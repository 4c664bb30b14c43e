"""`make bench`: every benchmark in one run, and one table of each figure beside its target.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/frontdoor_bench \
    BENCH_REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/run.py \
        [--only search,referrals,export] [--search-sizes 50000,500000]

Runs bench/search.py (once per size), bench/referrals.py and bench/export.py, each in its
own process and its own database named after DATABASE_URL's (<name>_search, <name>_referrals,
<name>_export, created if missing), so one benchmark's rows never change another's. The
referral benchmark flushes the Redis database BENCH_REDIS_URL names. Each script's output is
passed through as it runs; the figures are read from the JSON line each prints last. The
machine's load average is printed beside every benchmark: the figures are only comparable
between runs on similarly quiet machines. Exits non-zero if a benchmark fails (not when a
target is missed: a benchmark measures, it does not judge).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/frontdoor_bench"


@dataclass
class Row:
    benchmark: str
    figure: str
    measured: str
    target: str
    met: bool | None  # None: nothing to judge (not measured, or no target)


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def database_url(base: str, suffix: str) -> str:
    parts = urlsplit(base)
    return parts._replace(path=f"{parts.path.rstrip('/')}_{suffix}").geturl()


def run(name: str, command: list[str], env: dict[str, str]) -> tuple[dict | None, str, str]:
    """Run one benchmark, echoing its output; (its last JSON line, its output, load note)."""
    before = load()
    print(f"\n== {name}   [load {before}]", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - our own scripts
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    lines = []
    for line in process.stdout:
        print(f"   {line}", end="", flush=True)
        lines.append(line)
    process.wait()
    note = f"{before} -> {load()}, {time.monotonic() - started:.0f} s"
    if process.returncode != 0:
        print(f"== {name} FAILED (exit {process.returncode})", flush=True)
        return None, "".join(lines), note
    for line in reversed(lines):
        if line.startswith("{"):
            return json.loads(line), "".join(lines), note
    return None, "".join(lines), note


def judge(value: float | None, target: float, *, at_most: bool) -> bool | None:
    if value is None:
        return None
    return value <= target if at_most else value >= target


def search_rows(size: int, figures: dict | None, output: str) -> list[Row]:
    name = f"search {size:,}"
    if figures is None:
        return [Row(name, "run", "failed", "", False)]
    p50, p95 = figures["p50_ms"], figures["p95_ms"]
    raw, naive = figures["raw_sql_p50_ms"], figures["naive_p50_ms"]
    raw_prepared = figures["raw_sql_prepared_p50_ms"]
    ratio = p50 / raw if raw else float("inf")
    prepared_ratio = p50 / raw_prepared if raw_prepared else float("inf")
    speedup = naive / p50 if p50 else float("inf")
    p50_target = 8.0 if size <= 50_000 else 15.0
    rows = [Row(name, "p50", f"{p50:.2f} ms", f"<= {p50_target:g} ms", p50 <= p50_target)]
    if size <= 50_000:
        rows.append(Row(name, "p95", f"{p95:.2f} ms", "<= 15 ms", p95 <= 15))
    else:
        rows.append(Row(name, "p95", f"{p95:.2f} ms", "", None))
    first = figures.get("first_pass_p50_ms")
    if first is not None:
        rows.append(Row(name, "p50, first pass (pages not yet read)", f"{first:.2f} ms", "", None))
    rows += [
        # Like for like: the endpoint plans its main statement on every search, as the
        # unprepared raw SQL is (directory/search/statement.py, _planned_each_time).
        Row(name, "raw SQL p50, planned each run (same run)", f"{raw:.2f} ms", "", None),
        Row(name, "p50 / raw SQL p50", f"{ratio:.1f}x", "<= 4x", judge(ratio, 4, at_most=True)),
        Row(name, "raw SQL p50, prepared (same run)", f"{raw_prepared:.2f} ms", "", None),
        Row(name, "p50 / prepared raw SQL p50", f"{prepared_ratio:.1f}x", "", None),
        Row(name, "naive scan p50 (same run)", f"{naive:,.0f} ms", "", None),
        Row(name, "queries per search", f"{figures.get('queries_per_request', '?')}", "", None),
        Row(
            name,
            "naive p50 / p50",
            f"{speedup:,.0f}x",
            ">= 100x",
            judge(speedup, 100, at_most=False),
        ),
    ]
    loaded = re.search(r"loaded in (\d+(?:\.\d+)?) s", output)
    if loaded:
        seconds = float(loaded.group(1))
        target, met = ("<= 180 s", seconds <= 180) if size >= 500_000 else ("", None)
        rows.append(Row(name, "load services", f"{seconds:.0f} s", target, met))
    elif size >= 500_000:
        rows.append(Row(name, "load services", "reused, not timed", "<= 180 s", None))
    return rows


def referral_rows(figures: dict | None) -> list[Row]:
    name = "referrals"
    if figures is None:
        return [Row(name, "run", "failed", "", False)]
    p50, rate = figures["create_p50_ms"], figures["throughput_per_s"]
    delivery = figures["delivery_p95_ms"]
    return [
        Row(name, "create p50 (in-process)", f"{p50:.1f} ms", "<= 15 ms", p50 <= 15),
        Row(name, "create p95 (in-process)", f"{figures['create_p95_ms']:.1f} ms", "", None),
        Row(
            name,
            "queries per create (with BEGIN, COMMIT)",
            f"{figures.get('create_queries_per_request', '?')}",
            "",
            None,
        ),
        Row(name, "creates through gunicorn", f"{rate:.0f} /s", ">= 150 /s", rate >= 150),
        Row(name, "webhook p50 from commit", f"{figures['delivery_p50_ms']:.0f} ms", "", None),
        Row(name, "webhook p95 from commit", f"{delivery:.0f} ms", "<= 500 ms", delivery <= 500),
    ]


def export_rows(figures: dict | None) -> list[Row]:
    name = "export"
    if figures is None:
        return [Row(name, "run", "failed", "", False)]
    rows, seconds, peak = figures["rows"], figures["seconds"], figures["peak_rss_mb"]
    big = rows >= 1_000_000
    return [
        Row(
            name,
            f"CSV of {rows:,} rows",
            f"{seconds:.1f} s",
            "<= 30 s" if big else "",
            None if not big else seconds <= 30,
        ),
        Row(name, "peak RSS", f"{peak:.0f} MB", "<= 200 MB", peak <= 200),
    ]


def table(rows: list[Row], notes: dict[str, str]) -> str:
    mark = {True: "yes", False: "NO", None: ""}
    header = ["benchmark", "figure", "measured", "target", "met", "load (1/5/15 min), time"]
    body, seen = [], set()
    for r in rows:
        note = "" if r.benchmark in seen else notes.get(r.benchmark, "")  # once per benchmark
        seen.add(r.benchmark)
        body.append([r.benchmark, r.figure, r.measured, r.target, mark[r.met], note])
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def fmt(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join([fmt(header), rule, *(fmt(line) for line in body)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="search,referrals,export")
    parser.add_argument(
        "--search-sizes", default=os.environ.get("BENCH_SEARCH_SIZES", "50000,500000")
    )
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(",")}

    base = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not base.startswith("postgres"):
        raise SystemExit("make bench needs PostgreSQL: set DATABASE_URL=postgres://...")
    python = sys.executable
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    redis_url = os.environ.get("BENCH_REDIS_URL", "bench/referrals.py's default")
    print(
        f"frontdoor benchmarks: {os.cpu_count()} CPUs, load {load()}, "
        f"databases {database_url(base, '*')}, Redis {redis_url}",
        flush=True,
    )
    rows: list[Row] = []
    notes: dict[str, str] = {}
    failed = False

    if "search" in only:
        url = database_url(base, "search")
        sizes = [int(n) for n in args.search_sizes.split(",") if n.strip()]
        for size in sizes:
            # One database per size, so neither run reloads the other's services.
            sized = url if size == 50_000 else f"{url}_{size // 1000}k"
            figures, output, note = run(
                f"search {size:,}",
                [python, "bench/search.py", "--size", str(size)],
                {**env, "DATABASE_URL": sized},
            )
            notes[f"search {size:,}"] = note
            rows += search_rows(size, figures, output)
            failed |= figures is None
        if not any(size >= 500_000 for size in sizes):
            rows.append(Row("search 500,000", "not run", "", "p50 <= 15 ms, load <= 180 s", None))

    if "referrals" in only:
        figures, _, note = run(
            "referrals",
            [python, "bench/referrals.py"],
            {**env, "BENCH_DATABASE_URL": database_url(base, "referrals")},
        )
        notes["referrals"] = note
        rows += referral_rows(figures)
        failed |= figures is None

    if "export" in only:
        figures, _, note = run(
            "export",
            [python, "bench/export.py"],
            {**env, "DATABASE_URL": database_url(base, "export")},
        )
        notes["export"] = note
        rows += export_rows(figures)
        failed |= figures is None

    print(f"\n== frontdoor benchmarks on {os.cpu_count()} CPUs (load now {load()})\n")
    print(table(rows, notes))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

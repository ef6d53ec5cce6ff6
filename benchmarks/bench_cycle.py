"""Cycle latency, requests per cycle and memory of the engine in its steady state.

    .venv/bin/python benchmarks/bench_cycle.py [--cycles N] [--samples N] [--http-samples N]
                                               [--sections memory,inprocess,http] [--profile]

Steady state: N direct hedges (1, 5, 20; 50 of each coin, 100 000 USDT) already hedged and
protected, so a cycle observes, reconciles, decides and records but sends no order. The venue
clock moves one minute per cycle. Prints Markdown tables (see benchmarks/RESULTS.md).

Sections, in this order (memory first, so its peak RSS is not raised by the other runs):
- memory: ``--cycles`` (500) in-process cycles with 5 hedges, untraced (RSS), then as many more
  under tracemalloc (net growth and the lines that grew most);
- in-process latency: ``--samples`` (100) cycles per hedge count, split into time in the port
  (the simulated venue), in the store (SQLite) and the rest (the bot's own work);
- HTTP latency: ``--http-samples`` (20) cycles per hedge count through ccxt against the
  simulator, with ccxt's rate limiter on (the default) and off, and the requests per cycle.
Then a table of the targets (benchmarks/RESULTS.md states them) and whether they are met.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import memory_probe
import rig
from machine import machine

HEDGE_COUNTS = (1, 5, 20)


async def latency_section(
    make: Any, counts: tuple[int, ...], samples: int, *, with_requests: bool = False
) -> list[dict[str, Any]]:
    rows = []
    for n in counts:
        r = await make(n)
        try:
            await r.warm_up(n)
            await r.timed_cycle()  # one more, so the first timed cycle is not a first anything
            if r.sim is not None:
                r.sim.front.requests.clear()
            port_before, store_before = dict(r.port.by_method), dict(r.store.by_method)
            db_before = await r.db_bytes()
            taken = [await r.timed_cycle() for _ in range(samples)]
            db_growth = await r.db_bytes() - db_before
            row: dict[str, Any] = {
                "hedges": n,
                "cycles": samples,
                "total": rig.ms([s.total for s in taken]),
                "venue": rig.ms([s.venue for s in taken]),
                "store": rig.ms([s.store for s in taken]),
                "rest": rig.ms([s.total - s.venue - s.store for s in taken]),
                "port_methods": per_cycle_ms(r.port.by_method, port_before, samples),
                "store_methods": per_cycle_ms(r.store.by_method, store_before, samples),
                "db_kib": db_growth / samples / 1024,
            }
            if with_requests and r.sim is not None:
                row["requests"] = rig.requests_per_cycle(r.sim.front.requests, samples)
            rows.append(row)
        finally:
            await r.close()
    return rows


def per_cycle_ms(after: dict[str, float], before: dict[str, float], cycles: int) -> dict:
    return {k: (v - before.get(k, 0.0)) * 1000 / cycles for k, v in after.items()}


def latency_table(title: str, rows: list[dict[str, Any]], http: bool = False) -> str:
    """In-process: the cycle split into port, store and the rest (mean ms). Over HTTP the
    concurrent reads overlap, so only the store (awaited one call at a time) is split out."""
    head = "| hedges | cycles | median ms | p95 ms | mean ms |"
    head += " store | requests/cycle |" if http else " port (venue) | store | rest (bot) |"
    head += " DB KiB/cycle |"
    lines = [f"**{title}**", "", head, "|" + "---:|" * (head.count("|") - 1)]
    for row in rows:
        t = row["total"]
        line = f"| {row['hedges']} | {row['cycles']} | {t['median']:.1f} | {t['p95']:.1f} | "
        line += f"{t['mean']:.1f} |"
        if http:
            line += f" {row['store']['mean']:.1f} | {sum(row['requests'].values()):g} |"
        else:
            line += (
                f" {row['venue']['mean']:.1f} | {row['store']['mean']:.1f} |"
                f" {row['rest']['mean']:.1f} |"
            )
        lines.append(line + f" {row['db_kib']:.1f} |")
    return "\n".join(lines)


def requests_table(rows: list[dict[str, Any]]) -> str:
    endpoints = sorted({e for row in rows for e in row["requests"]})
    lines = [
        "**Requests per steady-state HTTP cycle, by endpoint**",
        "",
        "| endpoint | " + " | ".join(f"{r['hedges']} hedges" for r in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    for e in endpoints:
        lines.append(
            f"| `{e}` | " + " | ".join(f"{r['requests'].get(e, 0):g}" for r in rows) + " |"
        )
    return "\n".join(lines)


def methods_table(title: str, rows: list[dict[str, Any]], key: str) -> str:
    lines = [
        f"**{title}: mean ms per cycle by method**",
        "",
        "| method | " + " | ".join(f"{r['hedges']} hedges" for r in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    methods = sorted({m for r in rows for m, v in r[key].items() if v > 0.005})
    for m in methods:
        cells = [f"{r[key].get(m, 0.0):.2f}" for r in rows]
        lines.append(f"| `{m}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def profile_section(workdir: Path, samples: int) -> None:
    r = await rig.inprocess_rig(20, workdir)
    try:
        await r.warm_up(20)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(samples):
            await r.timed_cycle()
        prof.disable()
    finally:
        await r.close()
    print(f"\ncProfile of {samples} in-process cycles, 20 hedges (cumulative):\n")
    pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(30)


async def main(args: argparse.Namespace) -> int:
    rig.quiet_logging()
    started = mark = time.perf_counter()
    timings: dict[str, float] = {}
    checks: list[tuple[str, bool, str]] = []

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        timings[name], mark = now - mark, now

    print(f"# bench_cycle\n\n{machine()}\n")
    with tempfile.TemporaryDirectory(prefix="hedgebot-bench-") as tmp:
        workdir = Path(tmp)
        if "memory" in args.sections:
            mem = await memory_probe.measure(workdir, args.cycles)
            print(memory_probe.report(mem), "\n", flush=True)
            lap("memory")
            growth = max(mem.rss_growth, mem.traced_growth)
            checks.append(
                (
                    f"memory growth over {args.cycles} steady-state cycles < 5 MB",
                    growth < 5 * memory_probe.MB,
                    f"RSS {mem.rss_growth / memory_probe.MB:+.2f} MB, "
                    f"Python heap {mem.traced_growth / memory_probe.MB:+.2f} MB",
                )
            )
        if "inprocess" in args.sections:
            inproc = await latency_section(
                lambda n: rig.inprocess_rig(n, workdir), HEDGE_COUNTS, args.samples
            )
            print(latency_table("In-process port, SQLite (mean ms split)", inproc), "\n")
            print(methods_table("In-process port (the simulated venue)", inproc, "port_methods"))
            print()
            print(methods_table("Store (SQLite)", inproc, "store_methods"), "\n", flush=True)
            lap("in-process")
            twenty = inproc[-1]
            checks.append(
                (
                    f"in-process steady-state cycle, {twenty['hedges']} hedges, median < 50 ms",
                    twenty["total"]["median"] < 50,
                    f"{twenty['total']['median']:.1f} ms (bot's own share: store "
                    f"{twenty['store']['mean']:.1f} + rest {twenty['rest']['mean']:.1f} ms)",
                )
            )
        if "http" in args.sections:
            per_cycle = []
            for limiter in (True, False):
                rows = await latency_section(
                    lambda n, lim=limiter: rig.http_rig(n, workdir, rate_limit=lim),
                    HEDGE_COUNTS,
                    args.http_samples,
                    with_requests=True,
                )
                state = "on" if limiter else "off"
                print(
                    latency_table(f"HTTP via ccxt, rate limiter {state}, SQLite", rows, http=True)
                )
                print(flush=True)
                lap(f"HTTP limiter {state}")
                per_cycle += [sum(r["requests"].values()) for r in rows]
                if limiter:
                    print(requests_table(rows), "\n", flush=True)
            checks.append(
                (
                    "requests per steady-state HTTP cycle independent of hedge count",
                    len(set(per_cycle)) == 1,
                    f"{sorted(set(per_cycle))} for {', '.join(map(str, HEDGE_COUNTS))} hedges",
                )
            )
        if args.profile:
            await profile_section(workdir, 50)
            lap("profile")

    print("**Targets**\n\n| target | met | measured |\n|---|---|---|")
    for name, ok, figure in checks:
        print(f"| {name} | {'yes' if ok else 'NO'} | {figure} |")
    spent = ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
    print(f"\nrun time {time.perf_counter() - started:.0f} s ({spent})")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cycles", type=int, default=500, help="memory run length (default 500)")
    p.add_argument("--samples", type=int, default=100, help="in-process cycles per hedge count")
    p.add_argument("--http-samples", type=int, default=20, help="HTTP cycles per hedge count")
    p.add_argument("--profile", action="store_true", help="also cProfile 50 in-process cycles")
    p.add_argument(
        "--sections",
        type=lambda v: set(v.split(",")),
        default={"memory", "inprocess", "http"},
        help="comma-separated subset of memory,inprocess,http (default all)",
    )
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))

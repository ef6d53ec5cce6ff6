"""Own CPU per steady cycle (issue 10.4): what the bot's code costs, the venue left out.

    .venv/bin/python benchmarks/own_cpu.py [--hedges 1,10,50,200] [--samples 50] [--profile N]

Measured with the in-process port (bot/exchange/inprocess.py), so there is no ccxt and no HTTP
at all. Own CPU of a cycle = process CPU time (``time.process_time``: every thread, so the
SQLite driver's thread is counted) spent in ``Engine.run_cycle``, minus the process CPU time
spent inside the port's calls (the simulated venue: it is plain Python that never yields, so
nothing else runs during its calls and the subtraction is exact). What remains is the engine,
the strategies, the planner and guards, the store (SQLAlchemy, the driver, SQLite) and logging;
the store's share is the process CPU time inside its calls (the engine awaits them one at a time).
CPU time rather than wall time: the machine may be shared, and waiting for a core is not cost.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import inspect
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]  # this checkout's code, not an installed one

import rig  # noqa: E402
from machine import machine  # noqa: E402

HEDGES = (1, 10, 50, 200)


def goal_ms(n: int) -> float:
    return 5 + 0.1 * n


async def measure(n: int, samples: int, work: Path, profile: bool = False) -> dict:
    """Medians over ``samples`` steady cycles of n hedges, in ms; with ``profile`` also the
    cProfile text of those cycles (which inflates the CPU figures: they are then not reported)."""
    r = await rig.inprocess_rig(n, work)
    try:
        await r.warm_up(n)
        await r.timed_cycle()  # one more: the first timed cycle is not a first anything
        own, total, venue, store = [], [], [], []  # ms: own, process, venue, store CPU
        prof = cProfile.Profile(time.thread_time) if profile else None
        if prof:
            _unprofiled(r.port._inner, prof)
            advance = r.venue.advance_to

            def moved(to: Any) -> None:  # the simulated clock's tick: the venue's work too
                prof.disable()
                advance(to)
                prof.enable()

            r.venue.advance_to = moved  # type: ignore[method-assign]
        for _ in range(samples):
            r.port.cpu = r.store.cpu = 0.0
            c0 = time.process_time()
            if prof:
                prof.enable()
            await r.timed_cycle()
            if prof:
                prof.disable()
            spent = time.process_time() - c0
            own.append((spent - r.port.cpu) * 1000)
            total.append(spent * 1000)
            venue.append(r.port.cpu * 1000)
            store.append(r.store.cpu * 1000)
    finally:
        await r.close()
    row = {
        "n": n,
        "own_ms": statistics.median(own),
        "own_p90_ms": rig.percentile(own, 0.9),
        "cpu_ms": statistics.median(total),
        "venue_ms": statistics.median(venue),
        "store_ms": statistics.median(store),
        "load": f"{os.getloadavg()[0]:.1f}",
    }
    if prof:
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats("tottime").print_stats(30)
        row["profile"] = out.getvalue().strip()
    return row


def _unprofiled(port: object, prof: cProfile.Profile) -> None:
    """The venue's calls left out of the profile (it profiles the main thread's CPU time: the
    SQLite driver's thread is not in it)."""
    for name in dir(port):
        method = getattr(port, name)
        if name.startswith("_") or not inspect.iscoroutinefunction(method):
            continue

        async def paused(*args: object, _m: Any = method, **kw: object) -> Any:
            prof.disable()
            try:
                return await _m(*args, **kw)
            finally:
                prof.enable()

        setattr(port, name, paused)


def table(rows: list[dict]) -> str:
    lines = [
        "| hedges | own CPU ms (median) | p90 | goal 5 + 0.1 x hedges | met | process CPU ms "
        "| of it the venue | own: of it the store | load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        g = goal_ms(r["n"])
        lines.append(
            f"| {r['n']} | {r['own_ms']:.2f} | {r['own_p90_ms']:.2f} | {g:.1f} "
            f"| {'yes' if r['own_ms'] <= g else 'NO'} | {r['cpu_ms']:.2f} | {r['venue_ms']:.2f} "
            f"| {r['store_ms']:.2f} | {r['load']} |"
        )
    return "\n".join(lines)


async def section(hedges: tuple[int, ...], samples: int, work: Path, profile_n: int) -> str:
    rows = [await measure(n, samples, work) for n in hedges]
    text = (
        "## Own CPU per steady cycle (in-process venue)\n\n"
        "Own CPU = process CPU time of `Engine.run_cycle` (all threads) minus the process CPU "
        "time inside the in-process port's calls (the simulated venue); no ccxt, no HTTP "
        f"(benchmarks/own_cpu.py). Median of {samples} steady cycles.\n\n" + table(rows)
    )
    if profile_n:
        prof = await measure(profile_n, min(samples, 30), work, profile=True)
        text += (
            f"\n\nProfile of {min(samples, 30)} cycles with {profile_n} hedges: the main thread's "
            "CPU time by function, the venue's calls left out (the store's driver thread is not "
            f"in it; `poll` is the wait for it):\n\n```\n{prof['profile']}\n```"
        )
    return text


async def main(args: argparse.Namespace) -> None:
    rig.quiet_logging()
    hedges = tuple(int(x) for x in args.hedges.split(","))
    with tempfile.TemporaryDirectory(prefix="hedgebot-cpu-") as tmp:
        text = await section(hedges, args.samples, Path(tmp), args.profile)
    print(f"{machine()}\n\n{text}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hedges", default=",".join(map(str, HEDGES)))
    p.add_argument("--samples", type=int, default=50)
    p.add_argument("--profile", type=int, default=0, help="also profile cycles of N hedges")
    asyncio.run(main(p.parse_args()))

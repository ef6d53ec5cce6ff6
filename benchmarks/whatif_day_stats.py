"""What if the simulator's 24 h ticker statistics were cached per hour?

    .venv/bin/python benchmarks/whatif_day_stats.py [--samples N]

An experiment, not a fix: the in-process cycle with 20 hedges spends most of its time in
``bot.sim.market_data.MarketData._day_stats``, which rebuilds 24 hourly bars from 1 440 one-minute
points for every symbol on every ticker call. This runs the steady-state cycle as is, then again
with that method wrapped (in this process only) so its result is reused within the hour, which
shows what the bot's cycle costs once the simulator's cost is out of the way.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import rig
from machine import machine

from bot.sim.market_data import MarketData

HEDGES = 20


async def run(label: str, samples: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hedgebot-whatif-") as tmp:
        r = await rig.inprocess_rig(HEDGES, Path(tmp))
        try:
            await r.warm_up(HEDGES)
            taken = [await r.timed_cycle() for _ in range(samples)]
        finally:
            await r.close()
    t = rig.ms([s.total for s in taken])
    venue = rig.ms([s.venue for s in taken])["mean"]
    store = rig.ms([s.store for s in taken])["mean"]
    print(
        f"| {label} | {samples} | {t['median']:.1f} | {t['p95']:.1f} | {venue:.1f} | {store:.1f} |"
    )


def cache_day_stats_hourly() -> None:
    original = MarketData._day_stats
    cache: dict[tuple[Any, ...], Any] = {}

    def hourly(self: MarketData, spec: Any, now: datetime) -> Any:
        key = (id(self), spec.category, spec.symbol, now.replace(minute=0, second=0, microsecond=0))
        if key not in cache:
            cache[key] = original(self, spec, now)
        return cache[key]

    MarketData._day_stats = hourly  # type: ignore[method-assign]


async def main(samples: int) -> int:
    rig.quiet_logging()
    print(f"# what if: 24 h ticker stats cached per hour\n\n{machine()}\n")
    print(f"In-process steady-state cycle, {HEDGES} hedges (ms)\n")
    print("| simulator | cycles | median | p95 | port (venue) mean | store mean |")
    print("|---|---:|---:|---:|---:|---:|")
    await run("as is", samples)
    cache_day_stats_hourly()
    await run("24 h stats cached per hour", samples)
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--samples", type=int, default=100, help="cycles per run (default 100)")
    sys.exit(asyncio.run(main(p.parse_args().samples)))

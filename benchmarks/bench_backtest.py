"""Backtest speed (issue 9.5): asset-bars replayed per second through the live engine.

    .venv/bin/python benchmarks/bench_backtest.py --hedges 10 --hours 8760 [--profile]

Data: the shipped sample's BTC series (54 days) under N coin names (prices scaled, so each coin
has its own level), played forward, then backward in time, and so on, for as long as asked (a
bounded, continuous series: a backward bar swaps its open and close), in the replay layout, in a
temporary folder. The run starts after the sample's first month, which warms the windows up.
Config: one direct hedge per coin, 10 coins of each held. Target: 5,000 asset-bars/s (a year of
10 hedges, 87,600 asset-bars, in under 18 s). Timed: the backtest (data loading, the replay, the
report's figures), wall and CPU time (the machine is shared: CPU time is this process's own).
Prints Markdown; --profile adds the top functions by own time and cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import io
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]  # this checkout's code, not an installed one

from machine import machine  # noqa: E402

import bot.backtest.run as backtest_run  # noqa: E402
from bot.backtest.run import run_backtest  # noqa: E402
from bot.logging import configure_logging  # noqa: E402
from bot.settings import parse_config  # noqa: E402

SAMPLE = ROOT / "bot" / "backtest" / "sample"
COINS = ("BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "TRX", "LTC", "BCH", "LINK", "DOT", "AVAX")
FIRST = datetime(2020, 2, 1, tzinfo=UTC)  # the sample's first bar
START = datetime(2020, 3, 1, tzinfo=UTC)  # after a month of warm-up


def _rows(kind: str) -> dict[int, list[str]]:
    """The sample's rows by hour from its first bar (text columns after the time)."""
    with (SAMPLE / f"BTCUSDT_{kind}.csv").open() as fh:
        rows = list(csv.reader(fh))[1:]
    return {int((_time(r[0]) - FIRST).total_seconds()) // 3600: r[1:] for r in rows}


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def make_data(folder: Path, coins: list[str], hours: int) -> None:
    """``hours`` hourly bars from FIRST: the sample forward, then backward, and so on."""
    tables = {kind: _rows(kind) for kind in ("perp_1h", "spot_1h", "mark_1h", "funding")}
    span = max(tables["perp_1h"]) + 1

    def source(h: int) -> tuple[int, bool]:
        turn, offset = divmod(h, span)
        return (offset, False) if turn % 2 == 0 else (span - 1 - offset, True)

    for i, coin in enumerate(coins):
        scale = 1.0 / (1 + i)
        for kind, table in tables.items():
            out = [["timestamp", "funding_rate"] if kind == "funding" else ["timestamp"]]
            for h in range(hours):
                src, backward = source(h)
                if kind == "funding" and h % 8:
                    continue  # settlements every 8 hours: the one of the source's 8 hours
                row = table.get(src - src % 8 if kind == "funding" else src)
                if row is None:
                    continue  # a gap in the sample stays a gap
                stamp = f"{FIRST + timedelta(hours=h):%Y-%m-%dT%H:%M:%SZ}"
                if kind == "funding":
                    out.append([stamp, row[0]])
                elif kind == "mark_1h":
                    out.append([stamp, f"{float(row[0]) * scale:.2f}"])
                else:
                    o, high, low, c = (f"{float(v) * scale:.2f}" for v in row[:4])
                    out.append([stamp, *((c, high, low, o) if backward else (o, high, low, c)),
                                row[4]])  # fmt: skip
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(out)
            (folder / f"{coin}USDT_{kind}.csv").write_text(buf.getvalue())


def config(coins: list[str]) -> str:
    text = "[planner]\ncooldown_seconds = 0\n[risk]\nmax_orders_per_minute = 1000\n"
    text += "[paper]\nwallet = { USDT = 1000000, " + ", ".join(f"{c} = 10" for c in coins) + " }\n"
    for c in coins:
        text += f'[[hedges]]\nname = "{c.lower()}"\nspot_asset = "{c}"\nperp = "{c}/USDT:USDT"\n'
    return text


class Phases:
    """CPU seconds of the run's phases other than the replay: loading the history files (and
    finding their gaps), and the report's figures (bot.review: attribution and summary)."""

    def __init__(self) -> None:
        self.cpu = {"load": 0.0, "report": 0.0}

    def wrap(self, owner: object, name: str, phase: str) -> None:
        inner = getattr(owner, name)
        is_async = asyncio.iscoroutinefunction(inner)

        def timed(*a: object, **k: object) -> object:
            began = time.process_time()
            try:
                return inner(*a, **k)
            finally:
                self.cpu[phase] += time.process_time() - began

        async def timed_async(*a: object, **k: object) -> object:
            began = time.process_time()
            try:
                return await inner(*a, **k)
            finally:
                self.cpu[phase] += time.process_time() - began

        setattr(owner, name, timed_async if is_async else timed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hedges", type=int, default=10)
    parser.add_argument("--hours", type=int, default=240)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    configure_logging(json=False, level="WARNING")
    coins = list(COINS[: args.hedges])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        end = START + timedelta(hours=args.hours)
        make_data(folder, coins, int((end - FIRST) / timedelta(hours=1)) + 1)
        cfg = parse_config(config(coins))
        phases = Phases()
        phases.wrap(backtest_run, "period", "load")  # it reads every file
        phases.wrap(backtest_run, "find_gaps", "load")
        phases.wrap(backtest_run, "load", "report")
        phases.wrap(backtest_run, "build", "report")
        run = run_backtest(folder, cfg, start=START, end=end)
        profiler = cProfile.Profile() if args.profile else None
        began, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        result = asyncio.run(run)
        if profiler is not None:
            profiler.disable()
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
    bars = result.cycles * len(coins)
    rate = bars / took
    print(f"# backtest speed\n\n{machine()}\n")
    print("| hedges | hourly bars | asset-bars | seconds | asset-bars/s | CPU seconds | "
          "asset-bars per CPU second | a year (87,600) takes |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {len(coins)} | {result.cycles} | {bars} | {took:.1f} | {rate:.0f} | {cpu:.1f} | "
          f"{bars / cpu:.0f} | {87_600 / rate:.0f} s |")  # fmt: skip
    load, report = phases.cpu["load"], phases.cpu["report"]
    print(f"\nCPU seconds: loading the files {load:.1f}, the replay {cpu - load - report:.1f} "
          f"({1000 * (cpu - load - report) / result.cycles:.2f} ms an hourly bar), the report "
          f"{report:.1f}.")  # fmt: skip
    if profiler is not None:
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(25)
            print(f"\n## profile by {key}\n\n```\n{out.getvalue().strip()}\n```")


if __name__ == "__main__":
    main()

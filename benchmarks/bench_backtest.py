"""Backtest speed (issue 9.5): asset-bars replayed per second through the live engine.

    .venv/bin/python benchmarks/bench_backtest.py --hedges 10 --hours 240 [--profile]

Data: the shipped sample's BTC series copied under N coin names (prices scaled, so each coin
has its own level), in the replay layout, in a temporary folder. Config: one direct hedge per
coin, 10 coins of each held. Target: 5,000 asset-bars/s (a year of 10 hedges, 87,600 asset-bars,
in under 18 s). Prints Markdown; --profile adds the top functions by own time and cumulative time.
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

from bot.backtest.run import run_backtest  # noqa: E402
from bot.logging import configure_logging  # noqa: E402
from bot.settings import parse_config  # noqa: E402

SAMPLE = ROOT / "bot" / "backtest" / "sample"
COINS = ("BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "TRX", "LTC", "BCH", "LINK", "DOT", "AVAX")
START = datetime(2020, 3, 1, tzinfo=UTC)


def make_data(folder: Path, coins: list[str]) -> None:
    for i, coin in enumerate(coins):
        scale = 1.0 / (1 + i)
        for kind in ("perp_1h", "spot_1h", "mark_1h", "funding"):
            with (SAMPLE / f"BTCUSDT_{kind}.csv").open() as fh:
                rows = list(csv.reader(fh))
            out = [rows[0]]
            for r in rows[1:]:
                if kind == "funding":
                    out.append(r)
                elif kind == "mark_1h":
                    out.append([r[0], f"{float(r[1]) * scale:.2f}"])
                else:
                    out.append([r[0], *(f"{float(v) * scale:.2f}" for v in r[1:5]), r[5]])
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(out)
            (folder / f"{coin}USDT_{kind}.csv").write_text(buf.getvalue())


def config(coins: list[str]) -> str:
    text = "[planner]\ncooldown_seconds = 0\n[risk]\nmax_orders_per_minute = 1000\n"
    text += "[paper]\nwallet = { USDT = 1000000, " + ", ".join(f"{c} = 10" for c in coins) + " }\n"
    for c in coins:
        text += f'[[hedges]]\nname = "{c.lower()}"\nspot_asset = "{c}"\nperp = "{c}/USDT:USDT"\n'
    return text


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
        make_data(folder, coins)
        cfg = parse_config(config(coins))
        end = START + timedelta(hours=args.hours)
        run = run_backtest(folder, cfg, start=START, end=end)
        profiler = cProfile.Profile() if args.profile else None
        began = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        result = asyncio.run(run)
        if profiler is not None:
            profiler.disable()
        took = time.perf_counter() - began
    bars = result.cycles * len(coins)
    rate = bars / took
    print(f"# backtest speed\n\n{machine()}\n")
    print("| hedges | hourly bars | asset-bars | seconds | asset-bars/s | a year (87,600) takes |")
    print("|---|---|---|---|---|---|")
    print(f"| {len(coins)} | {result.cycles} | {bars} | {took:.1f} | {rate:.0f} | "
          f"{87_600 / rate / 60:.1f} min |")  # fmt: skip
    if profiler is not None:
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(25)
            print(f"\n## profile by {key}\n\n```\n{out.getvalue().strip()}\n```")


if __name__ == "__main__":
    main()

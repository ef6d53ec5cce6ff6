"""Hedge quality on real data (issue 9.6): the backtest (fees, slippage, bands, hourly discrete
rebalancing, through the live engine) against a plain frictionless numpy reference.

    .venv/bin/python benchmarks/bench_backtest_quality.py --data ../shared/data/market \\
        --from 2022-01-01 --to 2023-01-01

Reference: continuous 1:1 hedges re-struck every hour at no cost, on the same hourly closes
(spot for the holding, the perp's mark for the short). Direct: r = r_spot - r_mark. Cross (ETH
by the BTC perp): r = r_eth - beta x r_btc_mark with beta the OLS slope over the previous 168
hourly returns. Funding: rate x 1 coin x the mark at each settlement, for a constant 1x short.
Ceiling: corr(r_spot, r_mark)^2, the effectiveness of the best constant hedge ratio chosen with
hindsight; no hedge held at a fixed ratio, frictionless or not, can beat it on these returns.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's code, not an installed one

from bot.backtest.run import BacktestResult, parse_day, run_backtest  # noqa: E402
from bot.logging import configure_logging  # noqa: E402
from bot.settings import parse_config  # noqa: E402

HOUR = timedelta(hours=1)
WALLET = "[paper]\nwallet = { USDT = 200000, BTC = 1, ETH = 10 }\n"
HEAD = "[planner]\ncooldown_seconds = 0\n[risk]\nmax_overhedge = 2\n" + WALLET
DIRECT = HEAD + (
    '[[hedges]]\nname = "btc"\nspot_asset = "BTC"\nperp = "BTC/USDT:USDT"\n'
    '[[hedges]]\nname = "eth"\nspot_asset = "ETH"\nperp = "ETH/USDT:USDT"\n'
)
CROSS = HEAD + (
    '[[hedges]]\nname = "eth-x"\nspot_asset = "ETH"\nperp = "BTC/USDT:USDT"\n'
    'strategy = "cross"\n[hedges.params]\nwindow = 168\nmin_correlation = 0\n'
)


def series(data: Path, name: str, column: int) -> dict[datetime, float]:
    with (data / name).open() as fh:
        rows = list(csv.reader(fh))[1:]
    return {datetime.fromisoformat(r[0]): float(r[column]) for r in rows}


def closes(data: Path, base: str, start: datetime, end: datetime) -> tuple[np.ndarray, ...]:
    """Spot and mark closes known at each hour t in [start, end] (bars opened at t - 1 h)."""
    spot = series(data, f"{base}USDT_spot_1h.csv", 4)
    mark = series(data, f"{base}USDT_mark_1h.csv", 1)
    hours = int((end - start) / HOUR) + 1
    times = [start + i * HOUR - HOUR for i in range(hours)]
    keep = [t for t in times if t in spot and t in mark]
    return np.array([spot[t] for t in keep]), np.array([mark[t] for t in keep])


def effectiveness(hedged: np.ndarray, unhedged: np.ndarray) -> float:
    return float(1 - np.var(hedged) / np.var(unhedged))


def reference(data: Path, start: datetime, end: datetime) -> dict[str, float]:
    out = {}
    for base in ("BTC", "ETH"):
        s, m = closes(data, base, start, end)
        rs, rm = np.diff(s) / s[:-1], np.diff(m) / s[:-1]
        out[f"direct {base}"] = effectiveness(rs - rm, rs)
        out[f"ceiling {base}"] = float(np.corrcoef(rs, rm)[0, 1] ** 2)
    es, _ = closes(data, "ETH", start, end)
    _, bm = closes(data, "BTC", start, end)
    n = min(len(es), len(bm))
    re, rb = np.diff(es[:n]) / es[: n - 1], np.diff(bm[:n]) / bm[: n - 1]
    window = 168
    hedged = []
    for t in range(window, len(re)):
        x, y = rb[t - window : t], re[t - window : t]
        beta = float(np.cov(x, y, ddof=0)[0, 1] / np.var(x))
        hedged.append(re[t] - beta * rb[t])
    out["cross ETH by BTC"] = effectiveness(np.array(hedged), re[window:])
    return out


def funding_reference(data: Path, base: str, start: datetime, end: datetime) -> float:
    rates = series(data, f"{base}USDT_funding.csv", 1)
    mark = series(data, f"{base}USDT_mark_1h.csv", 1)
    return sum(
        r * mark[t - HOUR] for t, r in rates.items() if start < t <= end and t - HOUR in mark
    )


def run(data: Path, config: str, start: datetime, end: datetime) -> tuple[BacktestResult, float]:
    began = time.perf_counter()
    result = asyncio.run(run_backtest(data, parse_config(config), start=start, end=end))
    return result, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path("../shared/data/market"))
    parser.add_argument("--from", dest="start", default="2022-01-01")
    parser.add_argument("--to", dest="end", default="2023-01-01")
    args = parser.parse_args()
    configure_logging(json=False, level="WARNING")
    start, end = parse_day(args.start), parse_day(args.end)
    ref = reference(args.data, start, end)
    direct, t_direct = run(args.data, DIRECT, start, end)
    cross, t_cross = run(args.data, CROSS, start, end)
    assert direct.report is not None and cross.report is not None
    years = (end - start) / timedelta(days=365.25)
    print(f"period {start:%Y-%m-%d} to {end:%Y-%m-%d}, {direct.cycles} hourly bars")
    print("\n| measure | backtest | reference | difference | target |\n|---|---|---|---|---|")
    for base, hedge in (("BTC", "btc"), ("ETH", "eth")):
        got, name = direct.report["hedges"][hedge]["effectiveness"], f"direct {base}"
        ceiling = ref[f"ceiling {base}"]
        print(f"| {name} effectiveness | {got:.4f} | {ref[name]:.4f} | {got - ref[name]:+.4f} "
              f"| within 0.001 of the reference; ceiling {ceiling:.4f} |")  # fmt: skip
    got = cross.report["hedges"]["eth-x"]["effectiveness"]
    want = ref["cross ETH by BTC"]
    print(f"| cross ETH by BTC effectiveness | {got:.4f} | {want:.4f} | {got - want:+.4f} "
          "| within 0.02 |")  # fmt: skip
    for base, hedge, size in (("BTC", "btc", 1), ("ETH", "eth", 10)):
        credited = float(direct.report["hedges"][hedge]["funding"])
        expected = size * funding_reference(args.data, base, start, end)
        notional = float(direct.report["hedges"][hedge]["hedged_notional"])
        gap = (credited - expected) / notional / years
        print(
            f"| funding {base} 1x short (quote) | {credited:,.2f} | {expected:,.2f} | "
            f"{gap:+.4%} a year of notional | within 0.1% a year |"
        )
    bars = direct.cycles * 2 + cross.cycles * 2
    print(
        f"\nrun time: direct {t_direct:.0f} s, cross {t_cross:.0f} s; "
        f"{bars / (t_direct + t_cross):.0f} asset-bars/s"
    )


if __name__ == "__main__":
    main()

"""Time per ``target()`` call of every registered strategy on a realistic snapshot.

    .venv/bin/python benchmarks/bench_strategies.py [--calls N] [--seconds S]

The snapshot holds 720 hourly bars (30 days) of BTC and ETH, spot and perp, from a seeded
correlated random walk, 90 settled funding rates per perp (30 days), balances and tickers. Each
built-in strategy is timed twice: with its default parameters, and with its windows stretched
over the whole snapshot (all 720 bars, all 90 rates: the most work the snapshot allows).
``previous`` is the strategy's own last target, as the engine passes it in the steady state.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from machine import machine

from bot.domain import (
    Balance,
    Bar,
    FundingRate,
    HedgeSpec,
    Snapshot,
    Ticker,
    frozen_map,
    history_key,
)
from strategies import builtin_names, registry
from strategies.base import Strategy

BARS = 720
FUNDING_RATES = 90
T0 = datetime(2024, 1, 1, tzinfo=UTC)
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
TARGET_MS = 5.0

# name -> (spot asset, perp, default params, params using the whole 720-bar snapshot)
CASES: Mapping[str, tuple[str, str, dict[str, Any], dict[str, Any]]] = {
    "direct": ("BTC", BTC, {}, {}),
    "cross": ("ETH", BTC, {}, {"window": BARS - 1}),
    "dynamic": ("BTC", BTC, {}, {"vol_window": BARS - 1, "trend_window": BARS - 1}),
    "funding": ("BTC", BTC, {}, {"lookback": FUNDING_RATES}),
    "basis": ("BTC", BTC, {"qty": "1"}, {"qty": "1", "lookback": FUNDING_RATES}),
    "portfolio": (
        "",
        "",
        {"assets": ["BTC", "ETH"], "perps": [BTC, ETH]},
        {"assets": ["BTC", "ETH"], "perps": [BTC, ETH], "window": BARS - 1},
    ),
}


def _dec(x: float, places: int = 2) -> Decimal:
    return Decimal(repr(round(float(x), places)))


def _bars(closes: np.ndarray, rng: np.random.Generator) -> tuple[Bar, ...]:
    out = []
    for i in range(1, len(closes)):
        o, c = closes[i - 1], closes[i]
        wick = abs(rng.normal(0, 0.002, 2))
        out.append(
            Bar(
                T0 + timedelta(hours=i - 1),
                _dec(o),
                _dec(max(o, c) * (1 + wick[0])),
                _dec(min(o, c) * (1 - wick[1])),
                _dec(c),
                _dec(rng.uniform(100, 1000), 4),
            )
        )
    return tuple(out)


def make_snapshot(seed: int = 11) -> Snapshot:
    """BTC and ETH hourly returns correlated 0.8; the perp trades at a small noisy basis."""
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], BARS) * 0.008
    paths = {"BTC": 60000 * np.exp(np.cumsum(z[:, 0])), "ETH": 3000 * np.exp(np.cumsum(z[:, 1]))}
    history, tickers, funding, funding_history = {}, {}, {}, {}
    now = T0 + timedelta(hours=BARS)
    for base, path in paths.items():
        closes = np.concatenate([[path[0]], path])
        perp_closes = closes * (1 + rng.normal(0.0005, 0.0002, len(closes)))
        spot, perp = f"{base}/USDT", f"{base}/USDT:USDT"
        history[history_key(spot, "1h")] = _bars(closes, rng)
        history[history_key(perp, "1h")] = _bars(perp_closes, rng)
        tickers[spot] = Ticker(spot, None, None, _dec(closes[-1]), mark=_dec(closes[-1]))
        tickers[perp] = Ticker(perp, None, None, _dec(perp_closes[-1]), mark=_dec(perp_closes[-1]))
        rates = rng.normal(0.0001, 0.00008, FUNDING_RATES + 1)
        funding_history[perp] = tuple(
            FundingRate(perp, _dec(r, 8), now - timedelta(hours=8 * (FUNDING_RATES - i)))
            for i, r in enumerate(rates[:-1])
        )
        funding[perp] = FundingRate(perp, _dec(rates[-1], 8), now + timedelta(hours=8))
    balances = {
        a: Balance(a, Decimal(q), Decimal(0), Decimal(q))
        for a, q in {"BTC": "2", "ETH": "30", "USDT": "100000"}.items()
    }
    return Snapshot(
        ts=now,
        balances=frozen_map(balances),
        tickers=frozen_map(tickers),
        history=frozen_map(history),
        funding=frozen_map(funding),
        funding_history=frozen_map(funding_history),
    )


def build(name: str, cls: type[Strategy], params: Mapping[str, Any]) -> Strategy:
    spot, perp = CASES[name][:2] if name in CASES else ("BTC", BTC)
    return cls.from_spec(HedgeSpec(f"bench-{name}", spot, perp, name, frozen_map(params)))


def time_calls(strategy: Strategy, snapshot: Snapshot, calls: int, budget: float) -> dict:
    previous = strategy.target(snapshot, None)
    result = previous
    for _ in range(10):  # warm caches (pydantic, numpy dispatch)
        result = strategy.target(snapshot, previous)
    samples: list[float] = []
    deadline = time.perf_counter() + budget
    while len(samples) < calls and (len(samples) < 30 or time.perf_counter() < deadline):
        t0 = time.perf_counter()
        strategy.target(snapshot, previous)
        samples.append(time.perf_counter() - t0)
    ms = sorted(s * 1000 for s in samples)
    return {
        "calls": len(ms),
        "median": statistics.median(ms),
        "p95": ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))],
        "reason": "no decision (None)" if result is None else result.reason,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--calls", type=int, default=2000, help="timed calls per case (default 2000)")
    p.add_argument("--seconds", type=float, default=2.0, help="time budget per case (default 2)")
    args = p.parse_args(argv)
    snapshot = make_snapshot()
    print(
        f"# bench_strategies\n\n{machine()}\n\nsnapshot: {BARS} hourly bars x 4 series, "
        f"{FUNDING_RATES} funding rates x 2 perps\n"
    )
    print("| strategy | params | calls | median ms | p95 ms | under 5 ms | decision |")
    print("|---|---|---:|---:|---:|---|---|")
    worst = 0.0
    builtins = set(builtin_names())
    for name, cls in registry().items():
        variants = (
            [("defaults", CASES[name][2]), ("whole snapshot", CASES[name][3])]
            if name in CASES
            else [("defaults", {})]
        )
        if name not in builtins:
            variants = [(f"{v} (plugin)", prm) for v, prm in variants]
        for label, params in variants:
            if label == "whole snapshot" and params == CASES[name][2]:
                continue  # nothing to stretch (direct reads no history)
            try:
                strategy = build(name, cls, params)
            except Exception as exc:  # a plugin whose params we cannot guess
                print(f"| {name} | {label} | - | - | - | - | not built: {exc} |")
                continue
            r = time_calls(strategy, snapshot, args.calls, args.seconds)
            worst = max(worst, r["median"])
            ok = "yes" if r["median"] < TARGET_MS else "NO"
            reason = r["reason"] if len(r["reason"]) <= 60 else r["reason"][:57] + "..."
            shown = ", ".join(f"{k}={v}" for k, v in params.items() if k not in ("assets", "perps"))
            print(
                f"| {name} | {label}{': ' + shown if shown else ''} | {r['calls']} | "
                f"{r['median']:.3f} | {r['p95']:.3f} | {ok} | {reason} |"
            )
    met = "met" if worst < TARGET_MS else "NOT met"
    print(f"\nTarget: every strategy under {TARGET_MS:g} ms per call: {met}", end=" ")
    print(f"(worst median {worst:.3f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Builders shared by the strategy tests: snapshots, bars and seeded synthetic price series.

Named ``test_*`` only to fall under the strategy tests' file patterns; it holds no tests itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

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
from strategies import get_strategy
from strategies.base import Strategy

T0 = datetime(2024, 1, 1, tzinfo=UTC)
BTC_PERP = "BTC/USDT:USDT"
ETH_PERP = "ETH/USDT:USDT"


def D(x: float | str | int | Decimal) -> Decimal:
    return Decimal(str(x))


def bars_from(
    closes: Iterable[float], *, start: datetime = T0, step_hours: int = 1
) -> tuple[Bar, ...]:
    out = []
    for i, c in enumerate(closes):
        px = D(round(float(c), 10))
        ts = start + timedelta(hours=i * step_hours)
        out.append(Bar(ts, px, px, px, px, Decimal(1)))
    return tuple(out)


def path_from_returns(returns: np.ndarray, start: float = 100.0) -> np.ndarray:
    return start * np.concatenate([[1.0], np.cumprod(1.0 + returns)])


def beta_pair(
    beta: float, n: int, *, noise: float, seed: int, vol: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """Closes of A and B (n + 1 each) with A returns = beta x B returns + noise."""
    rng = np.random.default_rng(seed)
    rb = rng.normal(0.0, vol, n)
    ra = beta * rb + rng.normal(0.0, noise, n)
    return path_from_returns(ra, 50.0), path_from_returns(rb, 200.0)


def make_snapshot(
    *,
    balances: Mapping[str, float | Decimal] | None = None,
    prices: Mapping[str, float | Decimal] | None = None,
    history: Mapping[tuple[str, str], Sequence[Bar]] | None = None,
    funding: Mapping[str, float | Decimal] | None = None,
    funding_history: Mapping[str, Sequence[float | Decimal]] | None = None,
    interval_hours: int = 8,
) -> Snapshot:
    bal = {a: Balance(a, D(q), Decimal(0), D(q)) for a, q in (balances or {}).items()}
    tick = {s: Ticker(s, None, None, D(p), mark=D(p)) for s, p in (prices or {}).items()}
    hist = {history_key(s, tf): tuple(b) for (s, tf), b in (history or {}).items()}
    fund = {s: FundingRate(s, D(r), None, interval_hours) for s, r in (funding or {}).items()}
    fhist = {
        s: tuple(FundingRate(s, D(r), None, interval_hours) for r in rates)
        for s, rates in (funding_history or {}).items()
    }
    return Snapshot(
        ts=T0,
        balances=frozen_map(bal),
        tickers=frozen_map(tick),
        history=frozen_map(hist),
        funding=frozen_map(fund),
        funding_history=frozen_map(fhist),
    )


def make_strategy(
    strategy: str,
    params: Mapping[str, object] | None = None,
    *,
    spot_asset: str = "BTC",
    perp: str = BTC_PERP,
    name: str = "h1",
) -> Strategy:
    spec = HedgeSpec(name, spot_asset, perp, strategy, frozen_map(params))
    return get_strategy(strategy).from_spec(spec)

"""Property tests (hypothesis) for the situations a hedge meets in real markets, for every built-in
strategy: negative balances, two strategies sharing a history key, ratios above the caps (the
parameters' own and the risk guard's over-hedge cap), and a price path with a crash and a rebound
(with a sale of the holding on the way)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import numpy as np
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.caps import cap_overhedge
from bot.domain import (
    Balance,
    Bar,
    FundingRate,
    HedgeSpec,
    HedgeTarget,
    MarketInfo,
    MarketKind,
    Snapshot,
    Ticker,
    frozen_map,
)
from bot.domain import history_key as hkey
from bot.history import HistoryCache
from bot.planner import aggregate
from bot.universe import hedged_spot_value, spot_assets
from strategies import get_strategy
from strategies.base import Strategy
from tests.unit.test_strategies_properties import (
    CASES,
    END,
    PERPS,
    assert_sane,
    build,
    ratio_bounds,
    related_histories,
    snapshots,
)
from tests.unit.test_strategy_support import bars_from

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ZERO = Decimal(0)
# strategies whose short is ratio x holding of their own spot asset
SAME_ASSET = ("direct", "dynamic", "funding")


def perps_of(strategy: Strategy) -> tuple[str, ...]:
    return tuple(getattr(strategy.params, "perps", ())) or (strategy.hedge.perp_symbol,)


def with_balances(snapshot: Snapshot, amounts: dict[str, Decimal]) -> Snapshot:
    balances = {a: Balance(a, q, ZERO, q) for a, q in amounts.items()}
    return replace(snapshot, balances=frozen_map(balances))


# --- negative balances -----------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
@FAST
@given(data=st.data())
def test_a_negative_balance_is_treated_as_no_holding(case: str, data: st.DataObject) -> None:
    """A borrowed coin (negative balance) is nothing to hedge: never a long, never a sale."""
    strategy = build(case)
    snapshot = data.draw(snapshots())
    loans = {
        a: data.draw(st.decimals(min_value=-(10**6), max_value=Decimal("-1e-8"), places=8))
        for a in ("BTC", "ETH")
    }
    negative = strategy.targets(with_balances(snapshot, loans), {})
    assert_sane(strategy, negative)
    zero = strategy.targets(with_balances(snapshot, dict.fromkeys(loans, ZERO)), {})
    if case.startswith("basis"):  # the perp leg does not read the balance; spot is only bought
        assert [t.size for t in negative] == [t.size for t in zero]
        assert all(t.spot_size is None or t.spot_size >= 0 for t in negative)
    else:
        assert [(t.perp_symbol, t.size, t.ratio) for t in negative] == [
            (t.perp_symbol, t.size, t.ratio) for t in zero
        ]


# --- two strategies sharing a history key -----------------------------------------------------


def padded(bars: tuple[Bar, ...], older: list[float]) -> tuple[Bar, ...]:
    """``bars`` with more, older bars in front (what a hedge that needs more bars leaves)."""
    if not bars or not older:
        return bars
    start = bars[0].ts - timedelta(hours=len(older))
    return bars_from(older, start=start) + bars


@pytest.mark.parametrize("case", list(CASES))
@FAST
@given(data=st.data())
def test_a_longer_shared_history_changes_no_decision(case: str, data: st.DataObject) -> None:
    """When another hedge on the same series needs more bars (or more funding settlements), the
    cache hands out the longer series: each strategy still decides on exactly what it needs."""
    strategy = build(case)
    snapshot = replace(data.draw(snapshots()), history=frozen_map(data.draw(related_histories())))
    older = data.draw(st.lists(st.floats(1e-3, 1e6), min_size=1, max_size=60))
    history = {k: padded(v, older) for k, v in snapshot.history.items()}
    need = strategy.funding_history_needed()
    funding_history = {
        s: (FundingRate(s, Decimal("-0.003"), None, 8),) * 7 + rates
        if len(rates) >= need
        else rates
        for s, rates in snapshot.funding_history.items()
    }
    longer = replace(
        snapshot, history=frozen_map(history), funding_history=frozen_map(funding_history)
    )
    previous = {}
    for _ in range(2):  # and again with its own previous target, as the engine does
        mine, shared = strategy.targets(snapshot, previous), strategy.targets(longer, previous)
        assert mine == shared
        previous = {t.perp_symbol: t for t in mine}


class BarPort:
    """Hourly bars for any symbol, as far back as asked, and nothing else."""

    def __init__(self) -> None:
        self.calls = 0

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since: datetime | None, limit: int
    ) -> list[Bar]:
        self.calls += 1
        assert since is not None
        return list(bars_from([100.0 + i for i in range(limit)], start=since))


@FAST
@given(
    cycles=st.lists(
        st.tuples(
            st.lists(st.integers(1, 1500), min_size=1, max_size=4),  # counts on one key
            st.integers(0, 180),  # minutes to the next cycle
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_cache_serves_every_need_on_a_key_at_the_largest_count(cycles: list) -> None:
    port = BarPort()
    cache = HistoryCache(port, None)  # type: ignore[arg-type]
    now = END + timedelta(minutes=7)

    async def run() -> None:
        nonlocal now
        for counts, minutes in cycles:
            got = await cache.bars([("BTC/USDT:USDT", "1h", c) for c in counts], now)
            bars = got[hkey("BTC/USDT:USDT", "1h")]
            assert len(bars) == max(counts)
            times = [b.ts for b in bars]
            assert all(b - a == timedelta(hours=1) for a, b in pairwise(times))
            assert times[-1] + timedelta(hours=1) <= now < times[-1] + timedelta(hours=2)
            now += timedelta(minutes=minutes)

    asyncio.run(run())


# --- ratios above the caps ------------------------------------------------------------------

# (lower, upper) parameter pairs that must be ordered
ORDERED = {
    "dynamic": ("min_ratio", "max_ratio"),
    "funding": ("min_ratio", "base_ratio"),
    "cross": ("min_beta", "max_beta"),
    "portfolio": ("min_weight", "max_weight"),
}
# parameters that set a ratio, per strategy, and each one's documented upper bound
RATIO_PARAMS: dict[str, dict[str, Decimal]] = {
    "direct": {"ratio": Decimal("1.5")},
    "dynamic": {"min_ratio": Decimal("1.5"), "max_ratio": Decimal("1.5")},
    "funding": {"base_ratio": Decimal("1.5"), "min_ratio": Decimal("1.5")},
    "cross": {"min_beta": Decimal(5), "max_beta": Decimal(5)},
    "portfolio": {"min_weight": Decimal(5), "max_weight": Decimal(5)},
}


@pytest.mark.parametrize("name", list(RATIO_PARAMS))
@FAST
@given(data=st.data())
def test_ratios_above_the_caps_are_refused_or_never_exceeded(
    name: str, data: st.DataObject
) -> None:
    asset, perp, params = CASES[name]
    wanted = {
        k: str(data.draw(st.decimals(min_value=0, max_value=cap * 4, places=3)))
        for k, cap in RATIO_PARAMS[name].items()
    }
    spec = HedgeSpec(f"h-{name}", asset, perp, name, frozen_map({**params, **wanted}))
    above = any(Decimal(v) > RATIO_PARAMS[name][k] for k, v in wanted.items())
    low, high = (Decimal(wanted[k]) for k in ORDERED.get(name, (next(iter(wanted)),) * 2))
    try:
        strategy = get_strategy(name).from_spec(spec)
    except pydantic.ValidationError:
        assert above or low > high, f"{wanted} refused within the caps"
        return
    assert not above, f"{wanted} accepted above the caps"
    lo, hi = ratio_bounds(strategy)
    silly = [Decimal(1000), Decimal("1.51"), Decimal("Infinity"), Decimal("NaN"), Decimal(-3)]
    previous = {
        p: HedgeTarget("prev", p, Decimal(-(10**6)), "prev", data.draw(st.sampled_from(silly)))
        for p in perps_of(strategy)
    }
    snapshot = data.draw(snapshots())
    for t in strategy.targets(snapshot, previous):
        assert t.ratio is None or lo <= t.ratio <= hi
        if name in SAME_ASSET:
            holding = max(snapshot.spot_qty(asset), ZERO)
            assert -t.size <= hi * holding + Decimal("1e-8")


# --- a crash and a rebound ------------------------------------------------------------------


@st.composite
def crash_paths(draw: st.DrawFn) -> dict[str, Any]:
    """Hourly closes: calm, a crash of ``depth`` over ``fall`` bars, a rebound, then calm."""
    calm = draw(st.integers(25, 40))
    fall = draw(st.integers(1, 8))
    depth = draw(st.floats(0.1, 0.7))
    rise = draw(st.integers(1, 10))
    rebound = draw(st.floats(0.0, 0.6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    rets = np.concatenate(
        [
            rng.normal(0.0005, 0.004, calm),
            np.full(fall, (1 - depth) ** (1 / fall) - 1),
            np.full(rise, (1 + rebound) ** (1 / rise) - 1),
            rng.normal(0.0, 0.004, 6),
        ]
    )
    base = np.concatenate([[1.0], np.cumprod(1.0 + rets)])
    return {
        "base": base,
        "crash_start": calm + 1,  # index of the first close after the crash began
        "crash_end": calm + fall,
        "fall": fall,
        "seed": seed,
        "sell_at": draw(st.one_of(st.none(), st.integers(calm, calm + fall + rise + 5))),
        "sell_to": draw(st.sampled_from([ZERO, Decimal("0.3"), Decimal("-0.1")])),
        "rates": draw(st.sampled_from(["positive", "negative_in_crash", "flipping"])),
    }


LEVELS = {"BTC/USDT": 40000.0, "ETH/USDT": 2000.0, PERPS[0]: 40000.0, PERPS[1]: 2000.0}


def funding_rate(kind: str, i: int, path: dict[str, Any]) -> Decimal:
    in_crash = path["crash_start"] <= i <= path["crash_end"] + 3
    if kind == "positive":
        return Decimal("0.0002")
    if kind == "negative_in_crash":
        return Decimal("-0.002") if in_crash else Decimal("0.0001")
    return Decimal("-0.002") if i % 2 else Decimal("0.0005")


def crash_snapshot(
    path: dict[str, Any], i: int, holdings: dict[str, Decimal], wobble: float
) -> Snapshot:
    """The snapshot after close ``i`` (bars 0..i closed), the ticker ``wobble`` off the close."""
    start = END - timedelta(hours=len(path["base"]))
    noise = np.random.default_rng(path["seed"] + 1).normal(
        0, 0.002, (len(LEVELS), len(path["base"]))
    )
    history, tickers = {}, {}
    for row, (symbol, level) in enumerate(LEVELS.items()):
        closes = level * path["base"][: i + 1] * (1 + noise[row, : i + 1])
        history[hkey(symbol, "1h")] = bars_from(closes, start=start)
        price = Decimal(str(round(float(closes[-1]) * (1 + wobble), 6)))
        tickers[symbol] = Ticker(symbol, None, None, price, mark=price)
    rates = [funding_rate(path["rates"], j, path) for j in range(max(0, i - 12), i + 1)]
    return Snapshot(
        ts=start + timedelta(hours=i + 1, minutes=1),
        balances=frozen_map({a: Balance(a, q, ZERO, q) for a, q in holdings.items()}),
        tickers=frozen_map(tickers),
        history=frozen_map(history),
        funding=frozen_map({p: FundingRate(p, rates[-1], None, 8) for p in PERPS}),
        funding_history=frozen_map(
            {p: tuple(FundingRate(p, r, None, 8) for r in rates[:-1]) for p in PERPS}
        ),
    )


@pytest.mark.parametrize("case", list(CASES))
@FAST
@given(path=crash_paths())
def test_a_crash_and_rebound_keeps_every_hedge_sane(case: str, path: dict[str, Any]) -> None:
    """Cycle by cycle through a crash and a rebound (two cycles per closed bar, the second with
    the live price 0.5% off): targets stay short, finite and within bounds; a same-asset hedge
    stays on while the holding is there and follows a sale; basis never sells the user's coins;
    dynamic is defensive once a deep crash has been confirmed on closed bars."""
    strategy = build(case)
    asset = strategy.hedge.spot_asset
    user = {"BTC": Decimal(2), "ETH": Decimal(30)}  # the user's own coins
    holdings = dict(user)
    previous: dict[str, HedgeTarget] = {}
    lo, hi = ratio_bounds(strategy)
    for i in range(20, len(path["base"])):
        if path["sell_at"] == i:  # the user sells by hand: their own coins go first
            own = {t.perp_symbol: Decimal(t.details.get("own", "0")) for t in previous.values()}
            mine = sum(own.values(), ZERO) if case.startswith("basis") else ZERO
            user = {a: max(ZERO, path["sell_to"] - mine) for a in user}
            holdings = dict.fromkeys(holdings, path["sell_to"])
        decided: list[HedgeTarget] = []
        for wobble in (0.0, 0.005):
            snap = crash_snapshot(path, i, holdings, wobble)
            targets = strategy.targets(snap, previous)
            assert_sane(strategy, targets)
            for t in targets:
                if case in SAME_ASSET:
                    held = max(holdings[asset], ZERO)
                    assert -t.size <= hi * held + Decimal("1e-8")
                    if held > 0 and lo > 0:
                        assert t.size < 0, f"unhedged at close {i}: {t.reason}"
                if t.spot_size is not None:  # basis: a fill makes the balance the target
                    assert t.spot_size >= user[asset], "sold the user's own spot"
                    holdings[asset] = t.spot_size
            if case == "dynamic" and decided:  # the same closed bars, the live price 0.5% off
                assert (targets[0].size, targets[0].ratio) == (decided[0].size, decided[0].ratio)
                assert targets[0].details["regime"] == decided[0].details["regime"]
            if targets:
                decided = list(targets)
                previous = {t.perp_symbol: t for t in targets}
        if case == "dynamic" and targets and path["fall"] >= 2 and i == path["crash_end"]:
            crash = 1 - path["base"][path["crash_end"]] / path["base"][path["crash_start"] - 1]
            if crash >= 0.2:
                assert targets[0].details["regime"] == "defensive", targets[0].reason
                assert targets[0].ratio == hi


MARKETS = {
    s: MarketInfo(
        s,
        s.replace("/", "").split(":")[0],
        s.split("/")[0],
        "USDT",
        MarketKind.PERP if ":" in s else MarketKind.SPOT,
        Decimal("0.001"),
        Decimal("0.001"),
        Decimal(0),
        Decimal("0.01"),
    )
    for s in LEVELS
}


@pytest.mark.parametrize("name", list(RATIO_PARAMS))
@FAST
@given(data=st.data())
def test_ratios_above_the_over_hedge_cap_are_trimmed_not_refused(
    name: str, data: st.DataObject
) -> None:
    """A strategy may ask for more than ``max_overhedge`` (direct at 1.2, a beta of 3): the risk
    cap scales the shorts down to the cap, and never to nothing while there is spot to hedge."""
    asset, perp, params = CASES[name]
    upper = {k: cap for k, cap in RATIO_PARAMS[name].items() if not k.startswith("min")}
    wanted = {
        k: str(data.draw(st.decimals(min_value=1, max_value=cap, places=2)))
        for k, cap in upper.items()
    }
    strategy = get_strategy(name).from_spec(
        HedgeSpec(f"h-{name}", asset, perp, name, frozen_map({**params, **wanted}))
    )
    snapshot = replace(data.draw(snapshots()), markets=frozen_map(MARKETS))
    targets = strategy.targets(snapshot, {})
    max_overhedge = data.draw(st.sampled_from([Decimal(1), Decimal("1.05"), Decimal("1.2")]))
    spot_value = hedged_spot_value(snapshot, spot_assets([strategy]), "USDT")
    spot_of = {f"h-{name}": spot_assets([strategy])}
    trimmed, _, _ = cap_overhedge(targets, snapshot, max_overhedge, spot_of, "USDT")
    capped = aggregate(trimmed)
    short = {s: -t.size * (snapshot.price(s) or ZERO) for s, t in capped.items() if t.size < 0}
    assert sum(short.values(), ZERO) <= max_overhedge * spot_value + Decimal("1e-6")
    asked = {t.perp_symbol: -t.size * (snapshot.price(t.perp_symbol) or ZERO) for t in targets}
    for symbol, notional in asked.items():
        step = MARKETS[symbol].amount_step * (snapshot.price(symbol) or ZERO)
        room = max_overhedge * spot_value * notional / max(sum(asked.values(), ZERO), Decimal(1))
        if notional > 0 and room > 2 * step:
            assert short.get(symbol, ZERO) > 0, f"{symbol} refused instead of trimmed"

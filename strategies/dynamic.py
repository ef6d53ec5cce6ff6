"""dynamic: hedge ratio between ``min_ratio`` and ``max_ratio`` driven by volatility and trend.

It decides on **closed bars** of ``symbol`` (the hedge's perp by default) on ``timeframe``, never
on the live price: between two bar closes every cycle repeats the last decision (re-sized with the
current holding), so cycles cannot flip it. Indicators at each newly closed bar:

- volatility ratio = EWMA volatility of returns (span ``vol_span`` bars) / long-run volatility (root
  mean square of the last ``vol_window`` returns);
- trend = last close relative to its ``trend_window``-bar moving average.

The trend side has a dead band of ``trend_band`` around the average: it turns ``down`` only when
the close is more than ``trend_band`` below the average and ``up`` only when more than
``trend_band`` above it; in between it stays on the side it was (``details["side"]``).

Raw regime of a bar, and the ratio it asks for:

- ``defensive`` (``max_ratio``): volatility ratio >= ``high_vol``, or trend side ``down``;
- ``calm_up`` (``min_ratio``): volatility ratio <= ``low_vol`` and trend side ``up``;
- ``neutral`` (midpoint of the bounds): anything else.

Hysteresis:

1. The active regime (``details["regime"]``) changes only when the same new raw regime has been
   seen on ``confirm`` consecutive closed bars (``details["pending"]``/``["pending_count"]``; a bar
   whose raw regime equals the active one resets the count; ``details["bar"]`` is the open time of
   the last bar counted; after a pause of several bars the count moves once). With
   ``confirm = 1`` every change is adopted at the next bar close.
2. The ratio then moves to the active regime's ratio only if that differs from the previous ratio by
   more than ``band``; otherwise the previous ratio is kept.

With too little history (fewer than ``max(trend_window, 2 * vol_span) + 1`` closes) it keeps
the previous ratio (``details["held"] = "insufficient_history"``), or uses ``max_ratio`` when there
is no previous target: the conservative side for a hedge. Size is always ``-ratio * spot holdings``
(a negative balance counts as none).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import numpy as np
from pydantic import Field, model_validator

from bot.domain import Bar, HedgeTarget, Snapshot
from strategies.base import HistoryNeed, Strategy, StrategyParams
from strategies.series import (
    RATIO_PLACES,
    SIZE_PLACES,
    TIMEFRAME_PATTERN,
    clamp,
    closes,
    quantize,
    simple_returns,
)

DEFENSIVE, NEUTRAL, CALM_UP = "defensive", "neutral", "calm_up"
REGIMES = (DEFENSIVE, NEUTRAL, CALM_UP)
UP, DOWN = "up", "down"


class DynamicParams(StrategyParams):
    min_ratio: Decimal = Field(
        default=Decimal("0.5"), ge=0, le=Decimal("1.5"), description="ratio in a calm uptrend"
    )
    max_ratio: Decimal = Field(
        default=Decimal(1), ge=0, le=Decimal("1.5"), description="ratio when defensive"
    )
    timeframe: str = Field(default="1h", pattern=TIMEFRAME_PATTERN, description="bar size")
    symbol: str | None = Field(default=None, description="price series; default the hedge's perp")
    vol_span: int = Field(default=24, ge=2, le=1000, description="EWMA span of volatility, bars")
    vol_window: int = Field(default=720, ge=10, le=5000, description="long-run volatility, bars")
    trend_window: int = Field(default=168, ge=2, le=5000, description="moving average, bars")
    high_vol: Decimal = Field(default=Decimal("1.25"), gt=0, le=10, description="vol ratio: high")
    low_vol: Decimal = Field(default=Decimal("0.8"), ge=0, le=10, description="vol ratio: calm")
    band: Decimal = Field(default=Decimal("0.05"), ge=0, le=1, description="min ratio move")
    trend_band: Decimal = Field(
        default=Decimal("0.01"), ge=0, le=Decimal("0.5"), description="dead band around the average"
    )
    confirm: int = Field(default=2, ge=1, le=100, description="closed bars to confirm a regime")

    @model_validator(mode="after")
    def _ordered(self) -> DynamicParams:
        if self.min_ratio > self.max_ratio:
            raise ValueError("min_ratio must not exceed max_ratio")
        if self.low_vol > self.high_vol:
            raise ValueError("low_vol must not exceed high_vol")
        return self


class DynamicHedge(Strategy):
    name = "dynamic"
    summary = "ratio between bounds by volatility regime and trend, with hysteresis"
    Params = DynamicParams

    @property
    def p(self) -> DynamicParams:
        assert isinstance(self.params, DynamicParams)
        return self.params

    @property
    def symbol(self) -> str:
        return self.p.symbol or self.hedge.perp_symbol

    def ratio_bounds(self) -> tuple[Decimal, Decimal]:
        return self.p.min_ratio, self.p.max_ratio

    def min_closes(self) -> int:
        return max(self.p.trend_window, 2 * self.p.vol_span) + 1

    def history_needs(self) -> Sequence[HistoryNeed]:
        bars = max(self.min_closes(), self.p.vol_window + 1)
        return (HistoryNeed(self.symbol, self.p.timeframe, bars),)

    def regime_ratio(self, regime: str) -> Decimal:
        p = self.p
        if regime == DEFENSIVE:
            return p.max_ratio
        if regime == CALM_UP:
            return p.min_ratio
        return quantize((p.min_ratio + p.max_ratio) / 2, RATIO_PLACES)

    def target(self, snapshot: Snapshot, previous: HedgeTarget | None) -> HedgeTarget | None:
        p = self.p
        prev_ratio = _previous_ratio(previous, p.min_ratio, p.max_ratio)
        prev_details: Mapping[str, str] = previous.details if previous is not None else {}
        bars = snapshot.bars(self.symbol, p.timeframe)
        indicators = self._indicators(bars)
        if indicators is None:
            ratio = prev_ratio if prev_ratio is not None else p.max_ratio
            details = {"regime": prev_details.get("regime", "unknown")}
            if previous is not None:
                details["held"] = "insufficient_history"
            return self._make(snapshot, ratio, "insufficient history", details)
        bar = bars[-1].ts.isoformat()
        active = prev_details.get("regime")
        if prev_ratio is not None and active in REGIMES and prev_details.get("bar") == bar:
            kept = {k: v for k, v in prev_details.items() if k in _STATE_KEYS}
            return self._make(snapshot, prev_ratio, f"regime={active}, no new closed bar", kept)
        vol_ratio, trend = indicators
        side = self._side(trend, prev_details.get("side"))
        raw = self._raw_regime(vol_ratio, side)
        pending, count = prev_details.get("pending", ""), _int(prev_details.get("pending_count"))
        if active not in REGIMES:
            active, pending, count = raw, "", 0  # first decision: nothing to confirm against
        elif raw == active:
            pending, count = "", 0
        else:
            count = count + 1 if raw == pending else 1
            pending = raw
            if count >= p.confirm:
                active, pending, count = raw, "", 0
        wanted = self.regime_ratio(active)
        ratio = wanted
        if prev_ratio is not None and abs(wanted - prev_ratio) <= p.band:
            ratio = prev_ratio
        details = {
            "regime": active,
            "raw_regime": raw,
            "vol_ratio": str(vol_ratio),
            "trend": str(trend),
            "side": side,
            "bar": bar,
        }
        if pending:
            details.update(pending=pending, pending_count=str(count))
        note = f"regime={active} (raw {raw}) vol_ratio={vol_ratio} trend={trend:+} {side}"
        if pending:
            note += f" pending {pending} {count}/{p.confirm} bars"
        return self._make(snapshot, ratio, note, details)

    def _side(self, trend: Decimal, previous: str | None) -> str:
        """Trend side with a dead band: inside it the previous side stands."""
        if trend < -self.p.trend_band:
            return DOWN
        if trend > self.p.trend_band:
            return UP
        if previous in (UP, DOWN):
            return previous
        return DOWN if trend < 0 else UP

    def _raw_regime(self, vol_ratio: Decimal, side: str) -> str:
        if vol_ratio >= self.p.high_vol or side == DOWN:
            return DEFENSIVE
        if vol_ratio <= self.p.low_vol:
            return CALM_UP
        return NEUTRAL

    def _indicators(self, bars: Sequence[Bar]) -> tuple[Decimal, Decimal] | None:
        """(EWMA vol / long-run vol, last close / moving average - 1), or None on too little
        data. Closed bars only: the live price never moves the regime."""
        p = self.p
        # exactly the bars it asked for: a longer series shared with another hedge changes nothing
        prices = closes(bars[-self.history_needs()[0].bars :])
        if prices is None or len(prices) < self.min_closes():
            return None
        rets = simple_returns(prices)
        alpha = 2.0 / (p.vol_span + 1)
        var = float(np.mean(rets[: p.vol_span] ** 2))  # seed the EWMA with the first span
        for r in rets[p.vol_span :]:
            var = (1 - alpha) * var + alpha * float(r) ** 2
        long_var = float(np.mean(rets[-p.vol_window :] ** 2))
        # a flat series is neither calm nor wild relative to itself: ratio 1
        vol_ratio = np.sqrt(var / long_var) if long_var > 0 else 1.0
        trend = float(prices[-1]) / float(np.mean(prices[-p.trend_window :])) - 1.0
        if not (np.isfinite(vol_ratio) and np.isfinite(trend)):
            return None
        return (
            quantize(Decimal(repr(float(vol_ratio))), RATIO_PLACES),
            quantize(Decimal(repr(trend)), 6),
        )

    def _make(
        self, snapshot: Snapshot, ratio: Decimal, note: str, details: dict[str, str]
    ) -> HedgeTarget:
        spot = max(snapshot.spot_qty(self.hedge.spot_asset), Decimal(0))
        details["ratio"] = str(ratio)
        return HedgeTarget(
            hedge=self.hedge.name,
            perp_symbol=self.hedge.perp_symbol,
            size=quantize(-(spot * ratio), SIZE_PLACES),
            ratio=ratio,
            reason=f"dynamic ratio={ratio} {note}; spot={spot} {self.hedge.spot_asset}",
            details=details,
        )


_STATE_KEYS = (
    "regime",
    "raw_regime",
    "vol_ratio",
    "trend",
    "side",
    "bar",
    "pending",
    "pending_count",
)


def _previous_ratio(previous: HedgeTarget | None, low: Decimal, high: Decimal) -> Decimal | None:
    if previous is None or previous.ratio is None or not previous.ratio.is_finite():
        return None
    return clamp(previous.ratio, low, high)


def _int(text: str | None) -> int:
    try:
        return max(0, int(text or 0))
    except ValueError:
        return 0

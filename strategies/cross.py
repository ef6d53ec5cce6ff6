"""cross: hedge asset A (the spot holding) with the perp of another asset B, sized by beta.

Beta is the minimum-variance hedge ratio of A's returns on B's over a rolling window of aligned bars
(A's spot market, B's perp). It is applied in value terms: the short B notional is beta x the A
holding's notional, so ``size_B = -beta * qty_A * price_A / price_B``.

When the correlation over the window is below ``min_correlation`` the measured beta is unreliable:
the strategy holds its previous **ratio** (``details["held"] = "low_correlation"``) and re-sizes it
with the current holding and prices, so selling A while correlation is low still shrinks the short.
With no previous ratio it makes no decision. Beta is clamped to ``[min_beta, max_beta]``; a
negative balance counts as no holding.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from bot.domain import HedgeTarget, Snapshot
from strategies.base import HistoryNeed, Strategy, StrategyParams
from strategies.series import (
    RATIO_PLACES,
    SIZE_PLACES,
    TIMEFRAME_PATTERN,
    aligned_closes,
    clamp,
    positive_price,
    quantize,
    simple_returns,
    spot_symbol_for,
    to_decimal,
)


class CrossParams(StrategyParams):
    window: int = Field(default=168, ge=10, le=5000, description="return observations (bars)")
    timeframe: str = Field(default="1h", pattern=TIMEFRAME_PATTERN, description="bar size")
    min_correlation: Decimal = Field(
        default=Decimal("0.6"), ge=0, le=1, description="below it, hold the previous target"
    )
    min_beta: Decimal = Field(default=Decimal(0), ge=0, le=5, description="lower bound of beta")
    max_beta: Decimal = Field(default=Decimal(2), ge=0, le=5, description="upper bound of beta")
    min_fraction: Decimal = Field(
        default=Decimal("0.8"),
        gt=0,
        le=1,
        description="share of the window that must be present to decide",
    )
    spot_symbol: str | None = Field(
        default=None, description="A's price series; default '<spot_asset>/<perp quote>'"
    )

    @model_validator(mode="after")
    def _beta_bounds(self) -> CrossParams:
        if self.min_beta > self.max_beta:
            raise ValueError("min_beta must not exceed max_beta")
        return self


class CrossHedge(Strategy):
    name = "cross"
    summary = "short another asset's perp, sized by the rolling minimum-variance beta"
    Params: ClassVar[type[StrategyParams]] = CrossParams

    @property
    def p(self) -> CrossParams:
        assert isinstance(self.params, CrossParams)
        return self.params

    @property
    def spot_symbol(self) -> str:
        return self.p.spot_symbol or spot_symbol_for(self.hedge.spot_asset, self.hedge.perp_symbol)

    def ratio_bounds(self) -> tuple[Decimal, Decimal]:
        return self.p.min_beta, self.p.max_beta

    def symbols_read(self, quote: str = "USDT") -> frozenset[str]:
        return frozenset({self.spot_symbol, self.hedge.perp_symbol})

    def history_needs(self) -> Sequence[HistoryNeed]:
        bars = self.p.window + 1  # window returns need window + 1 closes
        return (
            HistoryNeed(self.spot_symbol, self.p.timeframe, bars),
            HistoryNeed(self.hedge.perp_symbol, self.p.timeframe, bars),
        )

    def target(self, snapshot: Snapshot, previous: HedgeTarget | None) -> HedgeTarget | None:
        p = self.p
        stats = self._beta_and_correlation(snapshot)
        if stats is None:
            return None
        beta_raw, corr, n = stats
        window_note = f"window={n}x{p.timeframe}"
        qty = max(snapshot.spot_qty(self.hedge.spot_asset), Decimal(0))
        price_a = positive_price(snapshot.price(self.spot_symbol))
        price_b = positive_price(snapshot.price(self.hedge.perp_symbol))
        if price_a is None or price_b is None:
            return None
        if corr is None or corr < p.min_correlation:
            held = self._held_ratio(previous)
            if held is None:
                return None
            size = quantize(-(held * qty * price_a / price_b), SIZE_PLACES)
            return self._hold(size, held, beta_raw, corr, window_note)
        beta = clamp(beta_raw, p.min_beta, p.max_beta)
        size = quantize(-(beta * qty * price_a / price_b), SIZE_PLACES)
        return HedgeTarget(
            hedge=self.hedge.name,
            perp_symbol=self.hedge.perp_symbol,
            size=size,
            ratio=beta,
            reason=(
                f"cross beta={beta} (raw {beta_raw}) corr={corr} {window_note}: "
                f"{qty} {self.hedge.spot_asset} @ {price_a} hedged by {self.hedge.perp_symbol}"
                f" @ {price_b}"
            ),
            details={"beta": str(beta), "correlation": str(corr), "window": str(n)},
        )

    def _beta_and_correlation(
        self, snapshot: Snapshot
    ) -> tuple[Decimal, Decimal | None, int] | None:
        """(beta, correlation or None for a flat series, returns used); None on too little data."""
        p = self.p
        prices = aligned_closes(
            [
                snapshot.bars(self.spot_symbol, p.timeframe),
                snapshot.bars(self.hedge.perp_symbol, p.timeframe),
            ],
            p.window + 1,
        )
        if prices is None or len(prices) - 1 < max(2, int(p.window * p.min_fraction)):
            return None
        rets = simple_returns(prices)
        a, b = rets[:, 0], rets[:, 1]
        cov = np.cov(a, b)
        var_a, var_b, cov_ab = float(cov[0, 0]), float(cov[1, 1]), float(cov[0, 1])
        if var_b <= 0 or var_a <= 0:
            return Decimal(0), None, len(rets)
        beta = to_decimal(cov_ab / var_b, RATIO_PLACES)
        corr = to_decimal(cov_ab / np.sqrt(var_a * var_b), RATIO_PLACES)
        if beta is None or corr is None:
            return None
        return beta, corr, len(rets)

    def _held_ratio(self, previous: HedgeTarget | None) -> Decimal | None:
        ratio = previous.ratio if previous is not None else None
        if ratio is None or not ratio.is_finite():
            return None
        return clamp(ratio, self.p.min_beta, self.p.max_beta)

    def _hold(
        self,
        size: Decimal,
        ratio: Decimal,
        beta: Decimal,
        corr: Decimal | None,
        window_note: str,
    ) -> HedgeTarget:
        p = self.p
        corr_text = "undefined (flat series)" if corr is None else str(corr)
        return HedgeTarget(
            hedge=self.hedge.name,
            perp_symbol=self.hedge.perp_symbol,
            size=size,
            ratio=ratio,
            reason=(
                f"cross held previous ratio {ratio}: corr={corr_text} < {p.min_correlation}"
                f" (beta {beta}, {window_note})"
            ),
            details={
                "held": "low_correlation",
                "beta": str(ratio),
                "measured_beta": str(beta),
                "correlation": "" if corr is None else str(corr),
            },
        )

"""funding: a direct hedge at ``base_ratio``, scaled down while funding runs against the short.

A negative rate means shorts pay longs. Funding is *persistently adverse* when both the next
predicted rate and the average of the last ``lookback`` settled rates are below ``-adverse_rate``.
Then the milder of the two (the smaller magnitude) sets how far the ratio falls: linearly from
``base_ratio`` at ``adverse_rate`` to ``min_ratio`` at ``full_cut_rate`` and beyond; never below
``min_ratio``. As soon as either rate is no longer adverse the ratio returns to ``base_ratio``.

Rates are compared per 8-hour settlement: a rate of another interval is rescaled to 8 h. Without a
predicted rate, or without any settled history, persistence cannot be judged and the ratio is
``base_ratio``.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, model_validator

from bot.domain import FundingRate, HedgeTarget, Snapshot
from strategies.base import Strategy, StrategyParams
from strategies.series import RATIO_PLACES, SIZE_PLACES, quantize

EIGHT_HOURS = 8


class FundingParams(StrategyParams):
    base_ratio: Decimal = Field(
        default=Decimal(1), ge=0, le=Decimal("1.5"), description="ratio when funding is normal"
    )
    min_ratio: Decimal = Field(
        default=Decimal("0.5"), ge=0, le=Decimal("1.5"), description="floor of the cut ratio"
    )
    adverse_rate: Decimal = Field(
        default=Decimal("0.0001"), ge=0, le=Decimal("0.05"), description="per 8 h; start cutting"
    )
    full_cut_rate: Decimal = Field(
        default=Decimal("0.001"), gt=0, le=Decimal("0.05"), description="per 8 h; at min_ratio"
    )
    lookback: int = Field(default=9, ge=1, le=500, description="settled rates averaged")

    @model_validator(mode="after")
    def _ordered(self) -> FundingParams:
        if self.min_ratio > self.base_ratio:
            raise ValueError("min_ratio must not exceed base_ratio")
        if self.adverse_rate >= self.full_cut_rate:
            raise ValueError("adverse_rate must be below full_cut_rate")
        return self


def per_eight_hours(rate: FundingRate) -> Decimal:
    hours = rate.interval_hours if rate.interval_hours > 0 else EIGHT_HOURS
    return rate.rate * EIGHT_HOURS / hours


class FundingAwareHedge(Strategy):
    name = "funding"
    summary = "direct hedge, cut toward min_ratio while funding persistently charges the short"
    Params = FundingParams

    @property
    def p(self) -> FundingParams:
        assert isinstance(self.params, FundingParams)
        return self.params

    def ratio_bounds(self) -> tuple[Decimal, Decimal]:
        return self.p.min_ratio, self.p.base_ratio

    def funding_history_needed(self) -> int:
        return self.p.lookback

    def target(self, snapshot: Snapshot, previous: HedgeTarget | None) -> HedgeTarget | None:
        p = self.p
        perp = self.hedge.perp_symbol
        predicted = snapshot.funding.get(perp)
        history = [r for r in snapshot.funding_history.get(perp, ()) if r.rate.is_finite()]
        history = history[-p.lookback :]
        ratio, note, details = p.base_ratio, "", {"state": "normal"}
        if predicted is None or not predicted.rate.is_finite():
            note = "no predicted funding rate"
        elif not history:
            note = "no funding history to judge persistence"
        else:
            next_rate = per_eight_hours(predicted)
            average = sum((per_eight_hours(r) for r in history), Decimal(0)) / len(history)
            average = quantize(average, 8)
            details.update(predicted=str(next_rate), average=str(average))
            note = f"predicted={next_rate} avg{len(history)}={average} per 8h"
            if next_rate < -p.adverse_rate and average < -p.adverse_rate:
                severity = min(-next_rate, -average)
                cut = (severity - p.adverse_rate) / (p.full_cut_rate - p.adverse_rate)
                cut = min(Decimal(1), max(Decimal(0), cut))
                ratio = quantize(p.base_ratio - (p.base_ratio - p.min_ratio) * cut, RATIO_PLACES)
                ratio = max(p.min_ratio, min(p.base_ratio, ratio))
                details["state"] = "adverse"
                note += f": short pays persistently, cut {quantize(cut * 100, 1)}%"
        spot = max(snapshot.spot_qty(self.hedge.spot_asset), Decimal(0))
        details["ratio"] = str(ratio)
        return HedgeTarget(
            hedge=self.hedge.name,
            perp_symbol=perp,
            size=quantize(-(spot * ratio), SIZE_PLACES),
            ratio=ratio,
            reason=f"funding ratio={ratio} ({note}); spot={spot} {self.hedge.spot_asset}",
            details=details,
        )

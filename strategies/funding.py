"""funding: a direct hedge at ``base_ratio``, scaled down while funding runs against the short.

A negative rate means shorts pay longs. Rates are compared per 8-hour settlement: a rate of another
interval is rescaled to 8 h. Two states, kept in ``details["state"]`` of the previous target:

- ``normal`` -> ``adverse`` when both the next predicted rate and the average of the last
  ``lookback`` settled rates are below ``-adverse_rate`` (one bad print is not persistence);
- ``adverse`` -> ``normal`` only when the last ``exit_after`` settled rates are each no longer
  adverse (>= ``-adverse_rate``) and the predicted rate is not adverse either: a single sign flip,
  predicted or settled, never restores the full hedge.

While adverse, the cut is set by the milder of the predicted rate and the settled average (the
settled average alone while the predicted rate is not adverse): the ratio falls linearly from
``base_ratio`` at ``adverse_rate`` to ``min_ratio`` at ``full_cut_rate`` and beyond, never below
``min_ratio``. Without a predicted rate or settled history persistence cannot be judged: a
``normal`` hedge stays at ``base_ratio`` and an ``adverse`` one keeps its previous ratio. A
negative balance counts as no holding.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, model_validator

from bot.domain import FundingRate, HedgeTarget, Snapshot
from strategies.base import Strategy, StrategyParams
from strategies.series import RATIO_PLACES, SIZE_PLACES, clamp, quantize

EIGHT_HOURS = 8
NORMAL, ADVERSE = "normal", "adverse"


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
    exit_after: int = Field(
        default=3, ge=2, le=100, description="settled rates no longer adverse to end a cut"
    )

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
        return max(self.p.lookback, self.p.exit_after)

    def target(self, snapshot: Snapshot, previous: HedgeTarget | None) -> HedgeTarget | None:
        p = self.p
        perp = self.hedge.perp_symbol
        was_adverse = previous is not None and previous.details.get("state") == ADVERSE
        predicted = snapshot.funding.get(perp)
        settled = [
            per_eight_hours(r) for r in snapshot.funding_history.get(perp, ()) if r.rate.is_finite()
        ]
        if predicted is None or not predicted.rate.is_finite() or not settled:
            missing = "no predicted funding rate" if settled else "no funding history"
            if was_adverse and previous is not None and previous.ratio is not None:
                ratio = clamp(previous.ratio, p.min_ratio, p.base_ratio)
                note = f"{missing} to judge persistence: previous cut kept"
                return self._make(snapshot, ratio, note, {"state": ADVERSE})
            return self._make(snapshot, p.base_ratio, f"{missing} to judge persistence", {})
        next_rate = per_eight_hours(predicted)
        window = settled[-p.lookback :]
        average = quantize(sum(window, Decimal(0)) / len(window), 8)
        note = f"predicted={next_rate} avg{len(window)}={average} per 8h"
        details = {"predicted": str(next_rate), "average": str(average)}
        adverse_now = next_rate < -p.adverse_rate
        recent = settled[-p.exit_after :]
        recovered = (
            not adverse_now
            and len(recent) >= p.exit_after
            and all(r >= -p.adverse_rate for r in recent)
        )
        if was_adverse and not recovered:
            state = ADVERSE
        else:
            state = ADVERSE if adverse_now and average < -p.adverse_rate else NORMAL
        details["state"] = state
        if state == NORMAL:
            if was_adverse:
                note += f": {p.exit_after} settlements no longer adverse, cut ended"
            return self._make(snapshot, p.base_ratio, note, details)
        severity = min(-next_rate, -average) if adverse_now else -average
        cut = (severity - p.adverse_rate) / (p.full_cut_rate - p.adverse_rate)
        cut = min(Decimal(1), max(Decimal(0), cut))
        ratio = quantize(p.base_ratio - (p.base_ratio - p.min_ratio) * cut, RATIO_PLACES)
        ratio = clamp(ratio, p.min_ratio, p.base_ratio)
        note += f": short pays persistently, cut {quantize(cut * 100, 1)}%"
        return self._make(snapshot, ratio, note, details)

    def _make(
        self, snapshot: Snapshot, ratio: Decimal, note: str, details: dict[str, str]
    ) -> HedgeTarget:
        spot = max(snapshot.spot_qty(self.hedge.spot_asset), Decimal(0))
        details.setdefault("state", NORMAL)
        details["ratio"] = str(ratio)
        return HedgeTarget(
            hedge=self.hedge.name,
            perp_symbol=self.hedge.perp_symbol,
            size=quantize(-(spot * ratio), SIZE_PLACES),
            ratio=ratio,
            reason=f"funding ratio={ratio} ({note}); spot={spot} {self.hedge.spot_asset}",
            details=details,
        )

"""direct: short the same asset's perp at a fixed ratio of the spot holding (1:1 by default).

A negative balance (a spot margin loan) counts as no holding: the hedge never goes long."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from bot.domain import HedgeTarget, Snapshot
from strategies.base import Strategy, StrategyParams


class DirectParams(StrategyParams):
    ratio: Decimal = Field(default=Decimal(1), ge=0, le=Decimal("1.5"))


class DirectHedge(Strategy):
    name = "direct"
    summary = "short = ratio x spot holdings of the same asset"
    Params = DirectParams

    def target(self, snapshot: Snapshot, previous: HedgeTarget | None) -> HedgeTarget | None:
        params = self.params
        assert isinstance(params, DirectParams)
        spot = max(snapshot.spot_qty(self.hedge.spot_asset), Decimal(0))
        size = -(spot * params.ratio)
        return HedgeTarget(
            hedge=self.hedge.name,
            perp_symbol=self.hedge.perp_symbol,
            size=size,
            ratio=params.ratio,
            reason=f"direct ratio={params.ratio} spot={spot} {self.hedge.spot_asset}",
        )

"""An example third-party strategy package, discovered through the ``hedgebot.strategies``
entry-point group. A real package declares, in its pyproject.toml::

    [project.entry-points."hedgebot.strategies"]
    half = "hedgebot_example_strategy:HalfHedge"
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from bot.domain import HedgeTarget, Snapshot
from strategies.base import Strategy, StrategyParams


class HalfParams(StrategyParams):
    fraction: Decimal = Field(default=Decimal("0.5"), ge=0, le=1, description="share hedged")


class HalfHedge(Strategy):
    name = "half"
    summary = "short half (or `fraction`) of the spot holding"
    Params = HalfParams

    def target(self, snapshot: Snapshot, previous: HedgeTarget | None) -> HedgeTarget | None:
        assert isinstance(self.params, HalfParams)
        fraction = self.params.fraction
        spot = snapshot.spot_qty(self.hedge.spot_asset)
        return HedgeTarget(
            hedge=self.hedge.name,
            perp_symbol=self.hedge.perp_symbol,
            size=-(spot * fraction),
            ratio=fraction,
            reason=f"half: {fraction} x {spot} {self.hedge.spot_asset}",
        )

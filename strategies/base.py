"""The strategy interface. A strategy is pure: snapshot in, target out; no I/O, clock or randomness.

Anything it needs (price history, funding, balances, its own previous target for hysteresis) comes
through its arguments. The engine isolates failures: a strategy that raises skips only its hedge.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from bot.domain import HedgeSpec, HedgeTarget, Snapshot


class StrategyParams(BaseModel):
    """Base of every strategy's parameters: unknown keys are an error, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class HistoryNeed:
    """Price history a strategy reads; the engine fetches it through the port and caches it."""

    symbol: str
    timeframe: str
    bars: int


class Strategy(ABC):
    name: ClassVar[str]
    summary: ClassVar[str] = ""
    Params: ClassVar[type[StrategyParams]] = StrategyParams
    # True when the hedge names its assets and perps in params (portfolio), not spot_asset/perp
    multi_asset: ClassVar[bool] = False

    def __init__(self, hedge: HedgeSpec, params: StrategyParams) -> None:
        self.hedge = hedge
        self.params = params

    @classmethod
    def from_spec(cls, hedge: HedgeSpec) -> Strategy:
        """Validate the hedge's params against ``Params`` (raises pydantic.ValidationError)."""
        return cls(hedge, cls.Params.model_validate(dict(hedge.params)))

    def history_needs(self) -> Sequence[HistoryNeed]:
        """Price history this strategy reads from ``snapshot.history``; none by default."""
        return ()

    def symbols_read(self, quote: str = "USDT") -> frozenset[str]:
        """Every symbol whose price or history this hedge reads: the engine skips the decision
        when any of them is not trusted this cycle (a bad print in one asset of a basket, too)."""
        out = {n.symbol for n in self.history_needs()}
        if self.hedge.perp_symbol:
            out.add(self.hedge.perp_symbol)
        if self.hedge.spot_asset:
            out.add(f"{self.hedge.spot_asset}/{quote}")
        return frozenset(out)

    def funding_history_needed(self) -> int:
        """How many past funding rates of the hedge's perp it reads; 0 by default."""
        return 0

    def targets(
        self, snapshot: Snapshot, previous: Mapping[str, HedgeTarget]
    ) -> tuple[HedgeTarget, ...]:
        """All targets of this hedge, keyed in ``previous`` by perp symbol. Single-perp strategies
        implement ``target``; multi-perp ones (portfolio) override this instead."""
        one = self.target(snapshot, previous.get(self.hedge.perp_symbol))
        return () if one is None else (one,)

    @abstractmethod
    def target(self, snapshot: Snapshot, previous: HedgeTarget | None) -> HedgeTarget | None:
        """The signed target perp size for this hedge, or None to make no decision this cycle.

        ``previous`` is this hedge's last target, so hysteresis and hold rules stay pure."""


def describe_params(params_model: type[StrategyParams]) -> Mapping[str, Any]:
    """Parameter names with their defaults (for ``hedgebot strategies``)."""
    out: dict[str, Any] = {}
    for key, info in params_model.model_fields.items():
        out[key] = None if info.is_required() else info.get_default(call_default_factory=True)
    return out

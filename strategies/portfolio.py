"""portfolio: hedge a basket of spot assets with one or more perps by multi-asset minimum variance.

The basket's value series uses today's holdings at historical closes. Its returns are regressed on
the returns of the configured perps over ``window`` aligned bars: bounded least squares with a free
intercept and every weight within ``[min_weight, max_weight]``, solved jointly
(``scipy.optimize.lsq_linear``). Clamping an unbounded fit afterwards is not the same: with
correlated perps, cutting one weight to its bound leaves the others too large. Per perp: hedge
notional = ``-weight x basket value`` and size = notional / perp mark. The reason reports the
weights, the residual variance and R^2. Negative balances count as no holding.

The hedge's ``spot_asset`` and ``perp`` may be empty: ``assets`` and ``perps`` come from the params.
With too little aligned history or a missing price it makes no decision; an empty basket (all
holdings zero) targets no hedge on every perp.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import ClassVar

import numpy as np
from pydantic import Field, field_validator, model_validator

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
    to_decimal,
)

ZERO = Decimal(0)


class PortfolioParams(StrategyParams):
    assets: list[str] = Field(min_length=1, description="base coins in the basket, e.g. ['BTC']")
    perps: list[str] = Field(
        min_length=1, description="perps that hedge it, e.g. ['BTC/USDT:USDT']"
    )
    window: int = Field(default=168, ge=10, le=5000, description="return observations (bars)")
    timeframe: str = Field(default="1h", pattern=TIMEFRAME_PATTERN, description="bar size")
    quote: str = Field(default="USDT", min_length=1, description="quote of the spot markets")
    min_weight: Decimal = Field(default=ZERO, ge=0, le=5, description="lower bound per perp")
    max_weight: Decimal = Field(default=Decimal(2), ge=0, le=5, description="upper bound per perp")
    min_fraction: Decimal = Field(
        default=Decimal("0.8"), gt=0, le=1, description="share of the window needed to decide"
    )

    @field_validator("perps")
    @classmethod
    def _perp_symbols(cls, perps: list[str]) -> list[str]:
        for perp in perps:
            if ":" not in perp:
                raise ValueError(f"{perp!r} is not a perp symbol like 'BTC/USDT:USDT'")
        if len(set(perps)) != len(perps):
            raise ValueError("perps must not repeat")
        return perps

    @field_validator("assets")
    @classmethod
    def _unique_assets(cls, assets: list[str]) -> list[str]:
        if len(set(assets)) != len(assets):
            raise ValueError("assets must not repeat")
        return assets

    @model_validator(mode="after")
    def _weight_bounds(self) -> PortfolioParams:
        if self.min_weight > self.max_weight:
            raise ValueError("min_weight must not exceed max_weight")
        return self


class PortfolioHedge(Strategy):
    name = "portfolio"
    summary = "basket of spot assets hedged by several perps, least-squares minimum variance"
    Params: ClassVar[type[StrategyParams]] = PortfolioParams
    multi_asset: ClassVar[bool] = True  # settings: spot_asset / perp not required

    @property
    def p(self) -> PortfolioParams:
        assert isinstance(self.params, PortfolioParams)
        return self.params

    def spot_symbols(self) -> list[str]:
        return [f"{asset}/{self.p.quote}" for asset in self.p.assets]

    def ratio_bounds(self) -> tuple[Decimal, Decimal]:
        return self.p.min_weight, self.p.max_weight

    def symbols_read(self, quote: str = "USDT") -> frozenset[str]:
        return frozenset([*self.spot_symbols(), *self.p.perps])

    def history_needs(self) -> Sequence[HistoryNeed]:
        bars = self.p.window + 1
        symbols = [*self.spot_symbols(), *self.p.perps]
        return tuple(HistoryNeed(s, self.p.timeframe, bars) for s in symbols)

    def target(self, snapshot: Snapshot, previous: HedgeTarget | None) -> HedgeTarget | None:
        """Single-target view (first perp) for callers that only know ``target``."""
        found = self.targets(snapshot, {} if previous is None else {previous.perp_symbol: previous})
        return found[0] if found else None

    def targets(
        self, snapshot: Snapshot, previous: Mapping[str, HedgeTarget]
    ) -> tuple[HedgeTarget, ...]:
        p = self.p
        qtys = [max(snapshot.spot_qty(a), ZERO) for a in p.assets]
        if all(q == 0 for q in qtys):
            empty = "basket empty: no hedge"
            return tuple(self._target(perp, ZERO, p.min_weight, empty) for perp in p.perps)
        perp_prices = [positive_price(snapshot.price(perp)) for perp in p.perps]
        spot_prices = [positive_price(snapshot.price(s)) for s in self.spot_symbols()]
        if any(x is None for x in perp_prices) or any(
            px is None and q > 0 for px, q in zip(spot_prices, qtys, strict=True)
        ):
            return ()
        basket_value = sum(
            (q * (px or ZERO) for q, px in zip(qtys, spot_prices, strict=True)), ZERO
        )
        fit = self._fit(snapshot, qtys)
        if fit is None:
            return ()
        weights, resid_var, r2, n = fit
        stats = f"resid_var={resid_var:.3e} R2={r2:.4f} window={n}x{p.timeframe}"
        out = []
        for perp, price, weight in zip(p.perps, perp_prices, weights, strict=True):
            assert price is not None
            size = quantize(-(weight * basket_value / price), SIZE_PLACES)
            reason = (
                f"portfolio weight={weight} of basket {quantize(basket_value, 2)} {p.quote}"
                f" ({', '.join(p.assets)}); {stats}"
            )
            out.append(self._target(perp, size, weight, reason, resid_var, r2))
        return tuple(out)

    def _fit(
        self, snapshot: Snapshot, qtys: list[Decimal]
    ) -> tuple[list[Decimal], float, float, int] | None:
        """(clamped weights per perp, residual variance, R^2, returns used) or None."""
        p = self.p
        series = [snapshot.bars(s, p.timeframe) for s in [*self.spot_symbols(), *p.perps]]
        prices = aligned_closes(series, p.window + 1)
        n_assets = len(p.assets)
        if prices is None or len(prices) - 1 < max(
            len(p.perps) + 2, int(p.window * p.min_fraction)
        ):
            return None
        holdings = np.array([float(q) for q in qtys])
        basket = prices[:, :n_assets] @ holdings
        if not np.all(np.isfinite(basket)) or np.any(basket <= 0):
            return None
        y = simple_returns(basket)
        x = simple_returns(prices[:, n_assets:])
        design = np.column_stack([np.ones(len(y)), x])  # intercept: drift is not hedged
        if np.linalg.matrix_rank(design) < design.shape[1]:
            return None  # a flat or collinear perp series: weights are not identified
        coef = _bounded_fit(design, y, float(p.min_weight), float(p.max_weight))
        if coef is None:
            return None
        resid = y - design @ coef
        resid_var = float(np.var(resid))
        total_var = float(np.var(y))
        r2 = 1.0 - resid_var / total_var if total_var > 0 else 0.0
        weights = []
        for c in coef[1:]:
            w = to_decimal(float(c), RATIO_PLACES)
            if w is None:
                return None
            weights.append(clamp(w, p.min_weight, p.max_weight))  # rounding stays inside
        return weights, resid_var, r2, len(y)

    def _target(
        self,
        perp: str,
        size: Decimal,
        weight: Decimal,
        reason: str,
        resid_var: float | None = None,
        r2: float | None = None,
    ) -> HedgeTarget:
        details = {"weight": str(weight)}
        if resid_var is not None and r2 is not None:
            details.update(residual_variance=f"{resid_var:.6e}", r2=f"{r2:.4f}")
        return HedgeTarget(
            hedge=self.hedge.name,
            perp_symbol=perp,
            size=size,
            ratio=weight,
            reason=reason,
            details=details,
        )


def _bounded_fit(design: np.ndarray, y: np.ndarray, low: float, high: float) -> np.ndarray | None:
    """argmin |design @ c - y| with c[0] (the intercept) free and every other c within bounds."""
    n = design.shape[1]
    lower = np.array([-np.inf] + [low] * (n - 1))
    upper = np.array([np.inf] + [high] * (n - 1))
    if low == high:  # lsq_linear wants lower < upper: a fixed weight leaves only the intercept
        coef = np.concatenate([[0.0], np.full(n - 1, low)])
        coef[0] = float(np.mean(y - design[:, 1:] @ coef[1:]))
        return coef
    from scipy.optimize import lsq_linear  # ~1 s of imports: only when a portfolio hedge fits

    fit = lsq_linear(design, y, bounds=(lower, upper), method="bvls")
    coef = np.asarray(fit.x, dtype=np.float64)
    return coef if fit.success and np.all(np.isfinite(coef)) else None

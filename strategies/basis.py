"""basis: cash and carry. Hold a spot long and an equal perp short to collect positive funding.

Funding is annualised (rate x settlements per year, ``24 / interval_hours * 365``) as the average of
the next predicted rate and the last ``lookback`` settled rates. Round-trip fees (``fee_rate`` x 2
legs x 2 sides) are amortised over ``horizon_days`` and subtracted:

    net_apr = funding_apr - 4 * fee_rate * 365 / horizon_days

Exited, it enters when ``net_apr > enter_apr``; entered, it stays while ``net_apr >= exit_apr``
(``exit_apr < enter_apr``: hysteresis). The state lives in ``details["state"]`` of its previous
target. Entered: ``spot_size = qty`` of ``<spot_asset>/<perp quote>`` and perp ``size = -qty``;
exited: both 0. With ``notional`` instead of ``qty``, the quantity is fixed at entry (notional /
spot price) and kept in ``details["qty"]`` until exit, so price moves do not churn the legs. A
previous target without ``details`` (restored after a restart) counts as entered when its size is
short, with ``qty = -size``. Without a predicted funding rate it makes no decision (positions
stay as they are).

Note: the spot leg is a *holding* target for the whole spot balance of that asset, so a basis hedge
should use an asset that no other hedge or manual position holds.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from pydantic import Field, model_validator

from bot.domain import FundingRate, HedgeTarget, Snapshot
from strategies.base import Strategy, StrategyParams
from strategies.series import positive_price, quantize, spot_symbol_for

DAYS_PER_YEAR = 365
ENTERED, EXITED = "entered", "exited"
ZERO = Decimal(0)


class BasisParams(StrategyParams):
    qty: Decimal | None = Field(default=None, gt=0, description="base units to deploy")
    notional: Decimal | None = Field(default=None, gt=0, description="quote to deploy (or qty)")
    fee_rate: Decimal = Field(
        default=Decimal("0.00055"), ge=0, le=Decimal("0.01"), description="taker fee per fill"
    )
    horizon_days: Decimal = Field(default=Decimal(30), gt=0, le=3650, description="fee amortising")
    enter_apr: Decimal = Field(
        default=Decimal("0.10"), ge=-1, le=10, description="net APR to enter"
    )
    exit_apr: Decimal = Field(default=Decimal("0.03"), ge=-1, le=10, description="net APR to stay")
    lookback: int = Field(default=3, ge=0, le=500, description="settled rates averaged in")

    @model_validator(mode="after")
    def _consistent(self) -> BasisParams:
        if (self.qty is None) == (self.notional is None):
            raise ValueError("set exactly one of qty or notional")
        if self.exit_apr >= self.enter_apr:
            raise ValueError("exit_apr must be below enter_apr")
        return self


def annualised(rate: FundingRate) -> Decimal:
    hours = rate.interval_hours if rate.interval_hours > 0 else 8
    return rate.rate * Decimal(24) / hours * DAYS_PER_YEAR


class BasisTrade(Strategy):
    name = "basis"
    summary = "cash and carry: spot long + equal perp short while net funding APR pays"
    Params = BasisParams

    @property
    def p(self) -> BasisParams:
        assert isinstance(self.params, BasisParams)
        return self.params

    @property
    def spot_symbol(self) -> str:
        return spot_symbol_for(self.hedge.spot_asset, self.hedge.perp_symbol)

    def ratio_bounds(self) -> tuple[Decimal, Decimal]:
        return ZERO, Decimal(1)

    def funding_history_needed(self) -> int:
        return self.p.lookback

    def fee_apr(self) -> Decimal:
        return 4 * self.p.fee_rate * DAYS_PER_YEAR / self.p.horizon_days

    def target(self, snapshot: Snapshot, previous: HedgeTarget | None) -> HedgeTarget | None:
        p = self.p
        perp = self.hedge.perp_symbol
        predicted = snapshot.funding.get(perp)
        if predicted is None or not predicted.rate.is_finite():
            return None
        settled = [r for r in snapshot.funding_history.get(perp, ()) if r.rate.is_finite()]
        rates = [predicted, *settled[-p.lookback :]] if p.lookback else [predicted]
        funding_apr = sum((annualised(r) for r in rates), ZERO) / len(rates)
        net_apr = quantize(funding_apr - self.fee_apr(), 6)
        was_entered = _was_entered(previous)
        note = f"net_apr={net_apr} (funding {quantize(funding_apr, 6)} avg of {len(rates)})"
        if was_entered and net_apr >= p.exit_apr:
            qty = self._locked_qty(previous) or self._qty(snapshot)
            return self._entered(qty, f"stay: {note} >= exit {p.exit_apr}", net_apr)
        if not was_entered and net_apr > p.enter_apr:
            qty = self._qty(snapshot)
            if qty is not None:
                return self._entered(qty, f"enter: {note} > enter {p.enter_apr}", net_apr)
            note += "; no spot price to size the notional"
        why = f"exit: {note} < exit {p.exit_apr}" if was_entered else f"wait: {note}"
        return HedgeTarget(
            hedge=self.hedge.name,
            perp_symbol=perp,
            size=ZERO,
            ratio=ZERO,
            reason=f"basis {why}",
            details={"state": EXITED, "net_apr": str(net_apr)},
            spot_symbol=self.spot_symbol,
            spot_size=ZERO,
        )

    def _qty(self, snapshot: Snapshot) -> Decimal | None:
        if self.p.qty is not None:
            return self.p.qty
        price = positive_price(snapshot.price(self.spot_symbol))
        if price is None or self.p.notional is None:
            return None
        qty = (self.p.notional / price).quantize(Decimal("1e-8"), rounding=ROUND_DOWN)
        return qty if qty > 0 else None

    def _locked_qty(self, previous: HedgeTarget | None) -> Decimal | None:
        if self.p.qty is not None or previous is None:
            return None  # qty mode follows the configured qty, even after a config change
        try:
            qty = Decimal(previous.details.get("qty", ""))
        except ArithmeticError:
            qty = -previous.size  # a target restored without details: its perp leg is -qty
        return qty if qty.is_finite() and qty > 0 else None

    def _entered(self, qty: Decimal | None, why: str, net_apr: Decimal) -> HedgeTarget | None:
        if qty is None:
            return None  # entered, notional mode, no locked qty and no price: keep as is
        return HedgeTarget(
            hedge=self.hedge.name,
            perp_symbol=self.hedge.perp_symbol,
            size=-qty,
            ratio=Decimal(1),
            reason=f"basis {why}; {qty} {self.hedge.spot_asset} spot long, perp short",
            details={"state": ENTERED, "qty": str(qty), "net_apr": str(net_apr)},
            spot_symbol=self.spot_symbol,
            spot_size=qty,
        )


def _was_entered(previous: HedgeTarget | None) -> bool:
    """From the previous target's state; a target restored without details (after a restart)
    counts as entered when it held a short, so a restart never unwinds the trade by itself."""
    if previous is None:
        return False
    state = previous.details.get("state")
    if state is None:
        return previous.size.is_finite() and previous.size < 0
    return state == ENTERED

"""basis: cash and carry. Buy spot and short the same quantity on the perp to collect funding.

Funding is annualised (rate x settlements per year, ``24 / interval_hours * 365``) as the average of
the next predicted rate and the last ``lookback`` settled rates. Round-trip fees (each leg bought
and sold once) are amortised over ``horizon_days`` and subtracted:

    net_apr = funding_apr - 2 * (spot_fee_rate + perp_fee_rate) * 365 / horizon_days

Out, it enters when ``net_apr > enter_apr``; in, it stays while ``net_apr >= exit_apr``
(``exit_apr < enter_apr``: hysteresis). Entered, the perp target is ``-qty``; exited, 0. With
``notional`` instead of ``qty`` the quantity is fixed at entry (notional / spot price) and kept in
``details["qty"]`` until exit. Without a predicted funding rate it makes no decision.

The spot leg touches only the spot it bought itself. Its state lives in the previous target's
details (persisted with it): ``own`` is the spot it bought and still holds, ``spot`` the leg's
phase and ``anchor`` the holding it is trading toward. The user's part of the balance (the balance
less ``own``) is never traded:

- on entry it asks for a holding of ``balance + qty`` (``spot = "buying"``) until the balance
  reaches it; from then on (``spot = "held"``) it leaves the spot alone (``spot_size = None``);
- on exit it asks for ``balance - own`` (``spot = "selling"``; a buy that only partly arrived sells
  what arrived) until reached, then leaves the spot alone;
- a change of the configured ``qty`` while entered moves both legs to it the same way;
- waiting (never entered) it never asks for a spot holding at all.

Coins sold by hand count as the user's first; once the balance falls below ``own``, ``own`` and the
perp short shrink with it (sold entirely, the carry idles until its exit). A previous target
restored without details counts as entered when its size is short, keeps ``qty = -size`` on the
perp and knows nothing of its own to sell (``own = ""``). Known limit: a manual trade of the same
coin while one of its own spot orders is in flight is taken for that order's fill.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal

from pydantic import Field, model_validator

from bot.domain import FundingRate, HedgeTarget, Snapshot
from strategies.base import Strategy, StrategyParams
from strategies.series import positive_price, quantize, spot_symbol_for

DAYS_PER_YEAR = 365
ENTERED, EXITED = "entered", "exited"
BUYING, HELD, SELLING = "buying", "held", "selling"
ZERO = Decimal(0)


class BasisParams(StrategyParams):
    qty: Decimal | None = Field(default=None, gt=0, description="base units to deploy")
    notional: Decimal | None = Field(default=None, gt=0, description="quote to deploy (or qty)")
    spot_fee_rate: Decimal = Field(
        default=Decimal("0.001"), ge=0, le=Decimal("0.01"), description="spot taker fee per fill"
    )
    perp_fee_rate: Decimal = Field(
        default=Decimal("0.00055"), ge=0, le=Decimal("0.01"), description="perp taker fee per fill"
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

    def symbols_read(self, quote: str = "USDT") -> frozenset[str]:
        return frozenset({self.spot_symbol, self.hedge.perp_symbol})

    def funding_history_needed(self) -> int:
        return self.p.lookback

    def fee_apr(self) -> Decimal:
        p = self.p
        return 2 * (p.spot_fee_rate + p.perp_fee_rate) * DAYS_PER_YEAR / p.horizon_days

    def target(self, snapshot: Snapshot, previous: HedgeTarget | None) -> HedgeTarget | None:
        p = self.p
        predicted = snapshot.funding.get(self.hedge.perp_symbol)
        if predicted is None or not predicted.rate.is_finite():
            return None
        settled = [
            r
            for r in snapshot.funding_history.get(self.hedge.perp_symbol, ())
            if r.rate.is_finite()
        ]
        rates = [predicted, *settled[-p.lookback :]] if p.lookback else [predicted]
        funding_apr = sum((annualised(r) for r in rates), ZERO) / len(rates)
        net_apr = quantize(funding_apr - self.fee_apr(), 6)
        was_entered = _was_entered(previous)
        balance = snapshot.spot_qty(self.hedge.spot_asset)
        leg = _Leg.of(previous, balance)
        note = f"net_apr={net_apr} (funding {quantize(funding_apr, 6)} avg of {len(rates)})"
        if was_entered and net_apr >= p.exit_apr:
            qty = self._locked_qty(previous) or self._qty(snapshot)
            if qty is None:
                return None  # entered, notional mode, no locked qty and no price: keep as is
            if previous is not None and _decimal(previous.details.get("qty")) not in (None, qty):
                leg = leg.toward(qty, balance)  # the configured qty changed: both legs follow
            return self._entered(qty, leg, f"stay: {note} >= exit {p.exit_apr}", net_apr)
        if not was_entered and net_apr > p.enter_apr:
            qty = self._qty(snapshot)
            if qty is not None:
                leg = leg.toward(qty, balance)
                return self._entered(qty, leg, f"enter: {note} > enter {p.enter_apr}", net_apr)
            note += "; no spot price to size the notional"
        if was_entered:
            leg = leg.toward(ZERO, balance)
        why = f"exit: {note} < exit {p.exit_apr}" if was_entered else f"wait: {note}"
        return self._make(ZERO, leg, f"basis {why}", {"state": EXITED, "net_apr": str(net_apr)})

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
        qty = _decimal(previous.details.get("qty"))
        if qty is None:
            qty = -previous.size  # a target restored without details: its perp leg is -qty
        return qty if qty.is_finite() and qty > 0 else None

    def _entered(self, qty: Decimal, leg: _Leg, why: str, net_apr: Decimal) -> HedgeTarget:
        # the short matches the spot it holds: a sale of its coins by hand shrinks it too
        short = qty if leg.own is None or leg.phase == BUYING else min(qty, leg.own)
        details = {"state": ENTERED, "qty": str(qty), "net_apr": str(net_apr)}
        reason = f"basis {why}; {qty} {self.hedge.spot_asset} spot long, perp short {short}"
        return self._make(-short, leg, reason, details)

    def _make(self, size: Decimal, leg: _Leg, reason: str, details: dict[str, str]) -> HedgeTarget:
        details.update(leg.details())
        if leg.anchor is not None:
            reason += f"; spot {leg.phase} toward {leg.anchor} (own {leg.own})"
        return HedgeTarget(
            hedge=self.hedge.name,
            perp_symbol=self.hedge.perp_symbol,
            size=size,
            ratio=Decimal(1) if size < 0 else ZERO,
            reason=reason,
            details=details,
            spot_symbol=self.spot_symbol if leg.anchor is not None else None,
            spot_size=leg.anchor,
        )


class _Leg:
    """The spot leg: what it owns (None: unknown, a target restored without details), its phase
    and the holding it is trading toward (None: the spot balance is left alone)."""

    def __init__(self, own: Decimal | None, phase: str, anchor: Decimal | None) -> None:
        self.own, self.phase, self.anchor = own, phase, anchor

    @classmethod
    def of(cls, previous: HedgeTarget | None, balance: Decimal) -> _Leg:
        """Carry the previous leg forward to this cycle's balance."""
        details: Mapping[str, str] = previous.details if previous is not None else {}
        if previous is not None and (not details or details.get("own") == ""):
            return cls(None, "", None)  # restored without details: nothing known of its own
        own = _decimal(details.get("own"))
        if own is None:  # details from before "own" was kept: the old target held ``qty``
            legacy = _decimal(details.get("qty")) if details.get("state") == ENTERED else None
            own = legacy or ZERO
        own, held = max(own, ZERO), max(balance, ZERO)
        phase, anchor = details.get("spot", ""), _decimal(details.get("anchor"))
        if anchor is not None and anchor >= 0 and phase in (BUYING, SELLING):
            reached = balance >= anchor if phase == BUYING else balance <= anchor
            if not reached:
                return cls(own, phase, anchor)  # in flight, or to retry
        own = min(own, held)  # coins sold by hand are the user's first, then its own
        return cls(own, HELD if own > 0 else "", None)

    def toward(self, want: Decimal, balance: Decimal) -> _Leg:
        """Own ``want`` instead: the user's part (the balance less its own, or what an order in
        flight was computed on) is never traded."""
        own = self.own or ZERO
        base = self.anchor - own if self.anchor is not None else max(balance, ZERO) - own
        anchor = max(base, ZERO) + want
        if self.anchor is None and want == own:
            return _Leg(own, self.phase, None)
        if anchor == max(balance, ZERO):
            return _Leg(want, HELD if want > 0 else "", None)
        return _Leg(want, BUYING if anchor > balance else SELLING, anchor)

    def details(self) -> dict[str, str]:
        out = {"own": "" if self.own is None else str(self.own)}
        if self.phase:
            out["spot"] = self.phase
        if self.anchor is not None:
            out["anchor"] = str(self.anchor)
        return out


def _decimal(text: str | None) -> Decimal | None:
    try:
        value = Decimal(text or "")
    except ArithmeticError:
        return None
    return value if value.is_finite() else None


def _was_entered(previous: HedgeTarget | None) -> bool:
    """From the previous target's state; a target restored without details (after a restart)
    counts as entered when it held a short, so a restart never unwinds the trade by itself."""
    if previous is None:
        return False
    state = previous.details.get("state")
    if state is None:
        return previous.size.is_finite() and previous.size < 0
    return state == ENTERED

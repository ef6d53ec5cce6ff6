"""Pure risk guards: intents in, approved intents, denials (with reasons) and a trading state out.

Also the snapshot sanity check: absurd or stale market data skips the decision instead of trading on
it. Denials are data: the engine persists every one with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from bot.caps import increase_headroom
from bot.domain import ZERO, OrderIntent, Rejection, Snapshot, TradingState
from bot.planner import round_down

ABSURD_POSITION = "absurd position data"


@dataclass(frozen=True, slots=True)
class RiskLimits:
    max_leverage: Decimal = Decimal(3)
    max_margin_ratio: Decimal = Decimal("0.5")
    min_liquidation_distance: Decimal = Decimal("0.10")
    max_overhedge: Decimal = Decimal("1.05")
    max_order_notional: Decimal = Decimal(250_000)
    max_orders_per_minute: int = 30
    stale_after_seconds: float = 120.0
    max_price_jump: Decimal = Decimal("0.5")
    spot_collateral_ratio: Decimal = Decimal("0.8")
    # spot coins back the perps only where one account holds both (Bybit unified), not on
    # Binance, whose USD-M futures wallet is separate from the spot wallet
    spot_is_collateral: bool = True

    @property
    def collateral_ratio(self) -> Decimal:
        return self.spot_collateral_ratio if self.spot_is_collateral else ZERO


@dataclass(frozen=True, slots=True)
class GuardResult:
    approved: tuple[OrderIntent, ...]
    rejections: tuple[Rejection, ...]
    state: TradingState
    state_reason: str
    notes: tuple[str, ...] = ()


def margin_equity(snapshot: Snapshot, quote: str, spot_collateral_ratio: Decimal) -> Decimal:
    """Quote wallet plus unrealised PnL plus spot coins at a haircut: on a unified account the
    hedged coins are the collateral of their own hedge."""
    upnl = sum((p.unrealized_pnl for p in snapshot.positions.values()), ZERO)
    spot = ZERO
    for asset, balance in snapshot.balances.items():
        price = snapshot.price(f"{asset}/{quote}") if asset != quote else None
        if price is not None and price > 0 and balance.total > 0:
            spot += balance.total * price
    return snapshot.spot_qty(quote) + upnl + spot * spot_collateral_ratio


def snapshot_problems(
    snapshot: Snapshot,
    symbols: Sequence[str],
    limits: RiskLimits,
    last_prices: Mapping[str, Decimal],
) -> dict[str, str]:
    """Symbol -> why its data is not trusted this cycle (no price, an absurd or stale one, a jump
    beyond max_price_jump since the last observation, an absurd position). A jump is trusted once
    the next observation confirms it: the caller remembers every observed price."""
    problems: dict[str, str] = {}
    for symbol in symbols:
        ticker = snapshot.tickers.get(symbol)
        price = ticker.price if ticker else None
        if price is None:
            problems[symbol] = "no price"
            continue
        if not price.is_finite() or price <= 0:
            problems[symbol] = f"absurd price {price}"
            continue
        if ticker and ticker.ts is not None:
            age = (snapshot.ts - ticker.ts).total_seconds()
            if age > limits.stale_after_seconds:
                problems[symbol] = f"stale price ({age:.0f}s old)"
        last = last_prices.get(symbol)
        if last is not None and last > 0 and abs(price / last - 1) > limits.max_price_jump:
            problems[symbol] = f"price jumped from {last} to {price}"
    for pos in snapshot.positions.values():
        if not pos.size.is_finite() or not pos.mark_price.is_finite():
            problems[pos.symbol] = ABSURD_POSITION
    return problems


def closes_flattened(intent: OrderIntent, flattening: frozenset[str]) -> bool:
    """A reduce-only order for flattened hedges only (an intent names every hedge of its symbol,
    joined by "+": one that is still hedging keeps the order behind the halt)."""
    return intent.reduce_only and set(intent.hedge.split("+")) <= flattening


def guard(
    intents: Sequence[OrderIntent],
    snapshot: Snapshot,
    *,
    state: TradingState,
    state_reason: str,
    limits: RiskLimits,
    quote: str,
    hedged_spot_value: Decimal,
    orders_last_minute: int,
    kill_switch: bool = False,
    flattening: frozenset[str] = frozenset(),
) -> GuardResult:
    """``flattening``: hedges the operator flattened; their reduce-only closes pass a halt (the
    operator's way out of the market: `hedgebot halt`, then `hedgebot flatten`)."""
    approved: list[OrderIntent] = []
    rejections: list[Rejection] = []
    notes: list[str] = []

    def deny(intent: OrderIntent, reason: str) -> None:
        rejections.append(Rejection.of(intent, "risk", reason))

    if kill_switch and state != TradingState.HALTED:
        state, state_reason = TradingState.HALTED, "kill switch engaged"
    equity = margin_equity(snapshot, quote, limits.collateral_ratio)
    maint = sum((p.maintenance_margin for p in snapshot.positions.values()), ZERO)
    if state == TradingState.ACTIVE and equity > 0 and maint / equity > limits.max_margin_ratio:
        state = TradingState.REDUCING
        state_reason = f"margin ratio {maint / equity:.3f} above {limits.max_margin_ratio}"
    if state == TradingState.ACTIVE and equity <= 0 and snapshot.positions:
        state, state_reason = TradingState.REDUCING, "no margin equity"

    notional = {s: p.notional for s, p in snapshot.positions.items()}
    sent = orders_last_minute
    spot_first = sorted(
        intents,
        key=lambda i: (
            snapshot.markets.get(i.symbol) is None
            or snapshot.markets[i.symbol].kind.value != "spot"
        ),
    )
    for intent in spot_first:
        if state == TradingState.HALTED and not closes_flattened(intent, flattening):
            deny(intent, f"trading halted: {state_reason}")
            continue
        if state == TradingState.REDUCING and not intent.reduce_only:
            deny(intent, f"reducing only: {state_reason}")
            continue
        if sent >= limits.max_orders_per_minute:
            deny(intent, f"order rate limit {limits.max_orders_per_minute}/min reached")
            continue
        price = snapshot.price(intent.symbol)
        market = snapshot.markets.get(intent.symbol)
        if price is None or market is None:
            deny(intent, "no price or market")
            continue
        if intent.qty * price > limits.max_order_notional:
            clipped = round_down(limits.max_order_notional / price, market.amount_step)
            notes.append(
                f"{intent.symbol}: order clipped from {intent.qty} to {clipped} by the notional cap"
            )
            if clipped < market.min_qty or clipped <= 0:
                deny(intent, "per-order notional cap leaves less than the minimum quantity")
                continue
            intent = replace(intent, qty=clipped)
        if not intent.reduce_only and market.kind.value == "perp":
            allowed, reason = increase_headroom(
                intent, snapshot, limits, equity, notional, hedged_spot_value
            )
            if allowed < intent.qty:
                clipped = round_down(max(allowed, ZERO), market.amount_step)
                if (
                    clipped <= 0
                    or clipped < market.min_qty
                    or clipped * price < market.min_notional
                ):
                    deny(intent, reason)
                    continue
                notes.append(
                    f"{intent.symbol}: order trimmed from {intent.qty} to {clipped}: {reason}"
                )
                intent = replace(intent, qty=clipped)
            notional[intent.symbol] = notional.get(intent.symbol, ZERO) + intent.qty * price
        elif market.kind.value == "spot":
            # a spot leg bought in this batch (basis) is spot the perp leg after it may hedge
            signed = intent.qty if intent.side.value == "buy" else -intent.qty
            hedged_spot_value += signed * price
        approved.append(intent)
        sent += 1
    return GuardResult(tuple(approved), tuple(rejections), state, state_reason, tuple(notes))

"""Targets -> order intents. Pure: no I/O, the clock comes from the snapshot.

Targets of several hedges on one perp are summed first (one position per symbol on the venue), then
the gap to the venue's position becomes at most one market order per symbol, after rounding down to
the venue step, dropping orders below min qty / min notional or inside the rebalance band, honouring
the cooldown, and marking orders that shrink a position reduce-only.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from bot.domain import (
    ZERO,
    HedgeTarget,
    IntentPurpose,
    MarketInfo,
    OrderIntent,
    OrderKind,
    Side,
    Snapshot,
)

MAX_CLIENT_ID = 36  # Bybit's orderLinkId limit (Binance: 36 too)
TAG_EPOCH = 1_577_836_800  # 2020-01-01 UTC: start tags count seconds from here
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class PlannerConfig:
    rebalance_band: Decimal = Decimal("0.02")
    cooldown_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class SymbolTarget:
    symbol: str
    size: Decimal
    hedges: tuple[str, ...]
    spot: bool = False  # a spot leg (basis strategy) rather than a perp position


@dataclass(frozen=True, slots=True)
class Skip:
    symbol: str
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    intents: tuple[OrderIntent, ...]
    skips: tuple[Skip, ...]


def start_tag(now: float | None = None) -> str:
    """The id of one process start, part of every client order id it sends: the start second
    (base 36, six characters until 2089) and three random characters. The cycle number alone
    repeats after a database is restored from a backup, or in two databases on one account."""
    seconds = int((time.time() if now is None else now) - TAG_EPOCH)
    stamp = "".join(_B36[seconds // 36**i % 36] for i in reversed(range(6)))
    return stamp + "".join(secrets.choice(_B36) for _ in range(3))


def client_order_id(
    tag: str, cycle: int, market: MarketInfo, purpose: IntentPurpose, seq: int
) -> str:
    """Deterministic within a process start: the same (start tag, cycle, symbol, purpose, seq)
    always gives the same id, and the cycle number comes from the database. At most 36 characters
    (Bybit's orderLinkId): a long symbol gives way to a long cycle number (after 10^7 cycles)."""
    head, tail = f"hb-{tag}-{cycle}-", f"-{purpose.value[0]}{seq}"
    room = MAX_CLIENT_ID - len(head) - len(tail)
    if room < 4:
        raise ValueError(f"client order id too long: {head}...{tail}")
    return f"{head}{market.venue_id[:room]}{tail}"


def purpose_of(client_order_id: str | None) -> IntentPurpose | None:
    """What an order of ours was for, read back from its id; None for anybody else's order."""
    if not client_order_id or not client_order_id.startswith("hb-"):
        return None
    letter = client_order_id.rsplit("-", 1)[-1][:1]
    return next((p for p in IntentPurpose if p.value[0] == letter), None)


def aggregate(targets: Sequence[HedgeTarget]) -> dict[str, SymbolTarget]:
    sizes: dict[str, Decimal] = {}
    names: dict[str, list[str]] = {}
    spot_symbols: set[str] = set()
    for t in targets:
        legs = [(t.perp_symbol, t.size)]
        if t.spot_symbol is not None and t.spot_size is not None:
            legs.append((t.spot_symbol, t.spot_size))
            spot_symbols.add(t.spot_symbol)
        for symbol, size in legs:
            sizes[symbol] = sizes.get(symbol, ZERO) + size
            names.setdefault(symbol, []).append(t.hedge)
    return {s: SymbolTarget(s, sizes[s], tuple(names[s]), spot=s in spot_symbols) for s in sizes}


def round_down(qty: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return qty
    return (qty / step).to_integral_value(rounding=ROUND_DOWN) * step


def within_band(current: Decimal, target: Decimal, band: Decimal) -> bool:
    if target == 0:
        return current == 0
    return abs(target - current) <= band * abs(target)


def plan(
    *,
    cycle: int,
    tag: str,
    targets: Mapping[str, SymbolTarget],
    snapshot: Snapshot,
    config: PlannerConfig,
    last_order_at: Mapping[str, datetime] | None = None,
    blocked: Collection[str] = (),
) -> Plan:
    intents: list[OrderIntent] = []
    skips: list[Skip] = []
    last_order_at = last_order_at or {}
    for symbol in sorted(targets):
        tgt = targets[symbol]
        result = _plan_symbol(tgt, snapshot, config, last_order_at.get(symbol), blocked)
        if isinstance(result, Skip):
            skips.append(result)
            continue
        side, qty, reduce_only = result
        market = snapshot.markets[symbol]
        intents.append(
            OrderIntent(
                # seq tells legs on one venue id apart (basis: spot and perp are both BTCUSDT)
                client_order_id=client_order_id(
                    tag, cycle, market, IntentPurpose.HEDGE, len(intents)
                ),
                hedge="+".join(tgt.hedges)[:120],
                cycle=cycle,
                symbol=symbol,
                side=side,
                qty=qty,
                kind=OrderKind.MARKET,
                reduce_only=reduce_only,
                purpose=IntentPurpose.HEDGE,
            )
        )
    return Plan(tuple(intents), tuple(skips))


def current_size(tgt: SymbolTarget, snapshot: Snapshot) -> Decimal:
    if tgt.spot:
        market = snapshot.markets.get(tgt.symbol)
        return snapshot.spot_qty(market.base) if market else ZERO
    return snapshot.position_size(tgt.symbol)


def _plan_symbol(
    tgt: SymbolTarget,
    snapshot: Snapshot,
    config: PlannerConfig,
    last_at: datetime | None,
    blocked: Collection[str],
) -> Skip | tuple[Side, Decimal, bool]:
    symbol = tgt.symbol
    market = snapshot.markets.get(symbol)
    price = snapshot.price(symbol)
    if market is None:
        return Skip(symbol, "unknown market")
    if price is None or price <= 0:
        return Skip(symbol, "no usable price")
    if symbol in blocked:
        return Skip(symbol, "unresolved order intent for this symbol")
    current = current_size(tgt, snapshot)
    if within_band(current, tgt.size, config.rebalance_band):
        return Skip(
            symbol,
            f"within rebalance band ({current} vs target {tgt.size}, band {config.rebalance_band})",
        )
    # a clock that stepped back (or a database moved between hosts) gives a negative elapsed time:
    # that is no reason to wait, so only a recent order in the past starts a cooldown
    elapsed = (snapshot.ts - last_at).total_seconds() if last_at is not None else None
    if elapsed is not None and 0 <= elapsed < config.cooldown_seconds:
        return Skip(symbol, f"cooldown ({config.cooldown_seconds - elapsed:.0f}s left)")
    delta = tgt.size - current
    side = Side.BUY if delta > 0 else Side.SELL
    qty = abs(delta)
    # Shrinking a perp position (toward zero) is reduce-only and never flips it in one order.
    reduce_only = not tgt.spot and current != 0 and (delta > 0) == (current < 0)
    if reduce_only:
        qty = min(qty, abs(current))
    qty = round_down(qty, market.amount_step)
    if qty <= 0 or qty < market.min_qty:
        return Skip(symbol, f"below min qty ({qty} < {market.min_qty})")
    if qty * price < market.min_notional:
        return Skip(symbol, f"below min notional ({qty * price:.2f} < {market.min_notional})")
    return side, qty, reduce_only

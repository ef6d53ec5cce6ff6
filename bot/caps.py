"""Risk caps that trim instead of refusing: how much of a short-increasing order every cap leaves
room for (leverage, over-hedge, the estimated liquidation distance after the trade), and short
targets scaled down to the over-hedge cap before they are planned."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.domain import ZERO, OrderIntent, Snapshot
from bot.planner import SymbolTarget, current_size, round_down

if TYPE_CHECKING:
    from bot.risk import RiskLimits

DEFAULT_MMR = Decimal("0.005")  # maintenance margin rate when the position does not tell it


def cap_overhedge(
    targets: Mapping[str, SymbolTarget],
    snapshot: Snapshot,
    max_overhedge: Decimal,
    hedged_spot_value: Decimal,
) -> tuple[dict[str, SymbolTarget], tuple[str, ...], str]:
    """Scale the short targets down so that their notional stays within ``max_overhedge`` x the
    hedged spot value (spot legs the targets buy or sell included). The plan then converges on the
    capped size and rests there, instead of an order refused whole, and again every cycle, that
    leaves the spot unhedged. Returns the targets, the trimmed symbols and a note."""
    spot_after = hedged_spot_value
    wanted = ZERO
    for symbol, t in targets.items():
        price = snapshot.price(symbol)
        if price is None or price <= 0:
            continue
        if t.spot:
            spot_after += (t.size - current_size(t, snapshot)) * price
        elif t.size < 0:
            wanted += -t.size * price
    cap = max(spot_after, ZERO) * max_overhedge
    out = dict(targets)
    if wanted <= cap:
        return out, (), ""
    for symbol, t in targets.items():
        market = snapshot.markets.get(symbol)
        if t.spot or t.size >= 0 or market is None or snapshot.price(symbol) is None:
            continue
        out[symbol] = replace(t, size=-round_down(-t.size * cap / wanted, market.amount_step))
    trimmed = tuple(s for s in out if out[s] != targets[s])
    changes = ", ".join(f"{s} {targets[s].size} -> {out[s].size}" for s in trimmed)
    note = (
        f"short targets trimmed to max_overhedge {max_overhedge} x the hedged spot value "
        f"({cap:.2f} of {wanted:.2f} wanted): {changes}"
    )
    return out, trimmed, note


def increase_headroom(
    intent: OrderIntent,
    snapshot: Snapshot,
    limits: RiskLimits,
    equity: Decimal,
    notional: Mapping[str, Decimal],
    hedged_spot_value: Decimal,
) -> tuple[Decimal, str]:
    """The largest quantity of a short-increasing order that every cap allows, and the binding
    cap's reason. A cap trims the order to its headroom rather than refusing it whole."""
    price = snapshot.price(intent.symbol) or ZERO
    if equity <= 0 or price <= 0:
        return ZERO, "no margin equity"
    before = sum(notional.values(), ZERO)
    caps = [
        (
            (equity * limits.max_leverage - before) / price,
            f"leverage {(before + intent.qty * price) / equity:.2f} would exceed "
            f"{limits.max_leverage}",
        ),
        (
            (hedged_spot_value * limits.max_overhedge - before) / price,
            f"over-hedge: perp notional {before + intent.qty * price:.2f} would exceed "
            f"{limits.max_overhedge} x hedged spot value {hedged_spot_value:.2f}",
        ),
    ]
    liq = liquidation_headroom(intent, snapshot, limits, equity)
    if liq is not None:
        caps.append(liq)
    allowed, reason = min(caps, key=lambda c: c[0])
    return (intent.qty, "") if allowed >= intent.qty else (allowed, reason)


def liquidation_headroom(
    intent: OrderIntent, snapshot: Snapshot, limits: RiskLimits, equity: Decimal
) -> tuple[Decimal, str] | None:
    """How much the short may grow before its estimated liquidation price comes closer to the
    mark than ``min_liquidation_distance``: the position is judged after the trade, not before.

    Linear model in this perp's price P, everything else fixed: equity minus maintenance margin is
    D + g (P - mark), with g = short size + spot collateral units - mmr |size|. The venue's own
    liquidation price, when it reports one above the mark, gives D = (liq - mark) x -g; our
    margin-equity estimate gives another: the smaller one counts. Selling q more lowers g by
    q (1 + mmr) and D by mmr q mark; the distance after is D' / (-g' mark)."""
    market = snapshot.markets.get(intent.symbol)
    pos = snapshot.positions.get(intent.symbol)
    mark = (
        pos.mark_price if pos is not None and pos.mark_price > 0 else snapshot.price(intent.symbol)
    )
    if market is None or mark is None or mark <= 0:
        return None
    size = pos.size if pos is not None else ZERO
    mmr = DEFAULT_MMR
    if pos is not None and pos.notional > 0 and pos.maintenance_margin > 0:
        mmr = pos.maintenance_margin / pos.notional
    collateral = snapshot.spot_qty(market.base) * limits.collateral_ratio
    slope = size + collateral - mmr * abs(size)
    maint = sum((p.maintenance_margin for p in snapshot.positions.values()), ZERO)
    cushion = equity - maint
    liq = pos.liquidation_price if pos is not None else None
    if liq is not None and liq > mark and slope < 0:
        cushion = min(cushion, (liq - mark) * -slope)  # the venue knows better when it is nearer
    d = limits.min_liquidation_distance
    after = slope - intent.qty * (1 + mmr)
    if after >= 0:
        return None  # the account stays long this coin overall: no liquidation on a rally
    allowed = (cushion + d * mark * slope) / (mark * (mmr + d * (1 + mmr)))
    est = mark + (cushion - mmr * intent.qty * mark) / -after
    return allowed, (
        f"liquidation price after the trade (estimated {est:.2f}) would be less than "
        f"{d:.0%} above the mark {mark}"
    )

"""Risk caps that trim instead of refusing: how much of a short-increasing order every cap leaves
room for (leverage, over-hedge, the estimated liquidation distance after the trade), and each
hedge's short targets scaled down to its own over-hedge cap before they are planned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.domain import ZERO, HedgeTarget, OrderIntent, Snapshot
from bot.planner import round_down

if TYPE_CHECKING:
    from bot.risk import RiskLimits

DEFAULT_MMR = Decimal("0.005")  # maintenance margin rate when the position does not tell it


def cap_overhedge(
    targets: Sequence[HedgeTarget],
    snapshot: Snapshot,
    max_overhedge: Decimal,
    spot_of: Mapping[str, Sequence[str]],
    quote: str,
) -> tuple[list[HedgeTarget], tuple[str, ...], str]:
    """Scale each hedge's short targets down so that their notional stays within
    ``max_overhedge`` x the value of the spot that hedge hedges (``spot_of``: hedge -> assets;
    hedges sharing a spot asset are judged together; spot legs the targets buy or sell count).
    One hedge above the cap is trimmed alone: a 1:1 hedge beside it stays whole. The plan then
    converges on the capped size and rests there, instead of an order refused whole, and again
    every cycle, that leaves the spot unhedged. Returns the targets, the trimmed perps and a note.
    The guard keeps the account-wide cap as a backstop."""
    from bot.universe import hedged_spot_value  # late: it imports the store

    out = list(targets)
    notes: list[str] = []
    trimmed: set[str] = set()
    for assets, members in _groups(targets, spot_of):
        spot_after = hedged_spot_value(snapshot, sorted(assets), quote)
        wanted = ZERO
        for i in members:
            t = targets[i]
            if t.spot_symbol is not None and t.spot_size is not None:
                market = snapshot.markets.get(t.spot_symbol)
                held = snapshot.spot_qty(market.base) if market is not None else ZERO
                spot_after += (t.spot_size - held) * (snapshot.price(t.spot_symbol) or ZERO)
            price = snapshot.price(t.perp_symbol) or ZERO
            if t.size < 0 and price > 0:
                wanted += -t.size * price
        cap = max(spot_after, ZERO) * max_overhedge
        if wanted <= cap:
            continue
        changes = []
        for i in members:
            t = targets[i]
            market = snapshot.markets.get(t.perp_symbol)
            if t.size >= 0 or market is None or snapshot.price(t.perp_symbol) is None:
                continue
            out[i] = replace(t, size=-round_down(-t.size * cap / wanted, market.amount_step))
            if out[i].size != t.size:
                trimmed.add(t.perp_symbol)
                changes.append(f"{t.hedge} {t.perp_symbol} {t.size} -> {out[i].size}")
        if changes:
            notes.append(f"{', '.join(changes)} ({cap:.2f} of {wanted:.2f} wanted)")
    if not trimmed:
        return out, (), ""
    note = (
        f"short targets trimmed to max_overhedge {max_overhedge} x the spot each hedge hedges: "
        + "; ".join(notes)
    )
    return out, tuple(sorted(trimmed)), note


def _groups(
    targets: Sequence[HedgeTarget], spot_of: Mapping[str, Sequence[str]]
) -> list[tuple[set[str], list[int]]]:
    """The targets' indices grouped by the spot they hedge: hedges sharing an asset together
    (union-find: linear in the targets, where comparing every group was quadratic)."""
    parent = list(range(len(targets)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    holder: dict[str, int] = {}  # asset -> a target hedging it
    for i, t in enumerate(targets):
        for asset in spot_of.get(t.hedge, ()):
            if asset in holder:
                parent[root(holder[asset])] = root(i)
            else:
                holder[asset] = i
    members: dict[int, list[int]] = {}
    for i in range(len(targets)):
        members.setdefault(root(i), []).append(i)
    groups = [
        ({a for j in m for a in spot_of.get(targets[j].hedge, ())}, m) for m in members.values()
    ]
    return sorted(groups, key=lambda g: g[1][-1])  # in the order their last member comes


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

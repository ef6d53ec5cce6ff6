"""PnL attribution between mark-to-market snapshots, from the ledger alone (no venue).

Between two marks M0 and M1 (a perp with position q0 at marks m0 -> m1, fills q_i at p_i):

    perp PnL = q0 (m1 - m0) + sum q_i (m1 - p_i)          spot PnL likewise at spot prices,
                                                          less a base-coin fee's move (f (p1 - p_i))
    net      = spot PnL + perp PnL + funding - fees       (fees valued in the quote at the fill)

which sums exactly to the change in account value when every coin and perp is in the marks.
Slippage (fill price against the price the decision saw, M0's) is part of the trading PnL and is
shown beside it. A perp several hedges share is split by their targets at M0.

Order within one timestamp: an event (fill, funding) belongs after a mark when it was caused by
that mark's cycle or a later one (the cycle number is in our client order id), else before it: a
backtest fills orders at the very time it observed, and a stop that fired at that time came first.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bot.domain import ZERO, FundingPayment, IntentPurpose, Side
from bot.planner import purpose_of
from bot.store.records import ACCOUNT, MarkRecord, StoredFill

Key = tuple[datetime, int, int]
ONE = Decimal(1)  # the weight of a sole holder (by identity: Decimal("1.0") is not it)


def cycle_of(client_order_id: str | None) -> int:
    """The cycle in ``hb-<tag>-<cycle>-...``; -1 for anybody else's order."""
    parts = (client_order_id or "").split("-")
    if len(parts) > 3 and parts[0] == "hb" and parts[2].isdigit():
        return int(parts[2])
    return -1


@dataclass
class Parts:
    """Amounts of one hedge (or the total) over one interval or the whole period."""

    spot: Decimal = ZERO
    perp: Decimal = ZERO
    funding_received: Decimal = ZERO
    funding_paid: Decimal = ZERO  # positive: what was paid
    fees: Decimal = ZERO
    slippage: Decimal = ZERO
    traded: Decimal = ZERO  # notional of fills, both legs
    stop_fills: int = 0

    @property
    def funding(self) -> Decimal:
        return self.funding_received - self.funding_paid

    @property
    def net(self) -> Decimal:
        return self.spot + self.perp + self.funding - self.fees

    def add(self, other: Parts, weight: Decimal = ONE) -> None:
        # spelled out: a backtest's report adds parts some 50 times per hedge-hour
        if weight is ONE:  # x * 1 is x to the digit (every field is a rounded result)
            self.spot += other.spot
            self.perp += other.perp
            self.funding_received += other.funding_received
            self.funding_paid += other.funding_paid
            self.fees += other.fees
            self.slippage += other.slippage
            self.traded += other.traded
            self.stop_fills += other.stop_fills
            return
        self.spot += other.spot * weight
        self.perp += other.perp * weight
        self.funding_received += other.funding_received * weight
        self.funding_paid += other.funding_paid * weight
        self.fees += other.fees * weight
        self.slippage += other.slippage * weight
        self.traded += other.traded * abs(weight)
        self.stop_fills += other.stop_fills


@dataclass
class HedgeSeries:
    """Per mark time: the hedge's state, and the interval that ended at it."""

    times: list[datetime] = field(default_factory=list)
    spot_value: list[Decimal] = field(default_factory=list)
    cum_spot: list[Decimal] = field(default_factory=list)
    cum_net: list[Decimal] = field(default_factory=list)
    cum_funding: list[Decimal] = field(default_factory=list)
    cum_fees: list[Decimal] = field(default_factory=list)
    ratio: list[float | None] = field(default_factory=list)
    target_ratio: list[float | None] = field(default_factory=list)
    hedged_notional: list[Decimal] = field(default_factory=list)
    outside_band: list[bool] = field(default_factory=list)
    unprotected: list[bool] = field(default_factory=list)
    # returns of the intervals, on the spot value at their start (None when it was zero)
    r_unhedged: list[float] = field(default_factory=list)
    r_hedged: list[float] = field(default_factory=list)
    total: Parts = field(default_factory=Parts)


@dataclass
class Attribution:
    hedges: dict[str, HedgeSeries]
    total: HedgeSeries
    equity: list[tuple[datetime, Decimal]]  # the account value at each mark time


def _mark_key(m: MarkRecord) -> Key:
    return (m.ts, m.cycle if m.cycle is not None else 10**12, 0)


def _signed(side: Side, qty: Decimal) -> Decimal:
    return qty if side == Side.BUY else -qty


def _fill_parts(fills: Iterable[StoredFill], ref: Decimal, end: Decimal, base: str) -> Parts:
    """PnL of the fills from their price to ``end``; slippage against ``ref``, the market's price
    at the mark before them."""
    parts = Parts()
    for f in fills:
        q = _signed(f.side, f.qty)
        pnl = q * (end - f.price)
        if f.fee_asset == base:  # a fee taken in the coin: its later move is the coin's PnL
            pnl -= f.fee * (end - f.price)
        parts.spot += pnl
        parts.fees += f.fee_quote if f.fee_quote is not None else ZERO
        parts.traded += f.qty * f.price
        if purpose_of(f.client_order_id) == IntentPurpose.STOP:
            parts.stop_fills += 1  # its price is the trigger's, not a decision's
        else:
            parts.slippage += q * (f.price - ref)
    return parts


def _weights(rows: Sequence[MarkRecord]) -> dict[str, Decimal]:
    if len(rows) == 1:
        return {rows[0].hedge: ONE}
    targets = {r.hedge: r.target_size for r in rows if r.target_size is not None}
    total = sum(targets.values(), ZERO)
    if len(targets) == len(rows) and total != 0:
        return {h: t / total for h, t in targets.items()}
    pos = rows[0].position_size or ZERO
    if pos != 0:
        return {r.hedge: (r.perp_size or ZERO) / pos for r in rows}
    return {r.hedge: Decimal(1) / len(rows) for r in rows}


def _ratio(value: Decimal, spot_value: Decimal) -> float | None:
    return float(value / spot_value) if spot_value > 0 else None


def attribute(
    marks: Sequence[MarkRecord],
    fills: Sequence[StoredFill],
    funding: Sequence[FundingPayment],
    quote: str = "USDT",
) -> Attribution | None:
    """None when there are no marks at all. ``quote`` is not needed (spot fills are matched by
    their coin, whatever the quote) and kept for callers."""
    by_time: dict[Key, list[MarkRecord]] = defaultdict(list)
    for m in marks:
        by_time[_mark_key(m)].append(m)
    keys = sorted(by_time)
    if not keys:
        return None
    events: dict[int, tuple[list[StoredFill], list[FundingPayment]]] = defaultdict(lambda: ([], []))
    for f in fills:
        i = bisect_left(keys, (f.ts, cycle_of(f.client_order_id), 1))
        if 0 < i < len(keys):
            events[i][0].append(f)
    for p in funding:
        i = bisect_left(keys, (p.ts, -1, 1))
        if 0 < i < len(keys):
            events[i][1].append(p)
    hedges: dict[str, HedgeSeries] = {}
    total = HedgeSeries()
    equity: list[tuple[datetime, Decimal]] = []
    for i, key in enumerate(keys):
        rows = by_time[key]
        prev = by_time[keys[i - 1]] if i else []
        parts, total_parts = _interval(prev, rows, *events.get(i, ([], [])))
        _append(hedges, total, key[0], rows, parts, total_parts)
        account = next((r.equity for r in rows if r.hedge == ACCOUNT), None)
        if account is not None:
            equity.append((key[0], account))
    return Attribution(hedges, total, equity)


def _interval(
    prev: Sequence[MarkRecord],
    rows: Sequence[MarkRecord],
    fills: Sequence[StoredFill],
    funding: Sequence[FundingPayment],
) -> tuple[dict[str, Parts], Parts]:
    """The parts of each hedge, and of the account, over the interval that ends at ``rows``."""
    # plain dicts and loops, no defaultdicts or generators: this runs for every hedge-hour of a
    # backtest's report (most intervals have no fill and no funding)
    per_hedge: dict[str, Parts] = {}
    total = Parts()
    if not prev:
        return per_hedge, total
    now = {(r.hedge, r.symbol): r for r in rows if r.hedge != ACCOUNT}
    before = [r for r in prev if r.hedge != ACCOUNT]
    fills_of: dict[str, list[StoredFill]] = {}
    spot_fills: dict[str, list[StoredFill]] = {}  # by coin: any quote coin
    for f in fills:
        fills_of.setdefault(f.symbol, []).append(f)
        if ":" not in f.symbol:
            spot_fills.setdefault(f.symbol.split("/")[0], []).append(f)
    funding_of: dict[str, list[FundingPayment]] = {}
    for p in funding:
        funding_of.setdefault(p.symbol, []).append(p)
    by_symbol: dict[str, list[MarkRecord]] = {}
    for r in before:
        by_symbol.setdefault(r.symbol, []).append(r)
    for symbol, group in by_symbol.items():
        after = _after(now, group, symbol)
        if after is None or group[0].perp_mark is None or after.perp_mark is None:
            continue
        m0, m1 = group[0].perp_mark, after.perp_mark
        # orders fill at the perp's last price: slippage is measured from it (the mark in rows
        # written before it was kept, where the last-vs-mark basis then counts as slippage)
        last = group[0].perp_last
        parts = _fill_parts(fills_of.get(symbol, ()), m0 if last is None else last, m1, "")
        parts.perp, parts.spot = (group[0].position_size or ZERO) * (m1 - m0) + parts.spot, ZERO
        for p in funding_of.get(symbol, ()):
            if p.amount >= 0:
                parts.funding_received += p.amount
            else:
                parts.funding_paid -= p.amount
        total.add(parts)
        for hedge, w in _weights(group).items():
            _parts_of(per_hedge, hedge).add(parts, w)
    holders: dict[str, list[MarkRecord]] = {}
    for r in before:
        if r.spot_asset:
            holding = holders.setdefault(r.spot_asset, [])
            if all(h.hedge != r.hedge for h in holding):
                holding.append(r)
    for asset, group in holders.items():
        r0 = group[0]
        after = _after(now, group, None)
        if after is None or r0.spot_price is None or after.spot_price is None:
            continue
        p0, p1 = r0.spot_price, after.spot_price
        parts = _fill_parts(spot_fills.get(asset, ()), p0, p1, asset)
        parts.spot += (r0.spot_qty or ZERO) * (p1 - p0)
        total.add(parts)
        share = ONE if len(group) == 1 else ONE / len(group)
        for r in group:
            _parts_of(per_hedge, r.hedge).add(parts, share)
    return per_hedge, total


def _after(
    now: dict[tuple[str, str], MarkRecord], group: Sequence[MarkRecord], symbol: str | None
) -> MarkRecord | None:
    """The first of ``group``'s hedges' rows in ``now`` (on ``symbol``, else on each row's own)."""
    for r in group:
        after = now.get((r.hedge, r.symbol if symbol is None else symbol))
        if after is not None:
            return after
    return None


def _parts_of(per_hedge: dict[str, Parts], hedge: str) -> Parts:
    parts = per_hedge.get(hedge)
    if parts is None:
        parts = per_hedge[hedge] = Parts()
    return parts


def _append(
    hedges: dict[str, HedgeSeries],
    total: HedgeSeries,
    ts: datetime,
    rows: Sequence[MarkRecord],
    parts: dict[str, Parts],
    total_parts: Parts,
) -> None:
    own: dict[str, list[MarkRecord]] = {}
    for r in rows:
        if r.hedge != ACCOUNT:
            own.setdefault(r.hedge, []).append(r)
    spot_total = ZERO
    notional_total = ZERO
    seen_assets: set[str] = set()
    for hedge, group in own.items():
        series = hedges.get(hedge)
        if series is None:  # not setdefault: that built a HedgeSeries every hedge-hour
            series = hedges[hedge] = HedgeSeries()
        coins: dict[str, Decimal] = {}  # one coin, or a basket's (a row per coin)
        for r in group:
            if r.spot_asset and r.spot_asset not in coins:
                coins[r.spot_asset] = (r.spot_qty or ZERO) * (r.spot_price or ZERO)
        spot_value = sum(coins.values(), ZERO)
        for asset, value in coins.items():
            if asset not in seen_assets:
                seen_assets.add(asset)
                spot_total += value
        # loops, not generators (every hedge-hour); the sums add in the same order from ZERO
        perps = [r for r in group if r.perp_size is not None]  # a basket's coin rows have none
        hedge_value = target_value = ZERO
        for r in perps:
            hedge_value += -(r.perp_size or ZERO) * (r.perp_mark or ZERO)
        for r in perps:
            target_value += -(r.target_size or ZERO) * (r.perp_mark or ZERO)
        notional_total += abs(hedge_value)
        outside = unprotected = False
        for r in group:
            if (
                r.target_size is not None
                and r.perp_size is not None
                and abs(r.perp_size - r.target_size) > (r.band or ZERO) * abs(r.target_size)
            ):
                outside = True
                break
        for r in group:
            if r.protected is False:
                unprotected = True
                break
        _push(series, ts, parts.get(hedge) or Parts(), spot_value, abs(hedge_value))
        series.ratio.append(_ratio(hedge_value, spot_value))
        known_target = bool(perps) and all(r.target_size is not None for r in perps)
        series.target_ratio.append(_ratio(target_value, spot_value) if known_target else None)
        series.outside_band.append(outside)
        series.unprotected.append(unprotected)
    _push(total, ts, total_parts, spot_total, notional_total)
    total.ratio.append(_ratio(notional_total, spot_total))
    total.target_ratio.append(None)
    total.outside_band.append(any(s.outside_band[-1] for s in hedges.values() if s.times[-1] == ts))
    total.unprotected.append(any(s.unprotected[-1] for s in hedges.values() if s.times[-1] == ts))


def _push(
    series: HedgeSeries, ts: datetime, parts: Parts, spot_value: Decimal, notional: Decimal
) -> None:
    if series.times and series.spot_value[-1] > 0:
        start = series.spot_value[-1]
        series.r_unhedged.append(float(parts.spot / start))
        series.r_hedged.append(float(parts.net / start))
    series.total.add(parts)
    series.times.append(ts)
    series.spot_value.append(spot_value)
    series.cum_spot.append(series.total.spot)
    series.cum_net.append(series.total.net)
    series.cum_funding.append(series.total.funding)
    series.cum_fees.append(series.total.fees)
    series.hedged_notional.append(notional)

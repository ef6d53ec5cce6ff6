"""Mark-to-market snapshots: what each hedge held and what it was worth, written by the engine
so that reports and backtests need no venue. A hedge's spot rides on its perp rows; a basket's
coins (a hedge without one ``spot_asset``) get a row each, keyed by their spot symbol.

A hedge's share of a perp several hedges use is split by their latest targets (the position
itself is one number on the venue): share = position x target / sum of the targets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.domain import ZERO, HedgeTarget, OrderKind, Side, Snapshot
from bot.store.records import ACCOUNT, MarkRecord
from bot.store.repo import Store
from strategies.base import Strategy

MARK_EVERY = timedelta(hours=1)  # reports work on hourly returns


def account_value(snapshot: Snapshot, quote: str) -> Decimal:
    """Wallet coins at their spot price plus the perps' unrealised PnL; coins without a
    ``<coin>/<quote>`` price are left out (they cannot be valued from the snapshot)."""
    total = ZERO
    for asset, bal in snapshot.balances.items():
        if asset == quote:
            total += bal.total
            continue
        price = snapshot.price(f"{asset}/{quote}")
        if price is not None and bal.total:
            total += bal.total * price
    return total + sum((p.unrealized_pnl for p in snapshot.positions.values()), ZERO)


def _protected(snapshot: Snapshot) -> set[str]:
    """The symbols with a resting buy stop (a short's stop-loss)."""
    return {
        o.symbol
        for o in snapshot.open_orders
        if o.kind == OrderKind.STOP_MARKET and o.side == Side.BUY
    }


def _shares(
    symbol: str, position: Decimal, targets: Mapping[str, Decimal | None]
) -> dict[str, Decimal]:
    known = {h: t for h, t in targets.items() if t is not None}
    total = sum(known.values(), ZERO)
    if len(targets) == 1:
        return {h: position for h in targets}
    if total == 0:  # nothing to split by: equal parts
        return {h: position / len(targets) for h in targets}
    return {h: position * known.get(h, ZERO) / total for h in targets}


def build_marks(
    *,
    cycle: int,
    snapshot: Snapshot,
    strategies: Iterable[Strategy],
    previous: Mapping[tuple[str, str], HedgeTarget],
    quote: str,
    band: Decimal,
) -> list[MarkRecord]:
    ts = snapshot.ts
    rows: list[MarkRecord] = [
        MarkRecord(ts, cycle, ACCOUNT, "", equity=account_value(snapshot, quote))
    ]
    pairs: dict[str, dict[str, Decimal | None]] = {}  # symbol -> hedge -> target
    spot_of: dict[str, str] = {}
    targeted: dict[str, set[str]] = {}  # hedge -> the perps of its latest targets
    for h, sym in previous:
        targeted.setdefault(h, set()).add(sym)
    for s in strategies:
        if not s.hedge.enabled:
            continue
        spot_of[s.hedge.name] = s.hedge.spot_asset
        if not s.hedge.spot_asset:  # a basket (portfolio): one spot row per coin
            for asset in sorted(getattr(s.params, "assets", ()) or ()):
                rows.append(_spot_row(ts, cycle, s.hedge.name, asset, snapshot, quote))
        symbols = targeted.get(s.hedge.name) or {s.hedge.perp_symbol}
        for sym in symbols:
            if sym:
                t = previous.get((s.hedge.name, sym))
                pairs.setdefault(sym, {})[s.hedge.name] = t.size if t is not None else None
    stops = _protected(snapshot) if pairs else set()
    for symbol, targets in sorted(pairs.items()):
        pos = snapshot.positions.get(symbol)
        size = pos.size if pos is not None else ZERO
        mark = snapshot.price(symbol) if pos is None else pos.mark_price
        ticker = snapshot.tickers.get(symbol)
        upnl = pos.unrealized_pnl if pos is not None else ZERO
        for hedge, share in sorted(_shares(symbol, size, targets).items()):
            asset = spot_of[hedge]
            qty = snapshot.spot_qty(asset) if asset else None
            price = snapshot.price(f"{asset}/{quote}") if asset else None
            spot_value = qty * price if qty is not None and price is not None else ZERO
            perp_upnl = upnl * share / size if size else ZERO
            rows.append(
                MarkRecord(
                    ts,
                    cycle,
                    hedge,
                    symbol,
                    equity=spot_value + perp_upnl,
                    spot_asset=asset or None,
                    spot_qty=qty,
                    spot_price=price,
                    perp_size=share,
                    position_size=size,
                    perp_mark=mark,
                    target_size=targets[hedge],
                    band=band,
                    protected=share >= 0 or symbol in stops,
                    perp_last=ticker.last if ticker is not None else None,
                )
            )
    return rows


def _spot_row(
    ts: datetime, cycle: int, hedge: str, asset: str, snapshot: Snapshot, quote: str
) -> MarkRecord:
    """A basket coin of a hedge that has no single ``spot_asset``: keyed by its spot symbol."""
    qty, price = snapshot.spot_qty(asset), snapshot.price(f"{asset}/{quote}")
    value = qty * price if price is not None else ZERO
    return MarkRecord(ts, cycle, hedge, f"{asset}/{quote}", equity=value, spot_asset=asset,
                      spot_qty=qty, spot_price=price)  # fmt: skip


class MarkBook:
    """Writes a mark on the first cycle, then once per ``every`` of the engine's clock."""

    def __init__(self, every: timedelta = MARK_EVERY) -> None:
        self.every = every
        self._last: datetime | None = None

    async def record(
        self,
        store: Store,
        cycle: int,
        snapshot: Snapshot,
        strategies: Iterable[Strategy],
        previous: Mapping[tuple[str, str], HedgeTarget],
        quote: str,
        band: Decimal,
    ) -> None:
        if self.due(snapshot.ts):
            await store.add_marks(
                build_marks(
                    cycle=cycle,
                    snapshot=snapshot,
                    strategies=strategies,
                    previous=previous,
                    quote=quote,
                    band=band,
                )
            )

    def due(self, now: datetime) -> bool:
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        bucket = (now - epoch) // self.every
        if self._last is not None and (self._last - epoch) // self.every == bucket:
            return False
        self._last = now
        return True

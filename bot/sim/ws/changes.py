"""What changed in the venue since the last look, as Bybit v5 websocket topic messages.

The simulator has no event bus: after anything that may have changed the venue (a POST, a clock
tick) the hub asks the tracker for a diff against what it last published. Private messages follow
Bybit's shape ``{"id", "topic", "creationTime", "data": [rows]}`` with rows as the REST routes
render them (``bybit_wire``) plus ``category``, as Bybit's private streams carry it; times are the
venue's clock, like the REST envelope's ``time``. A closed position is published once with size 0
and side "", as Bybit does. As Bybit documents: every order created, amended or cancelled also
publishes its symbol's position, changed or not, and the wallet is not published for what moves
with the mark alone (unrealised PnL, position margin).
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from typing import Any

from bot.sim import bybit_wire as wire
from bot.sim.bars import to_ms
from bot.sim.venue import Venue

Message = dict[str, Any]
PRIVATE_TOPICS = ("order", "execution", "position", "wallet")


class ChangeTracker:
    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self._seq = itertools.count(1)
        self._wallet: Hashable = self._wallet_key()
        self._positions = {s: self._position_key(s) for s in venue.account.positions}
        self._orders_seen = len(venue.book.orders)
        self._open = {o.order_id: self._order_key(o.order_id) for o in venue.book.open_orders()}
        self._executions = len(venue.book.executions)
        self._touched: set[str] = set()  # perps with an order created, amended or cancelled
        self._tickers: dict[tuple[str, str], dict[str, str]] = {}

    # ---- private topics -----------------------------------------------------------------------
    def private(self) -> list[Message]:
        """The private messages due since the last call (in Bybit's usual order: order,
        execution, position, wallet), each topic at most once."""
        out = []
        for topic, rows in (
            ("order", self._order_rows()),
            ("execution", self._execution_rows()),
            ("position", self._position_rows()),
            ("wallet", self._wallet_rows()),
        ):
            if rows:
                out.append(self._private(topic, rows))
        return out

    def _private(self, topic: str, rows: list[dict[str, Any]]) -> Message:
        now = to_ms(self.venue.now)
        return {
            "id": f"sim-{topic}-{next(self._seq)}",
            "topic": topic,
            "creationTime": now,
            "data": rows,
        }

    def _wallet_key(self) -> Hashable:
        report = self.venue.wallet()
        coins = tuple((c.coin, c.wallet_balance, c.locked, c.order_im) for c in report.coins)
        # position margin moves with the mark: what changes it as an event is a size change
        sizes = tuple((s, p.size) for s, p in sorted(self.venue.account.positions.items()))
        return coins, sizes

    def _wallet_rows(self) -> list[dict[str, Any]]:
        key = self._wallet_key()
        if key == self._wallet:
            return []
        self._wallet = key
        return [wire.wallet(self.venue.wallet())]

    def _position_key(self, symbol: str) -> Hashable:
        p = self.venue.account.positions[symbol]
        return (p.size, p.entry, p.leverage)

    def _position_rows(self) -> list[dict[str, Any]]:
        rows = []
        touched, self._touched = self._touched, set()
        for symbol in sorted(self.venue.account.positions):
            key = self._position_key(symbol)
            if self._positions.get(symbol) == key and symbol not in touched:
                continue
            self._positions[symbol] = key
            (row,) = self.venue.positions(symbol)
            rows.append({**wire.position(row), "category": "linear"})
        return rows

    def _order_key(self, order_id: str) -> Hashable:
        o = self.venue.book.orders[order_id]
        return (o.status, o.cum_qty, o.updated, o.trigger_price, o.qty, o.price)

    def _order_rows(self) -> list[dict[str, Any]]:
        book = self.venue.book
        fresh = [
            o.order_id for o in itertools.islice(book.orders.values(), self._orders_seen, None)
        ]
        self._orders_seen = len(book.orders)
        changed = []
        for oid in [*self._open, *fresh]:
            key = self._order_key(oid)
            if self._open.get(oid) != key:
                changed.append(oid)
        self._open = {o.order_id: self._order_key(o.order_id) for o in book.open_orders()}
        self._touched.update(
            book.orders[o].symbol for o in changed if book.orders[o].category == "linear"
        )
        return [
            {**wire.order(book.orders[oid]), "category": book.orders[oid].category}
            for oid in dict.fromkeys(changed)
        ]

    def _execution_rows(self) -> list[dict[str, Any]]:
        fresh = self.venue.book.executions[self._executions :]
        self._executions = len(self.venue.book.executions)
        return [{**wire.execution(e), "category": e.category} for e in fresh]

    # ---- public tickers -----------------------------------------------------------------------
    def ticker(self, category: str, symbol: str, *, snapshot: bool) -> Message | None:
        """``tickers.<symbol>``: a snapshot (on subscribing; spot always sends snapshots), else a
        delta of the fields that changed, or None when nothing did."""
        (row,) = self.venue.tickers(category, symbol)
        data = wire.ticker(row)
        before = self._tickers.get((category, symbol))
        if not snapshot or before is None:  # other subscribers still need the delta
            self._tickers[(category, symbol)] = data
        if not snapshot and category == "linear" and before is not None:
            delta = {k: v for k, v in data.items() if before.get(k) != v}
            if not delta:
                return None
            data = {"symbol": symbol, **delta}
            kind = "delta"
        elif not snapshot and before == data:
            return None
        else:
            kind = "snapshot"
        return {
            "topic": f"tickers.{symbol}",
            "type": kind,
            "data": data,
            "cs": next(self._seq),
            "ts": to_ms(self.venue.now),
        }

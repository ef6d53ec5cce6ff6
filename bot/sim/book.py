"""Storage and queries of orders and executions, with Bybit-style cursor pagination.

Cursors are opaque strings; for orders and executions they hold the sequence number of the last
row returned, so pages stay stable while new rows arrive (rows are listed newest first).
"""

from __future__ import annotations

import copy
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from bot.sim.errors import params_error
from bot.sim.model import (
    CANCELLED,
    DEACTIVATED,
    FILLED,
    OPEN_STATUSES,
    PARTIALLY_FILLED_CANCELED,
    REJECTED,
    Execution,
    SimOrder,
)

FINAL_STATUSES = frozenset({FILLED, CANCELLED, PARTIALLY_FILLED_CANCELED, DEACTIVATED, REJECTED})
RECENT_CLOSED = 500  # like Bybit, a lookup by id on the realtime endpoint sees recent closed orders
T = TypeVar("T")


def _time(e: Execution) -> datetime:
    return e.time


def page(
    rows: Sequence[T], limit: int, cursor: str | None, seq: Callable[[T], int]
) -> tuple[list[T], str]:
    """Rows newest first; returns one page and the cursor of the next ('' when none)."""
    if cursor:
        try:
            after = int(cursor)
        except ValueError:
            raise params_error("cursor invalid") from None
        rows = [r for r in rows if seq(r) < after]
    chunk = list(rows[:limit])
    more = len(rows) > limit
    return chunk, (str(seq(chunk[-1])) if more and chunk else "")


def offset_page(rows: Sequence[T], limit: int, cursor: str | None) -> tuple[list[T], str]:
    """Pagination by position, for small slowly changing lists (instruments, positions)."""
    start = 0
    if cursor:
        try:
            start = int(cursor)
        except ValueError:
            raise params_error("cursor invalid") from None
    chunk = list(rows[start : start + limit])
    return chunk, (str(start + limit) if start + limit < len(rows) else "")


@dataclass(frozen=True, slots=True)
class OrderQuery:
    category: str
    symbol: str | None = None
    base: str | None = None
    settle: str | None = None
    order_id: str | None = None
    link_id: str | None = None
    order_filter: str | None = None  # "Order" (normal), "StopOrder" (conditional) or None (all)
    statuses: frozenset[str] | None = None
    start: datetime | None = None
    end: datetime | None = None

    def matches(self, o: SimOrder, base_of: Callable[[SimOrder], str]) -> bool:
        if o.category != self.category:
            return False
        if self.symbol is not None and o.symbol != self.symbol:
            return False
        if self.base is not None and base_of(o) != self.base:
            return False
        if self.order_id is not None and o.order_id != self.order_id:
            return False
        if self.link_id is not None and o.link_id != self.link_id:
            return False
        if self.order_filter == "StopOrder" and not o.is_conditional:
            return False
        if self.order_filter == "Order" and o.is_conditional:
            return False
        if self.statuses is not None and o.status not in self.statuses:
            return False
        if self.start is not None and o.created < self.start:
            return False
        return not (self.end is not None and o.created > self.end)


@dataclass
class OrderBook:
    orders: dict[str, SimOrder] = field(default_factory=dict)  # by order id, oldest first
    by_link: dict[str, str] = field(default_factory=dict)
    executions: list[Execution] = field(default_factory=list)  # oldest first
    _open: dict[str, SimOrder] = field(default_factory=dict)  # superset of the open orders
    in_time_order: bool = True  # executions appended in time order (the venue clock's)

    def add(self, order: SimOrder) -> None:
        self.orders[order.order_id] = order
        self._open[order.order_id] = order
        if order.link_id:
            self.by_link[order.link_id] = order.order_id

    def has_link(self, link_id: str) -> bool:
        return link_id in self.by_link

    def find(self, order_id: str | None, link_id: str | None) -> SimOrder | None:
        if order_id:
            return self.orders.get(order_id)
        if link_id:
            oid = self.by_link.get(link_id)
            return self.orders.get(oid) if oid else None
        return None

    def open_orders(self) -> list[SimOrder]:
        """The live open orders (not copies), oldest first; cheap however long the history."""
        for oid in [oid for oid, o in self._open.items() if o.status not in OPEN_STATUSES]:
            del self._open[oid]
        return list(self._open.values())

    def select(self, query: OrderQuery, base_of: Callable[[SimOrder], str]) -> list[SimOrder]:
        """Matching orders, newest first, as copies (callers may keep them)."""
        found = [o for o in reversed(self.orders.values()) if query.matches(o, base_of)]
        return [copy.copy(o) for o in found]

    def realtime(
        self,
        query: OrderQuery,
        base_of: Callable[[SimOrder], str],
        open_only: int = 0,
        *,
        copies: bool = True,
    ) -> list[SimOrder]:
        """Bybit's order/realtime: open orders (openOnly=0) or recent closed ones (openOnly=1);
        a lookup by orderId/orderLinkId sees both."""
        by_id = query.order_id is not None or query.link_id is not None
        if not by_id and not open_only:  # the open ones only: not a walk of the whole history
            found = [o for o in reversed(self.open_orders()) if query.matches(o, base_of)]
            return [copy.copy(o) for o in found] if copies else found
        rows = self.select(query, base_of)
        closed = [o for o in rows if o.status in FINAL_STATUSES][:RECENT_CLOSED]
        if by_id:
            return [o for o in rows if o.status in OPEN_STATUSES] + closed
        return closed if open_only else [o for o in rows if o.status in OPEN_STATUSES]

    def history(self, query: OrderQuery, base_of: Callable[[SimOrder], str]) -> list[SimOrder]:
        return [o for o in self.select(query, base_of) if o.status in FINAL_STATUSES]

    def record(self, execution: Execution) -> None:
        if self.executions and execution.time < self.executions[-1].time:
            self.in_time_order = False
        self.executions.append(execution)

    def _between(self, start: datetime | None, end: datetime | None) -> Sequence[Execution]:
        """The executions inside [start, end] found by bisection (a backtest's history is long),
        or all of them, oldest first."""
        rows = self.executions
        if not self.in_time_order or (start is None and end is None):
            return rows
        lo = 0 if start is None else bisect_left(rows, start, key=_time)
        hi = len(rows) if end is None else bisect_right(rows, end, key=_time)
        return rows[lo:hi]

    def select_executions(
        self,
        category: str,
        symbol: str | None = None,
        base: Callable[[Execution], bool] | None = None,
        exec_type: str | None = None,
        order_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Execution]:
        """Newest first."""
        return [
            e
            for e in reversed(self._between(start, end))
            if e.category == category
            and (symbol is None or e.symbol == symbol)
            and (base is None or base(e))
            and (exec_type is None or e.exec_type == exec_type)
            and (order_id is None or e.order_id == order_id)
            and (start is None or e.time >= start)
            and (end is None or e.time <= end)
        ]

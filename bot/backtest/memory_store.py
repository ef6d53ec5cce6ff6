"""The Store's interface kept in plain Python objects, for backtests: no SQL, no worker thread.

A backtest's database is thrown away at the end, and the engine's own persistence was most of its
time (see benchmarks/RESULTS_BACKTEST.md). Same methods, same answers, same errors as
``bot.store.repo.Store`` for what the engine and the report use; the store's own tests run against
this class too (tests/integration/test_backtest_memory_store.py), which keeps the two in step.
"""

from __future__ import annotations

import heapq
import itertools
import json
from bisect import bisect_right, insort
from collections.abc import Callable, Collection, Iterator, Mapping, Reversible, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.domain import (
    Bar,
    Fill,
    FundingPayment,
    IntentPurpose,
    IntentStatus,
    OrderIntent,
    Side,
    TradingState,
    frozen_map,
)
from bot.store.errors import IntentTransitionError, NotFound, StoreConflict
from bot.store.ledger import fee_in_quote
from bot.store.records import (
    OPEN_STATUSES,
    CycleReads,
    CycleRecord,
    MarkRecord,
    StoredCycle,
    StoredEvent,
    StoredFill,
    StoredIntent,
    StoredRejection,
    StoredTarget,
)
from bot.store.types import dumps

Clock = Callable[[], datetime]


def _json(data: Any) -> Any:
    """What a JSON column gives back (Decimals as strings, tuples as lists)."""
    return frozen_map(json.loads(dumps(dict(data))))


class _Deferred(Mapping[str, Any]):
    """A JSON column's value (what ``_json`` makes) made when first read: a backtest writes a
    summary, targets and events every simulated hour and reads almost none back (turning them
    into JSON was a tenth of its time). The engine hands over fresh values every cycle and does
    not change them afterwards; the top level is copied here all the same."""

    __slots__ = ("_raw", "_value")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw: Mapping[str, Any] | None = dict(raw)
        self._value: Mapping[str, Any] | None = None

    def _get(self) -> Mapping[str, Any]:
        if self._value is None:
            self._value, self._raw = _json(self._raw), None
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __repr__(self) -> str:
        return repr(self._get())


def _utc() -> datetime:
    return datetime.now(UTC)


class MemoryStore:
    def __init__(self, *, clock: Clock = _utc) -> None:
        self._clock = clock
        self._cycles: dict[int, StoredCycle] = {}
        self._targets: dict[tuple[str, str], StoredTarget] = {}
        self._intents: dict[str, StoredIntent] = {}  # insertion order is id order
        # indexes, so that a cycle's reads cost the same after a year of history: cycles by start
        # (a heap, for prune), the largest cycle number, the intents not final (id order), hedge
        # intents' creation times (sorted) and each symbol's newest hedge intent not LOST
        self._starts: list[tuple[datetime, int]] = []
        self._top = 0
        self._numbered = True  # cycles recorded in increasing number order (the dict's order)
        self._live: dict[str, None] = {}
        self._hedge_times: list[datetime] = []
        self._hedge_newest: dict[str, datetime] = {}
        self._rejections: list[StoredRejection] = []
        self._events: list[StoredEvent] = []
        self._fills: dict[str, StoredFill] = {}
        self._funding: dict[str, FundingPayment] = {}
        self._marks: dict[tuple[str, str, datetime], MarkRecord] = {}
        self._bars: dict[tuple[str, str], dict[datetime, Bar]] = {}
        self._cursors: dict[str, str] = {}
        self._state: tuple[TradingState, str] = (TradingState.ACTIVE, "")

    def __repr__(self) -> str:
        return "MemoryStore()"

    async def close(self) -> None:
        return None

    async def create_schema(self) -> None:
        return None

    # cycles ---------------------------------------------------------------------------------
    async def next_cycle_number(self) -> int:
        return self._top + 1  # prune keeps the newest cycle: the largest number stays

    async def cycle_start(self, cursor: str) -> tuple[int, TradingState, str, str | None]:
        """Its number, the trading state and its reason, and the value of ``cursor``."""
        state, reason = self._state
        return await self.next_cycle_number(), state, reason, self._cursors.get(cursor)

    async def cycle_reads(
        self, cursor: str, since: datetime, newest_since: datetime | None = None
    ) -> CycleReads:
        number, state, reason, value = await self.cycle_start(cursor)
        last_at, recent = await self.hedge_activity(since)
        if newest_since is not None:
            last_at = {s: at for s, at in last_at.items() if at > newest_since}
        pending = await self.intents(statuses=OPEN_STATUSES)
        return CycleReads(number, state, reason, value, pending, last_at, recent)

    async def record_cycle(self, record: CycleRecord, *, defer: bool = False) -> None:
        if record.number in self._cycles:
            raise StoreConflict(f"cycle {record.number} not recorded: duplicate cycle")
        self._check_new(record.intents, f"cycle {record.number} not recorded")
        now = self._clock()
        self._cycles[record.number] = StoredCycle(
            record.number, record.started_at, None, "started", record.trading_state, frozen_map()
        )
        heapq.heappush(self._starts, (record.started_at, record.number))
        self._numbered = self._numbered and record.number > self._top
        self._top = max(self._top, record.number)
        for t in record.targets:
            self._targets[(t.hedge, t.symbol)] = StoredTarget(
                record.number, t.hedge, t.symbol, t.current_size, t.target_size, t.ratio,
                t.reason, _Deferred(t.details), now,
            )  # fmt: skip
        self._add_intents(record.intents, now)
        for r in record.rejections:
            self._reject(record.number, r.hedge, r.symbol, r.source, r.reason,
                         r.client_order_id, r.side, r.qty, now)  # fmt: skip
        for e in record.events:
            self._event(e.kind, e.message, e.level, record.number, dict(e.data), now)

    async def finish_cycle(self, number: int, outcome: str, summary: dict[str, Any]) -> None:
        cycle = self._cycles.get(number)
        if cycle is None:
            raise NotFound(f"no cycle {number}")
        self._cycles[number] = replace(
            cycle, finished_at=self._clock(), outcome=outcome, summary=_Deferred(summary)
        )

    async def cycles(self, *, limit: int | None = None) -> list[StoredCycle]:
        return [self._cycles[n] for n in sorted(self._cycles, reverse=True)][:limit]

    async def prune(self, before: datetime) -> dict[str, int]:
        """As the SQL store: the cycles up to the last one started before ``before`` go, the
        newest stays; only each hedge's latest target is kept here anyway."""
        last = None  # as journal.prune: every cycle up to the last one started before
        while self._starts and self._starts[0][0] < before:
            started, n = heapq.heappop(self._starts)
            cycle = self._cycles.get(n)
            if cycle is not None and cycle.started_at == started:  # else a deleted one's entry
                last = n if last is None else max(last, n)
                if n == self._top:
                    heapq.heappush(self._starts, (started, n))
                    break
        if last is None:
            return {"cycles": 0, "targets": 0}
        last = min(last, self._top - 1)
        if self._numbered:  # numbers recorded in increasing order: the old ones come first
            old = list(itertools.takewhile(lambda n: n <= last, self._cycles))
        else:
            old = [n for n in self._cycles if n <= last]
        for n in old:
            del self._cycles[n]
        return {"cycles": len(old), "targets": 0}

    async def last_targets(self) -> dict[tuple[str, str], StoredTarget]:
        return dict(self._targets)

    async def rejections(self, *, limit: int | None = None) -> list[StoredRejection]:
        return self._rejections[::-1][:limit]

    # intents --------------------------------------------------------------------------------
    def _check_new(self, intents: Sequence[OrderIntent], what: str) -> None:
        ids = [i.client_order_id for i in intents]
        if len(set(ids)) != len(ids) or any(cid in self._intents for cid in ids):
            raise StoreConflict(f"{what}: duplicate client order id")

    def _add_intents(self, intents: Sequence[OrderIntent], now: datetime) -> None:
        for i in intents:
            self._intents[i.client_order_id] = StoredIntent(
                len(self._intents) + 1, i.client_order_id, i.cycle, i.hedge, i.symbol,
                Side(i.side), i.kind, i.purpose, i.qty, i.price, i.trigger_price, i.reduce_only,
                IntentStatus.PENDING, None, Decimal(0), None, None, now, now,
            )  # fmt: skip
            self._live[i.client_order_id] = None
            if i.purpose == IntentPurpose.HEDGE:
                insort(self._hedge_times, now)
                newest = self._hedge_newest.get(i.symbol)
                self._hedge_newest[i.symbol] = now if newest is None else max(newest, now)

    async def add_intents(self, intents: Sequence[OrderIntent]) -> None:
        self._check_new(intents, "intents not recorded")
        self._add_intents(intents, self._clock())

    async def update_intent(
        self,
        client_order_id: str,
        status: IntentStatus,
        *,
        venue_order_id: str | None = None,
        filled_qty: Decimal | None = None,
        avg_price: Decimal | None = None,
        reason: str | None = None,
        qty: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None:
        row = self._intents.get(client_order_id)
        if row is None:
            raise NotFound(f"no intent with client order id {client_order_id!r}")
        old, new = row.status, IntentStatus(status)
        if old.final and new != old:
            raise IntentTransitionError(
                f"intent {client_order_id!r} is {old.value}; refusing to make it {new.value}"
            )
        now = self._clock()
        self._intents[client_order_id] = replace(
            row,
            status=new,
            venue_order_id=row.venue_order_id if venue_order_id is None else venue_order_id,
            filled_qty=row.filled_qty if filled_qty is None else filled_qty,
            avg_price=row.avg_price if avg_price is None else avg_price,
            reason=row.reason if reason is None else reason,
            qty=row.qty if qty is None else qty,
            trigger_price=row.trigger_price if trigger_price is None else trigger_price,
            updated_at=now,
        )
        if new.final:
            self._live.pop(client_order_id, None)
        if new == IntentStatus.LOST and old != new and row.purpose == IntentPurpose.HEDGE:
            self._newest_hedge(row.symbol)
        if new == IntentStatus.REJECTED and old != new:
            self._reject(row.cycle, row.hedge, row.symbol, "venue", reason or row.reason or "",
                         row.client_order_id, row.side, row.qty, now)  # fmt: skip

    async def intents(
        self,
        *,
        statuses: Collection[IntentStatus] | None = None,
        symbol: str | None = None,
        purpose: IntentPurpose | None = None,
        limit: int | None = None,
    ) -> list[StoredIntent]:
        wanted = None if statuses is None else {IntentStatus(s) for s in statuses}
        rows: Reversible[StoredIntent] = self._intents.values()
        if wanted is not None and not any(s.final for s in wanted):
            rows = [self._intents[cid] for cid in self._live]  # the same rows, fewer read
        out = []
        for row in reversed(rows):
            if (
                (wanted is None or row.status in wanted)
                and (symbol is None or row.symbol == symbol)
                and (purpose is None or row.purpose == purpose)
            ):
                out.append(row)
                if limit is not None and len(out) >= limit:
                    break
        return out

    async def hedge_activity(self, since: datetime) -> tuple[dict[str, datetime], int]:
        """Newest hedge intent per symbol (LOST ones left out) and how many hedge intents were
        written after ``since``."""
        recent = len(self._hedge_times) - bisect_right(self._hedge_times, since)
        return dict(self._hedge_newest), recent

    def _newest_hedge(self, symbol: str) -> None:
        """A hedge intent of ``symbol`` became LOST: its newest is looked up again."""
        times = [
            i.created_at
            for i in self._intents.values()
            if i.purpose == IntentPurpose.HEDGE
            and i.symbol == symbol
            and i.status != IntentStatus.LOST
        ]
        if times:
            self._hedge_newest[symbol] = max(times)
        else:
            self._hedge_newest.pop(symbol, None)

    def _reject(self, cycle: int | None, hedge: str, symbol: str, source: str, reason: str,
                cid: str | None, side: Side | None, qty: Decimal | None,
                now: datetime) -> None:  # fmt: skip
        self._rejections.append(
            StoredRejection(len(self._rejections) + 1, cycle, hedge, symbol, source, reason, cid,
                            None if side is None else Side(side), qty, now)
        )  # fmt: skip

    # venue ledger ---------------------------------------------------------------------------
    async def add_fills(self, fills: Sequence[Fill]) -> int:
        by_venue = {i.venue_order_id: i.hedge for i in self._intents.values() if i.venue_order_id}
        added = 0
        for f in fills:
            if f.trade_id in self._fills:
                continue
            ours = self._intents.get(f.client_order_id or "")
            hedge = ours.hedge if ours is not None else by_venue.get(f.venue_order_id)
            self._fills[f.trade_id] = StoredFill(
                len(self._fills) + 1, f.trade_id, f.venue_order_id, f.client_order_id, f.symbol,
                Side(f.side), f.qty, f.price, f.fee, f.fee_asset, f.ts, hedge,
                fee_in_quote(f.symbol, f.fee, f.fee_asset, f.price),
            )  # fmt: skip
            added += 1
        return added

    async def known_trade_ids(self, trade_ids: Collection[str]) -> set[str]:
        return {t for t in trade_ids if t in self._fills}

    async def add_funding(self, payments: Sequence[FundingPayment]) -> int:
        new = [p for p in payments if p.payment_id not in self._funding]
        for p in new:
            self._funding.setdefault(p.payment_id, p)
        return len({p.payment_id for p in new})

    @staticmethod
    def _recent(rows: list[Any], symbol: str | None, since: datetime | None,
                limit: int | None) -> list[Any]:  # fmt: skip
        rows = [r for r in rows if (symbol is None or r.symbol == symbol)]
        rows = [r for r in rows if since is None or r.ts >= since]
        rows.sort(key=lambda r: r.ts)  # stable: insertion order within one time
        return rows if limit is None else rows[len(rows) - limit :] if limit else []

    async def fills(
        self, *, symbol: str | None = None, since: datetime | None = None, limit: int | None = None
    ) -> list[StoredFill]:
        return self._recent(list(self._fills.values()), symbol, since, limit)

    async def funding(
        self, *, symbol: str | None = None, since: datetime | None = None, limit: int | None = None
    ) -> list[FundingPayment]:
        return self._recent(list(self._funding.values()), symbol, since, limit)

    async def add_marks(self, marks: Sequence[MarkRecord]) -> int:
        added = 0
        for m in marks:
            key = (m.hedge, m.symbol, m.ts)
            if key not in self._marks:
                self._marks[key] = m
                added += 1
        return added

    async def marks(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        hedge: str | None = None,
    ) -> list[MarkRecord]:
        rows = [
            m
            for m in self._marks.values()
            if (since is None or m.ts >= since)
            and (until is None or m.ts <= until)
            and (hedge is None or m.hedge in (hedge, ""))
        ]
        return sorted(rows, key=lambda m: m.ts)

    async def add_bars(self, symbol: str, timeframe: str, bars: Sequence[Bar]) -> int:
        table = self._bars.setdefault((symbol, timeframe), {})
        latest = {b.ts: b for b in bars}
        new = sum(1 for ts in latest if ts not in table)
        table.update(latest)
        return new

    async def bars(
        self,
        symbol: str,
        timeframe: str,
        *,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Bar]:
        table = self._bars.get((symbol, timeframe), {})
        rows = [table[ts] for ts in sorted(table) if since is None or ts >= since]
        return rows if limit is None else rows[len(rows) - limit :] if limit else []

    # events and state -----------------------------------------------------------------------
    def _event(self, kind: str, message: str, level: str, cycle: int | None,
               data: dict[str, Any], ts: datetime) -> None:  # fmt: skip
        self._events.append(
            StoredEvent(len(self._events) + 1, ts, cycle, level, kind, message, _Deferred(data))
        )

    async def add_event(
        self,
        kind: str,
        message: str,
        *,
        level: str = "info",
        cycle: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self._event(kind, message, level, cycle, dict(data or {}), self._clock())

    async def events(
        self, *, kind: str | None = None, limit: int | None = None
    ) -> list[StoredEvent]:
        rows = [e for e in reversed(self._events) if kind is None or e.kind == kind]
        return rows[:limit]

    async def trading_state(self) -> tuple[TradingState, str]:
        return self._state

    async def set_trading_state(self, trading_state: TradingState, reason: str) -> None:
        self._state = (TradingState(trading_state), reason)

    async def get_cursor(self, name: str) -> str | None:
        return self._cursors.get(name)

    async def set_cursor(self, name: str, value: str) -> None:
        self._cursors[name] = value

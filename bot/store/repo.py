"""The store: explicit async methods, domain types in and out. Each public method is one
transaction. Money stays Decimal and times stay aware UTC (see ``bot.store.types``).
Transactions, and a cycle's reads and records: ``bot.store.cycle_tx``."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import (
    Bar,
    Fill,
    FundingPayment,
    IntentPurpose,
    IntentStatus,
    OrderIntent,
    TradingState,
)
from bot.store import journal, ledger, orders, state
from bot.store.cycle_tx import CycleTransactions, conflict
from bot.store.db import make_engine
from bot.store.models import Base, EventRow
from bot.store.records import (
    MarkRecord,
    StoredCycle,
    StoredEvent,
    StoredFill,
    StoredIntent,
    StoredRejection,
    StoredTarget,
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Store(CycleTransactions):
    """Persistence for the bot and the review commands. Build with ``Store.from_url``; call
    ``close()`` when done. The schema comes from ``bot.store.migrate.upgrade`` (or
    ``create_schema()`` for throwaway databases)."""

    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now) -> None:
        super().__init__(engine, clock)
        self._dialect = engine.dialect.name

    @classmethod
    def from_url(cls, url: str, *, echo: bool = False, clock: Clock = utc_now) -> Store:
        """No I/O here: the first query connects (and creates a SQLite file's directory)."""
        return cls(make_engine(url, echo=echo), clock=clock)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def __repr__(self) -> str:
        # never the URL's password
        return f"Store({self._engine.url.render_as_string(hide_password=True)!r})"

    async def close(self) -> None:
        try:
            await self._flush_held()
        finally:
            await self._engine.dispose()

    async def create_schema(self) -> None:
        """Create every table from the models, for in-memory and test databases. Deployed
        databases use migrations instead, so their revision is tracked."""
        async with self._engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    # cycles ---------------------------------------------------------------------------------

    async def next_cycle_number(self) -> int:
        async with self._tx() as s:
            return await journal.next_cycle_number(s)

    async def cycle_start(self, cursor: str) -> tuple[int, TradingState, str, str | None]:
        """What a cycle reads before observing, in one transaction: its number, the trading
        state and its reason, and the value of ``cursor``."""
        async with self._tx() as s:
            return await state.cycle_head(s, cursor)

    async def prune(self, before: datetime) -> dict[str, int]:
        """Delete cycle and target rows older than ``before`` (journal.prune says what stays);
        returns how many of each went."""
        async with self._tx() as s:
            return await journal.prune(s, before)

    async def cycles(self, *, limit: int | None = None) -> list[StoredCycle]:
        """Newest first."""
        async with self._tx() as s:
            return await journal.cycles(s, limit=limit)

    async def last_targets(self) -> dict[tuple[str, str], StoredTarget]:
        """The latest target recorded per (hedge, symbol)."""
        async with self._tx() as s:
            return await journal.last_targets(s)

    async def rejections(self, *, limit: int | None = None) -> list[StoredRejection]:
        """Risk denials and venue refusals, newest first."""
        async with self._tx() as s:
            return await journal.rejections(s, limit=limit)

    # intents --------------------------------------------------------------------------------

    async def add_intents(self, intents: Sequence[OrderIntent]) -> None:
        """Write intents ahead (PENDING) outside a cycle record, e.g. stop-loss re-placements.
        All or nothing; raises StoreConflict on a duplicate client order id."""
        try:
            async with self._core() as c:
                await orders.insert_intents(c, intents, self._clock())
        except IntegrityError as exc:
            raise conflict("intents", exc) from exc

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
        """Set the status and any given field (``qty``/``trigger_price``: a stop-loss amended in
        place). Raises NotFound for an unknown id and
        IntentTransitionError when a final intent would change status. Becoming REJECTED also
        records a rejection with source "venue"."""
        async with self._tx() as s:
            await orders.update_intent(
                s,
                client_order_id,
                status,
                self._clock(),
                venue_order_id=venue_order_id,
                filled_qty=filled_qty,
                avg_price=avg_price,
                reason=reason,
                qty=qty,
                trigger_price=trigger_price,
            )

    async def intents(
        self,
        *,
        statuses: Collection[IntentStatus] | None = None,
        symbol: str | None = None,
        purpose: IntentPurpose | None = None,
        limit: int | None = None,
    ) -> list[StoredIntent]:
        """Newest first."""
        async with self._tx() as s:
            return await orders.intents(
                s, statuses=statuses, symbol=symbol, purpose=purpose, limit=limit
            )

    async def hedge_activity(self, since: datetime) -> tuple[dict[str, datetime], int]:
        """Newest hedge intent per symbol (LOST ones left out: they never reached the venue) and
        the number of hedge intents written after ``since``: two aggregate queries."""
        async with self._tx() as s:
            return await orders.hedge_activity(s, since)

    # venue ledger ---------------------------------------------------------------------------

    async def add_fills(self, fills: Sequence[Fill]) -> int:
        """Idempotent on trade_id; returns how many fills were new. The hedge is taken from our
        intent with the same client (or venue) order id."""
        async with self._tx() as s:
            return await ledger.add_fills(s, self._dialect, fills)

    async def known_trade_ids(self, trade_ids: Collection[str]) -> set[str]:
        """Which of these venue trade ids are already stored (to tell new fills from re-reads)."""
        async with self._tx() as s:
            return await ledger.known_trade_ids(s, trade_ids)

    async def add_funding(self, payments: Sequence[FundingPayment]) -> int:
        """Idempotent on payment_id; returns how many payments were new."""
        async with self._tx() as s:
            return await ledger.add_funding(s, self._dialect, payments)

    async def fills(
        self, *, symbol: str | None = None, since: datetime | None = None, limit: int | None = None
    ) -> list[StoredFill]:
        """Oldest first (ledger order); ``limit`` keeps the newest ones."""
        async with self._tx() as s:
            return await ledger.fills(s, symbol=symbol, since=since, limit=limit)

    async def funding(
        self, *, symbol: str | None = None, since: datetime | None = None, limit: int | None = None
    ) -> list[FundingPayment]:
        """Oldest first (ledger order); ``limit`` keeps the newest ones."""
        async with self._tx() as s:
            return await ledger.funding(s, symbol=symbol, since=since, limit=limit)

    async def add_marks(self, marks: Sequence[MarkRecord]) -> int:
        """Mark-to-market snapshots; idempotent on (hedge, symbol, ts). Returns how many are new."""
        async with self._tx() as s:
            return await ledger.add_marks(s, self._dialect, marks)

    async def marks(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        hedge: str | None = None,
    ) -> list[MarkRecord]:
        """Oldest first; with ``hedge``, that hedge's rows and the account rows."""
        async with self._tx() as s:
            return await ledger.marks(s, since=since, until=until, hedge=hedge)

    async def add_bars(self, symbol: str, timeframe: str, bars: Sequence[Bar]) -> int:
        """Upsert on (symbol, timeframe, ts); returns how many bars were new."""
        async with self._tx() as s:
            return await ledger.add_bars(s, self._dialect, symbol, timeframe, bars)

    async def bars(
        self,
        symbol: str,
        timeframe: str,
        *,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Bar]:
        """Oldest first; ``limit`` keeps the newest ones."""
        async with self._tx() as s:
            return await ledger.bars(s, symbol, timeframe, since=since, limit=limit)

    # events and state -----------------------------------------------------------------------

    async def add_event(
        self,
        kind: str,
        message: str,
        *,
        level: str = "info",
        cycle: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        row = EventRow(
            ts=self._clock(), cycle=cycle, level=level, kind=kind, message=message, data=data or {}
        )
        async with self._tx() as s:
            s.add(row)

    async def events(
        self, *, kind: str | None = None, limit: int | None = None
    ) -> list[StoredEvent]:
        """Newest first."""
        async with self._tx() as s:
            return await journal.events(s, kind=kind, limit=limit)

    async def trading_state(self) -> tuple[TradingState, str]:
        """(ACTIVE, "") until a state was ever set."""
        async with self._tx() as s:
            return await state.trading_state(s)

    async def set_trading_state(self, trading_state: TradingState, reason: str) -> None:
        async with self._tx() as s:
            await state.set_trading_state(s, self._dialect, trading_state, reason, self._clock())

    async def get_cursor(self, name: str) -> str | None:
        async with self._tx() as s:
            return await state.get_cursor(s, name)

    async def set_cursor(self, name: str, value: str) -> None:
        async with self._tx() as s:
            await state.set_cursor(s, self._dialect, name, value)

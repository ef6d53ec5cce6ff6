"""The store's transactions and a cycle's own methods (issue 10.4): a steady cycle reads in one
transaction and writes in one, through Core statements built once (``journal``, ``orders``,
``state``); building, keying and ORM-loading statements cost more than SQLite running them.

A cycle recorded with no intents may be held back (``record_cycle(defer=True)``) and written with
the store's next transaction, usually its ``finish_cycle`` (then as one INSERT, finished). Nothing
is sent on such a record (an order is always written ahead in the record's own transaction), and
every transaction writes a held record first, so nothing stored can refer to a cycle row not yet
written, and a cycle's number is taken once its row or anything naming it is stored."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.store import journal, orders, state
from bot.store.errors import StoreConflict
from bot.store.records import CycleReads, CycleRecord

Clock = Callable[[], datetime]
Held = tuple[CycleRecord, datetime]  # a record and when record_cycle was called


@contextmanager
def _plain_errors() -> Iterator[None]:
    try:
        yield
    except StatementError as exc:
        # a value our column types refused (naive datetime, float money): raise it plainly,
        # not wrapped in SQL text
        if not isinstance(exc, DBAPIError) and isinstance(exc.orig, TypeError | ValueError):
            raise exc.orig from None
        raise


class _Unwritable(StoreConflict):
    """A held cycle record the database refuses (its number taken): dropped, not retried."""

    def __init__(self, what: str, exc: IntegrityError) -> None:
        super().__init__(str(conflict(what, exc)))


def conflict(what: str, exc: IntegrityError) -> StoreConflict:
    # the driver's message names the constraint; the SQL and parameters are left out
    first = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
    return StoreConflict(f"{what} not recorded: {first}")


class CycleTransactions:
    """Base of ``bot.store.repo.Store``: its transactions, and the methods of a cycle."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._held: Held | None = None
        self._writing = asyncio.Lock()  # held by a transaction writing the held record

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncSession]:
        """An ORM session in a transaction (queries that load or add mapped rows)."""
        async with self._claimed() as held, self._sessions() as session, session.begin():
            await self._write_held(session, held)
            yield session

    @asynccontextmanager
    async def _core(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, for Core statements: no ORM session to set up."""
        async with self._claimed() as held, self._engine.begin() as conn:
            await self._write_held(conn, held)
            yield conn

    @asynccontextmanager
    async def _claimed(self) -> AsyncIterator[Held | None]:
        """The held record, taken by one transaction (the alert watcher's run beside the cycle's
        own: only one of them writes it); given back if that transaction does not commit.
        ``finish_cycle`` waits while another transaction writes it (``_writing``)."""
        held, self._held = self._held, None
        async with self._writing if held is not None else contextlib.nullcontext():
            try:
                with _plain_errors():
                    yield held
            except _Unwritable:
                raise
            except BaseException:
                if held is not None and self._held is None:
                    self._held = held  # not written: still owed
                raise

    async def _write_held(self, conn: journal.Conn, held: Held | None, finish: Any = None) -> None:
        if held is None:
            return
        record, at = held
        try:
            await journal.add_cycle(conn, record, at, finish)
        except IntegrityError as exc:  # it can never be written: not given back
            raise _Unwritable(f"cycle {record.number}", exc) from exc

    async def _flush_held(self) -> None:
        """Write a held cycle record now (``close`` does: a cycle cut short says "started")."""
        if self._held is not None:
            async with self._core():
                pass

    async def cycle_reads(
        self, cursor: str, since: datetime, newest_since: datetime | None = None
    ) -> CycleReads:
        """``cycle_start``, the intents reconcile checks (OPEN_STATUSES, as IntentRefs) and
        ``hedge_activity(since)``, in one transaction of three statements. ``newest_since``: the
        newest hedge intent per symbol only if written after it (see orders.hedge_activity)."""
        async with self._core() as c:
            number, trading_state, reason, value = await state.cycle_head(c, cursor)
            pending = await orders.open_intents(c)
            last_at, recent = await orders.hedge_activity(c, since, newest_since)
        return CycleReads(number, trading_state, reason, value, pending, last_at, recent)

    async def record_cycle(self, record: CycleRecord, *, defer: bool = False) -> None:
        """The cycle row (outcome "started"), its targets, its intents (PENDING), rejections and
        events, all or nothing. Raises StoreConflict on a duplicate cycle or client order id.
        ``defer``: a record without intents may wait for the next transaction (see above)."""
        if defer and not record.intents and self._held is None:
            self._held = (record, self._clock())
            return
        try:
            async with self._core() as c:
                await journal.add_cycle(c, record, self._clock())
        except IntegrityError as exc:
            raise conflict(f"cycle {record.number}", exc) from exc

    async def finish_cycle(self, number: int, outcome: str, summary: dict[str, Any]) -> None:
        """Raises NotFound when the cycle was never recorded."""
        async with self._writing:  # another transaction writing the held record: its end
            pass
        held = self._held
        if held is None or held[0].number != number:
            async with self._core() as c:
                await journal.finish_cycle(c, number, outcome, summary, self._clock())
            return
        async with self._claimed() as mine, self._engine.begin() as c:  # written finished
            await self._write_held(c, mine, (self._clock(), outcome, summary))

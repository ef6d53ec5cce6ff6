"""Observe: one Snapshot from concurrent reads. The number of requests does not grow with the
number of hedges: balances once, positions once, tickers once per category (inside the adapter),
funding from the same tickers, open orders once for all perps."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.domain import Bar, FundingRate, MarketInfo, Snapshot, frozen_map
from bot.errors import FatalExchangeError
from bot.exchange.port import ExchangePort


async def read_concurrently(*reads: Coroutine[Any, Any, Any]) -> list[Any]:
    """Run reads together; if any fails, cancel the rest and raise that one error itself (the
    most severe first: a fatal one over a transient one), not an ExceptionGroup, so callers can
    handle the project's error classes as they are.

    Each read is first stepped in place, as its task would be: reads that finish without waiting
    (a backtest's in-process venue: some ten a cycle) need no task and no turn of the loop. From
    the first read that waits, it and the rest run as tasks of one group."""
    results: list[Any] = []
    errors: list[BaseException] = []
    for i, read in enumerate(reads):
        try:
            waiting = read.send(None)
        except StopIteration as done:
            results.append(done.value)
            continue
        except Exception as exc:  # a task would fail: its group collects every error
            errors.append(exc)
            results.append(None)
            continue
        except BaseException:
            for rest in reads[i + 1 :]:
                rest.close()
            raise
        return await _as_tasks(results, errors, _Carried(read, waiting), reads[i + 1 :])
    if errors:
        raise _worst(errors) from None
    return results


async def _as_tasks(
    results: list[Any],
    errors: list[BaseException],
    waiting: Coroutine[Any, Any, Any],
    rest: Sequence[Coroutine[Any, Any, Any]],
) -> list[Any]:
    """The reads from the first one that waits; an earlier read's error fails the group as it
    would have (the others cancelled)."""
    try:
        async with asyncio.TaskGroup() as tg:
            for exc in errors:
                tg.create_task(_raise(exc))
            tasks = [tg.create_task(waiting), *(tg.create_task(r) for r in rest)]
    except BaseExceptionGroup as group:
        raise _worst(group.exceptions) from None
    return [*results, *(t.result() for t in tasks)]


def _worst(errors: Sequence[BaseException]) -> BaseException:
    leaves = list(_leaves(errors))
    fatal = [e for e in leaves if isinstance(e, FatalExchangeError)]
    return (fatal or leaves)[0]


def _leaves(errors: Sequence[BaseException]) -> Iterator[BaseException]:
    for exc in errors:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc.exceptions)
        else:
            yield exc


async def _raise(exc: BaseException) -> None:
    raise exc


class _Carried(Coroutine[Any, Any, Any]):
    """A read that took its first step and waits for ``waiting`` (the future it yielded), as a
    coroutine for a task to carry on: the task's first step gets that future back; what it sends
    or throws in later goes on to the read, a cancellation before that first step too (an
    ``async def`` wrapper would drop it and leave the read suspended, not cancelled)."""

    def __init__(self, read: Coroutine[Any, Any, Any], waiting: Any) -> None:
        self._read, self._waiting, self._started = read, waiting, False

    def send(self, value: Any) -> Any:
        if not self._started:
            self._started = True
            return self._waiting
        return self._read.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        self._started = True
        return self._read.throw(typ if val is None else val)

    def close(self) -> None:
        self._read.close()

    def __await__(self) -> Any:  # awaited directly: the same steps, as an iterator
        return self

    def __next__(self) -> Any:
        return self.send(None)


async def observe(
    port: ExchangePort,
    *,
    now: datetime,
    markets: Mapping[str, MarketInfo],
    perp_symbols: Sequence[str],
    spot_symbols: Sequence[str],
    history: Mapping[str, tuple[Bar, ...]] | None = None,
    funding_history: Mapping[str, tuple[FundingRate, ...]] | None = None,
) -> Snapshot:
    # the open-order listing first: on a large account it is the one read that pages, each page
    # waiting for the one before; asked first, it is answered first and its next page goes sooner
    open_orders, balances, positions, tickers, funding = await read_concurrently(
        port.fetch_open_orders(None),
        port.fetch_balances(),
        port.fetch_positions(),
        port.fetch_tickers([*perp_symbols, *spot_symbols]),
        port.fetch_funding_rates(perp_symbols),
    )
    return Snapshot(
        ts=now,
        balances=frozen_map(balances),
        positions=frozen_map({s: p for s, p in positions.items() if p.size != 0}),
        tickers=frozen_map(tickers),
        funding=frozen_map(funding),
        markets=frozen_map(markets),
        open_orders=tuple(open_orders),
        history=frozen_map(history),
        funding_history=frozen_map(funding_history),
    )

"""Observe: one Snapshot from concurrent reads. The number of requests does not grow with the
number of hedges: balances once, positions once, tickers once per category (inside the adapter),
funding from the same tickers, open orders once for all perps."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Coroutine, Generator, Iterator, Mapping, Sequence
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
        return await _as_tasks(results, errors, _resume(read, waiting), reads[i + 1 :])
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


async def _resume(read: Coroutine[Any, Any, Any], waiting: Any) -> Any:
    return await _carry_on(read, waiting)


@types.coroutine
def _carry_on(read: Coroutine[Any, Any, Any], waiting: Any) -> Generator[Any, None, Any]:
    """A read that took its first step and yielded ``waiting`` (the future it waits for), carried
    on by the task that awaits this: what the task sends or throws in goes on to the read."""
    while True:
        try:
            yield waiting
        except BaseException as exc:  # a cancellation, above all
            try:
                waiting = read.throw(exc)
            except StopIteration as done:
                return done.value
            continue
        try:
            waiting = read.send(None)
        except StopIteration as done:
            return done.value


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
    balances, positions, tickers, funding, open_orders = await read_concurrently(
        port.fetch_balances(),
        port.fetch_positions(),
        port.fetch_tickers([*perp_symbols, *spot_symbols]),
        port.fetch_funding_rates(perp_symbols),
        port.fetch_open_orders(None),
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

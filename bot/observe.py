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
    handle the project's error classes as they are."""
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(r) for r in reads]
    except BaseExceptionGroup as group:
        errors = list(_leaves(group))
        fatal = [e for e in errors if isinstance(e, FatalExchangeError)]
        raise (fatal or errors)[0] from None
    return [t.result() for t in tasks]


def _leaves(group: BaseExceptionGroup) -> Iterator[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc


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

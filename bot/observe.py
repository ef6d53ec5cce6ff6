"""Observe: one Snapshot from concurrent reads. The number of requests does not grow with the
number of hedges: balances once, positions once, tickers once per category (inside the adapter),
funding from the same tickers, open orders once for all perps."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.domain import Bar, FundingRate, MarketInfo, Snapshot, frozen_map
from bot.exchange.port import ExchangePort


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
    async with asyncio.TaskGroup() as tg:
        balances = tg.create_task(port.fetch_balances())
        positions = tg.create_task(port.fetch_positions())
        tickers = tg.create_task(port.fetch_tickers([*perp_symbols, *spot_symbols]))
        funding = tg.create_task(port.fetch_funding_rates(perp_symbols))
        open_orders = tg.create_task(port.fetch_open_orders(None))
    return Snapshot(
        ts=now,
        balances=frozen_map(balances.result()),
        positions=frozen_map({s: p for s, p in positions.result().items() if p.size != 0}),
        tickers=frozen_map(tickers.result()),
        funding=frozen_map(funding.result()),
        markets=frozen_map(markets),
        open_orders=tuple(open_orders.result()),
        history=frozen_map(history),
        funding_history=frozen_map(funding_history),
    )

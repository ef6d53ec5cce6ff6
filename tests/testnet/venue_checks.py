"""Checks shared by the opt-in testnet tests: read-only calls, and (HEDGEBOT_TESTNET_TRADE=1) one
tiny resting order far from the market, looked up and cancelled."""

from __future__ import annotations

import os
import time
from decimal import ROUND_UP, Decimal

from bot.domain import IntentStatus, MarketKind, OrderIntent, OrderKind, OrderState, Side
from bot.exchange.port import ExchangePort

TRADE_FLAG = "HEDGEBOT_TESTNET_TRADE"


def trading_enabled() -> bool:
    return os.environ.get(TRADE_FLAG) == "1"


async def read_only(port: ExchangePort, perp: str, spot: str) -> None:
    markets = await port.load_markets()
    assert markets[perp].kind == MarketKind.PERP and markets[spot].kind == MarketKind.SPOT
    assert markets[perp].amount_step > 0 and markets[perp].price_tick > 0
    balances = await port.fetch_balances()
    assert all(b.total >= 0 for b in balances.values())
    positions = await port.fetch_positions()
    assert all(p.size != 0 for p in positions.values())
    tickers = await port.fetch_tickers([perp, spot])
    assert tickers[perp].price is not None and tickers[perp].price > 0
    assert tickers[spot].price is not None and tickers[spot].price > 0
    funding = await port.fetch_funding_rates([perp])
    assert perp in funding
    await port.fetch_open_orders(None)


async def tiny_order_round_trip(port: ExchangePort, perp: str) -> None:
    market = (await port.load_markets())[perp]
    mark = (await port.fetch_tickers([perp]))[perp].price
    assert mark is not None
    # half the mark: rests, never fills; sized to the venue's minimum quantity and notional
    price = (mark / 2 / market.price_tick).to_integral_value() * market.price_tick
    steps = max(market.min_notional * Decimal("1.1"), Decimal(0)) / price / market.amount_step
    qty = max(market.min_qty, steps.to_integral_value(rounding=ROUND_UP) * market.amount_step)
    cid = f"hbtest-{int(time.time())}"
    intent = OrderIntent(cid, "testnet", 0, perp, Side.BUY, qty, OrderKind.LIMIT, price=price)
    ack = await port.create_order(intent)
    assert ack.status == IntentStatus.OPEN
    try:
        report = await port.fetch_order(perp, cid)
        assert report is not None and report.state == OrderState.OPEN
    finally:
        assert await port.cancel_order(perp, cid) is True
    cancelled = await port.fetch_order(perp, cid)
    assert cancelled is not None and cancelled.state == OrderState.CANCELLED

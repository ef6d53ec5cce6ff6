"""Small builders for domain objects used across unit tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bot.domain import (
    Balance,
    MarketInfo,
    MarketKind,
    PerpPosition,
    Snapshot,
    Ticker,
    frozen_map,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
D = Decimal


def perp_market(base: str = "BTC", step: str = "0.001", min_notional: str = "5") -> MarketInfo:
    return MarketInfo(
        symbol=f"{base}/USDT:USDT",
        venue_id=f"{base}USDT",
        base=base,
        quote="USDT",
        kind=MarketKind.PERP,
        amount_step=D(step),
        min_qty=D(step),
        min_notional=D(min_notional),
        price_tick=D("0.1"),
        max_leverage=D(100),
        settle="USDT",
    )


def spot_market(base: str = "BTC", step: str = "0.000001") -> MarketInfo:
    return MarketInfo(
        symbol=f"{base}/USDT",
        venue_id=f"{base}USDT",
        base=base,
        quote="USDT",
        kind=MarketKind.SPOT,
        amount_step=D(step),
        min_qty=D(step),
        min_notional=D(1),
        price_tick=D("0.01"),
    )


def snapshot(
    *,
    spot: dict[str, str] | None = None,
    positions: dict[str, str] | None = None,
    prices: dict[str, str] | None = None,
    usdt: str = "100000",
    liq: dict[str, str] | None = None,
    ts: datetime = T0,
    open_orders: tuple = (),
) -> Snapshot:
    prices = prices or {"BTC": "50000", "ETH": "3000"}
    markets = {}
    tickers = {}
    for base, px in prices.items():
        for m in (perp_market(base), spot_market(base)):
            markets[m.symbol] = m
            mark = D(px) if m.kind == MarketKind.PERP else None
            tickers[m.symbol] = Ticker(m.symbol, D(px), D(px), D(px), mark=mark, ts=ts)
    balances = {"USDT": Balance("USDT", D(usdt), D(0), D(usdt))}
    for asset, qty in (spot or {}).items():
        balances[asset] = Balance(asset, D(qty), D(0), D(qty))
    pos = {}
    for symbol, size in (positions or {}).items():
        base = symbol.split("/")[0]
        mark = D(prices[base])
        liq_px = D((liq or {}).get(symbol, str(mark * 3)))
        pos[symbol] = PerpPosition(
            symbol,
            D(size),
            mark,
            mark,
            liquidation_price=liq_px,
            maintenance_margin=abs(D(size)) * mark * D("0.005"),
        )
    return Snapshot(
        ts=ts,
        balances=frozen_map(balances),
        positions=frozen_map(pos),
        tickers=frozen_map(tickers),
        markets=frozen_map(markets),
        open_orders=open_orders,
    )

"""Pure functions from ccxt unified structures (plain dicts) to bot.domain market data:
markets, balances, positions, tickers, funding rates and bars.

Numbers become Decimal through ``str()``, never through float arithmetic, and the raw ``info``
strings are preferred where ccxt's float parsing could lose digits (Bybit ``size``, ``avgPrice``,
``walletBalance``, ...). Perp quantities are contracts times contractSize, signed (short < 0).
Orders, fills and funding payments: ccxt_order_mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain import (
    ZERO,
    Balance,
    Bar,
    FundingRate,
    MarketInfo,
    MarketKind,
    PerpPosition,
    Ticker,
)
from bot.exchange.ccxt_values import (
    ONE,
    Raw,
    dec,
    first_dec,
    ms_to_datetime,
    nested,
    positive_or_none,
)


def market_kind(market: Raw) -> MarketKind | None:
    """SPOT, PERP (linear perpetual swap) or None for everything the bot does not trade."""
    if market.get("spot"):
        return MarketKind.SPOT
    if market.get("swap") and market.get("linear"):
        return MarketKind.PERP
    return None


def to_market(market: Raw) -> MarketInfo | None:
    kind = market_kind(market)
    if kind is None or market.get("active") is False:
        return None
    info = market.get("info") or {}
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    lot = nested(info, "lotSizeFilter") or {}
    price_filter = nested(info, "priceFilter") or {}
    step = first_dec(lot, ("qtyStep", "basePrecision"), precision.get("amount"))
    tick = first_dec(price_filter, ("tickSize",), precision.get("price"))
    min_qty = first_dec(lot, ("minOrderQty",), nested(limits, "amount", "min"))
    min_notional = first_dec(
        lot, ("minNotionalValue", "minOrderAmt"), nested(limits, "cost", "min")
    )
    max_leverage = first_dec(
        nested(info, "leverageFilter"), ("maxLeverage",), nested(limits, "leverage", "max")
    )
    contract_size = dec(market.get("contractSize")) if kind == MarketKind.PERP else None
    return MarketInfo(
        symbol=str(market["symbol"]),
        venue_id=str(market.get("id") or ""),
        base=str(market.get("base") or ""),
        quote=str(market.get("quote") or ""),
        kind=kind,
        amount_step=step or ZERO,
        min_qty=min_qty or ZERO,
        min_notional=min_notional or ZERO,
        price_tick=tick or ZERO,
        contract_size=contract_size or ONE,
        max_leverage=max_leverage or ONE,
        settle=market.get("settle") if kind == MarketKind.PERP else None,
    )


def to_balances(balance: Raw) -> dict[str, Balance]:
    """Bybit UTA rows are read raw (total=walletBalance, used=locked+IMs), as ccxt does in
    floats; other venues through ccxt's free/used/total."""
    out: dict[str, Balance] = {}
    rows = nested(balance, "info", "result", "list") or []
    for account in rows:
        for coin in (account or {}).get("coin") or []:
            total = dec(coin.get("walletBalance"))
            if not coin.get("coin") or total is None:
                continue
            used = sum(
                (dec(coin.get(k)) or ZERO for k in ("locked", "totalPositionIM", "totalOrderIM")),
                ZERO,
            )
            out[str(coin["coin"])] = Balance(str(coin["coin"]), total - used, used, total)
    if out:
        return out
    totals = balance.get("total") or {}
    for asset, total_value in totals.items():
        total = dec(total_value)
        if total is None:
            continue
        free_in = dec((balance.get("free") or {}).get(asset))
        used_in = dec((balance.get("used") or {}).get(asset))
        if free_in is not None:
            free, used = free_in, used_in if used_in is not None else total - free_in
        else:
            used = used_in if used_in is not None else ZERO
            free = total - used
        out[str(asset)] = Balance(str(asset), free, used, total)
    return out


def to_position(position: Raw, market: MarketInfo) -> PerpPosition:
    info = position.get("info") or {}
    contracts = first_dec(info, ("size",), position.get("contracts"))
    if contracts is None:
        amount = dec(info.get("positionAmt"))
        contracts = abs(amount) if amount is not None else ZERO
    size = abs(contracts) * market.contract_size
    side = position.get("side") or _raw_side(info.get("side"))
    signed_amount = dec(info.get("positionAmt"))
    if side == "short" or (side is None and signed_amount is not None and signed_amount < 0):
        size = -size
    return PerpPosition(
        symbol=market.symbol,
        size=size,
        entry_price=first_dec(info, ("avgPrice", "entryPrice"), position.get("entryPrice")) or ZERO,
        mark_price=first_dec(info, ("markPrice",), position.get("markPrice")) or ZERO,
        liquidation_price=positive_or_none(
            first_dec(info, ("liqPrice", "liquidationPrice"), position.get("liquidationPrice"))
        ),
        unrealized_pnl=first_dec(
            info, ("unrealisedPnl", "unRealizedProfit"), position.get("unrealizedPnl")
        )
        or ZERO,
        leverage=positive_or_none(first_dec(info, ("leverage",), position.get("leverage"))),
        initial_margin=first_dec(
            info, ("positionIM", "initialMargin"), position.get("initialMargin")
        )
        or ZERO,
        maintenance_margin=first_dec(
            info, ("positionMM", "maintMargin"), position.get("maintenanceMargin")
        )
        or ZERO,
    )


def _raw_side(side: Any) -> str | None:
    return {"Buy": "long", "Sell": "short"}.get(str(side)) if side else None


def to_ticker(ticker: Raw, symbol: str) -> Ticker:
    info = ticker.get("info") or {}
    return Ticker(
        symbol=symbol,
        bid=positive_or_none(first_dec(info, ("bid1Price", "bidPrice"), ticker.get("bid"))),
        ask=positive_or_none(first_dec(info, ("ask1Price", "askPrice"), ticker.get("ask"))),
        last=positive_or_none(first_dec(info, ("lastPrice",), ticker.get("last"))),
        mark=positive_or_none(first_dec(info, ("markPrice",), ticker.get("markPrice"))),
        index=positive_or_none(first_dec(info, ("indexPrice",), ticker.get("indexPrice"))),
        ts=ms_to_datetime(ticker.get("timestamp")),
    )


def funding_from_ticker(ticker: Raw, symbol: str, interval_hours: int) -> FundingRate | None:
    info = ticker.get("info") or {}
    rate = first_dec(info, ("fundingRate", "lastFundingRate"), ticker.get("fundingRate"))
    if rate is None:
        return None
    next_time = info.get("nextFundingTime") or ticker.get("fundingTimestamp")
    return FundingRate(symbol, rate, ms_to_datetime(next_time), interval_hours)


def interval_hours(market: Raw, default: int = 8) -> int:
    """Funding interval from the market (Bybit ``fundingInterval`` is in minutes)."""
    minutes = dec(nested(market, "info", "fundingInterval"))
    if minutes is None or minutes <= 0:
        return default
    return max(1, int(minutes / 60))


def to_bar(row: Sequence[Any]) -> Bar | None:
    ts = ms_to_datetime(row[0]) if row else None
    values = [dec(v) for v in row[1:6]]
    if ts is None or len(values) < 5 or any(v is None for v in values):
        return None
    o, h, low, c, v = (x if x is not None else ZERO for x in values)
    return Bar(ts, o, h, low, c, v)


def to_funding_history(entry: Raw, symbol: str, hours: int) -> FundingRate | None:
    info = entry.get("info") or {}
    rate = first_dec(info, ("fundingRate",), entry.get("fundingRate"))
    if rate is None:
        return None
    ts = ms_to_datetime(info.get("fundingRateTimestamp") or entry.get("timestamp"))
    return FundingRate(symbol, rate, ts, hours)

"""Pure functions from ccxt unified structures (plain dicts) to bot.domain types.

Numbers become Decimal through ``str()``, never through float arithmetic, and the raw ``info``
strings are preferred where ccxt's float parsing could lose digits (Bybit ``size``, ``avgPrice``,
``execQty``, ``execPrice``, ``execFee``, ...). Perp quantities are contracts times contractSize,
signed (a short is negative).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.domain import (
    ZERO,
    Balance,
    Bar,
    Fill,
    FundingPayment,
    FundingRate,
    MarketInfo,
    MarketKind,
    OpenOrder,
    OrderKind,
    OrderReport,
    OrderState,
    PerpPosition,
    Side,
    Ticker,
)

ONE = Decimal(1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Raw = Mapping[str, Any]


def dec(value: Any) -> Decimal | None:
    """A finite Decimal from a string, int or float (via its shortest repr); None if absent."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    text = str(value).strip()
    if not text:
        return None
    try:
        out = Decimal(text)
    except InvalidOperation:
        return None
    return out if out.is_finite() else None


def first_dec(info: Raw | None, keys: Sequence[str], fallback: Any = None) -> Decimal | None:
    """The first raw ``info`` field that holds a number, else the unified fallback."""
    if info:
        for key in keys:
            value = dec(info.get(key))
            if value is not None:
                return value
    return dec(fallback)


def positive_or_none(value: Decimal | None) -> Decimal | None:
    """Venues send "0" or "" for "no price" (market order price, no liquidation price)."""
    return value if value is not None and value > 0 else None


def ms_to_datetime(ms: Any) -> datetime | None:
    value = dec(ms)
    if value is None:
        return None
    whole = int(value)  # exact: no float division of a 13-digit millisecond count
    return EPOCH + timedelta(milliseconds=whole)


def datetime_to_ms(ts: datetime) -> int:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return (ts - EPOCH) // timedelta(milliseconds=1)


def _nested(info: Raw | None, *path: str) -> Any:
    node: Any = info
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


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
    lot = _nested(info, "lotSizeFilter") or {}
    price_filter = _nested(info, "priceFilter") or {}
    step = first_dec(lot, ("qtyStep", "basePrecision"), precision.get("amount"))
    tick = first_dec(price_filter, ("tickSize",), precision.get("price"))
    min_qty = first_dec(lot, ("minOrderQty",), _nested(limits, "amount", "min"))
    min_notional = first_dec(
        lot, ("minNotionalValue", "minOrderAmt"), _nested(limits, "cost", "min")
    )
    max_leverage = first_dec(
        _nested(info, "leverageFilter"), ("maxLeverage",), _nested(limits, "leverage", "max")
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
    rows = _nested(balance, "info", "result", "list") or []
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
    minutes = dec(_nested(market, "info", "fundingInterval"))
    if minutes is None or minutes <= 0:
        return default
    return max(1, int(minutes / 60))


_STATE = {
    "open": OrderState.OPEN,
    "closed": OrderState.CLOSED,
    "canceled": OrderState.CANCELLED,
    "cancelled": OrderState.CANCELLED,
    "expired": OrderState.CANCELLED,
    "rejected": OrderState.REJECTED,
}
# raw statuses whose unified mapping hides what happened
_RAW_STATE = {
    "PartiallyFilledCanceled": OrderState.CANCELLED,
    "Deactivated": OrderState.CANCELLED,
    "Triggered": OrderState.OPEN,
}
_NO_REASON = {"", "EC_NoError", "UNKNOWN", "CancelByUser"}


def order_state(order: Raw) -> OrderState:
    raw = _RAW_STATE.get(str((order.get("info") or {}).get("orderStatus")))
    if raw is not None:
        return raw
    return _STATE.get(str(order.get("status") or "open").lower(), OrderState.OPEN)


def _order_qty(order: Raw, contract_size: Decimal) -> tuple[Decimal, Decimal]:
    info = order.get("info") or {}
    filled = first_dec(info, ("cumExecQty", "executedQty"), order.get("filled")) or ZERO
    qty = first_dec(info, ("qty", "origQty", "quantity"), order.get("amount"))
    if qty is None or qty <= 0:
        leaves = first_dec(info, ("leavesQty",), order.get("remaining")) or ZERO
        qty = filled + leaves
    return qty * contract_size, filled * contract_size


def trigger_price(order: Raw) -> Decimal | None:
    info = order.get("info") or {}
    return positive_or_none(
        first_dec(info, ("triggerPrice", "stopPrice"), order.get("triggerPrice"))
    )


def client_id(order: Raw) -> str | None:
    info = order.get("info") or {}
    value = (
        order.get("clientOrderId")
        or info.get("orderLinkId")
        or info.get("clientOrderId")
        or info.get("clientAlgoId")
    )
    return str(value) if value else None


def to_open_order(order: Raw, market: MarketInfo) -> OpenOrder:
    info = order.get("info") or {}
    qty, filled = _order_qty(order, market.contract_size)
    trigger = trigger_price(order)
    kind = (
        OrderKind.STOP_MARKET
        if trigger is not None
        else OrderKind.LIMIT
        if str(order.get("type")).lower() == "limit"
        else OrderKind.MARKET
    )
    price = positive_or_none(first_dec(info, ("price",), order.get("price")))
    return OpenOrder(
        symbol=market.symbol,
        venue_order_id=str(order.get("id")),
        client_order_id=client_id(order),
        side=Side(str(order.get("side")).lower()),
        kind=kind,
        qty=qty,
        filled=filled,
        reduce_only=bool(order.get("reduceOnly") or info.get("reduceOnly")),
        price=price if kind == OrderKind.LIMIT else None,
        trigger_price=trigger,
    )


def to_order_report(order: Raw, market: MarketInfo) -> OrderReport:
    info = order.get("info") or {}
    qty, filled = _order_qty(order, market.contract_size)
    state = order_state(order)
    reason = None
    if state in (OrderState.CANCELLED, OrderState.REJECTED):
        for key in ("rejectReason", "cancelType"):
            text = str(info.get(key) or "")
            if text not in _NO_REASON:
                reason = text
                break
    return OrderReport(
        symbol=market.symbol,
        venue_order_id=str(order.get("id")),
        client_order_id=client_id(order),
        state=state,
        qty=qty,
        filled=filled,
        average_price=positive_or_none(first_dec(info, ("avgPrice",), order.get("average")))
        if filled > 0
        else None,
        reason=reason,
    )


def to_fill(trade: Raw, market: MarketInfo, settle_default: str) -> Fill:
    info = trade.get("info") or {}
    contracts = first_dec(info, ("execQty", "qty"), trade.get("amount")) or ZERO
    fee = trade.get("fee") or {}
    fee_amount = first_dec(info, ("execFee", "commission"), fee.get("cost")) or ZERO
    fee_asset = info.get("feeCurrency") or info.get("commissionAsset") or fee.get("currency") or ""
    ts = ms_to_datetime(trade.get("timestamp") or info.get("execTime") or info.get("time"))
    return Fill(
        trade_id=str(trade.get("id") or info.get("execId")),
        venue_order_id=str(trade.get("order") or info.get("orderId") or ""),
        client_order_id=client_id(trade),
        symbol=market.symbol,
        side=Side(str(trade.get("side")).lower()),
        qty=contracts * market.contract_size,
        price=first_dec(info, ("execPrice", "price"), trade.get("price")) or ZERO,
        fee=fee_amount,
        fee_asset=str(fee_asset or market.settle or settle_default),
        ts=ts or EPOCH,
    )


def to_funding_payment(
    income: Raw, market: MarketInfo, *, amount_field: str, paid_positive: bool
) -> FundingPayment:
    info = income.get("info") or {}
    amount = first_dec(info, (amount_field,), income.get("amount")) or ZERO
    size = first_dec(info, ("execQty",))
    if size is not None:
        size = size * market.contract_size
        if str(info.get("side")) == "Sell":
            size = -size
    return FundingPayment(
        payment_id=str(income.get("id") or info.get("execId") or info.get("tranId")),
        symbol=market.symbol,
        amount=-amount if paid_positive else amount,
        ts=ms_to_datetime(income.get("timestamp") or info.get("execTime")) or EPOCH,
        rate=first_dec(info, ("feeRate",)),
        position_size=size,
    )


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

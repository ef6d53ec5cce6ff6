"""Pure functions from ccxt orders, trades and funding history rows to bot.domain types.

Quantities are contracts times contractSize; the raw Bybit strings (``qty``, ``cumExecQty``,
``avgPrice``, ``execQty``, ``execPrice``, ``execFee``) are read first. Fees are positive when paid;
funding payments positive when received (Bybit's ``execFee`` sign is the opposite, so negated).
"""

from __future__ import annotations

from decimal import Decimal

from bot.domain import (
    ZERO,
    Fill,
    FundingPayment,
    MarketInfo,
    OpenOrder,
    OrderKind,
    OrderReport,
    OrderState,
    Side,
)
from bot.exchange.ccxt_values import EPOCH, Raw, first_dec, ms_to_datetime, positive_or_none

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


def order_kind(order: Raw) -> OrderKind:
    if trigger_price(order) is not None:
        return OrderKind.STOP_MARKET
    return OrderKind.LIMIT if str(order.get("type")).lower() == "limit" else OrderKind.MARKET


def order_side(order: Raw) -> Side | None:
    side = str(order.get("side") or "").lower()
    return Side(side) if side in ("buy", "sell") else None


def to_open_order(order: Raw, market: MarketInfo) -> OpenOrder:
    info = order.get("info") or {}
    qty, filled = _order_qty(order, market.contract_size)
    trigger = trigger_price(order)
    kind = order_kind(order)
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
        side=order_side(order),
        kind=order_kind(order),
        created_at=ms_to_datetime(order.get("timestamp")),
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

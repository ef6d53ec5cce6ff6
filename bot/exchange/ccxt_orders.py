"""Order-side methods of the ccxt adapter: open orders, lookup by client id, create, cancel,
executions, funding payments and leverage.

create_order is sent once. When its outcome is unknown (timeout, dropped connection, 5xx, an
answer without an order id, a "duplicate client id" refusal) the order is looked up by client id
straight away: found -> its ack; not found -> AmbiguousSubmit, left for reconcile.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog
from ccxt.base import errors as ccxt_errors

from bot.domain import (
    Fill,
    FundingPayment,
    IntentStatus,
    MarketKind,
    OpenOrder,
    OrderAck,
    OrderIntent,
    OrderKind,
    OrderReport,
    Side,
)
from bot.errors import AmbiguousSubmit, ExchangeError, OrderNotFound, OrderRejected
from bot.exchange import ccxt_order_mapping as om
from bot.exchange.ccxt_base import PAGE_SIZE, CcxtBase
from bot.exchange.ccxt_values import datetime_to_ms
from bot.exchange.classify import CREATE_ORDER, classify, is_duplicate_client_id
from bot.exchange.found import ack_found

ORDER_PAGE = 50  # Bybit order listings allow up to 50 rows a page
_PERP_TYPE = {"type": "swap", "subType": "linear"}


class CcxtOrders(CcxtBase):
    # -- listings -----------------------------------------------------------------------------

    async def fetch_open_orders(self, symbol: str | None = None) -> Sequence[OpenOrder]:
        await self.load_markets()
        if symbol is None:
            if MarketKind.PERP not in self._kinds:
                return []
            params: dict[str, Any] = {**_PERP_TYPE, **self._profile.perp_listing_params}
        else:
            self._market(symbol)
            params = {}
        variants = [params]
        if not self._profile.listing_includes_triggers:
            variants.append({**params, **self._profile.trigger_params})
        seen: dict[str, OpenOrder] = {}
        for variant in variants:
            rows = await self._pages(
                "fetch_open_orders",
                self._client.fetch_open_orders,
                symbol,
                None,
                ORDER_PAGE,
                params=variant,
                page_size=ORDER_PAGE,
            )
            for row in rows:
                market = self._by_symbol(row.get("symbol"))
                if market is not None and row.get("id") is not None:
                    seen.setdefault(str(row["id"]), om.to_open_order(row, market))
        return list(seen.values())

    async def fetch_order(self, symbol: str, client_order_id: str) -> OrderReport | None:
        await self.load_markets()
        market = self._market(symbol)
        cid_params = {self._profile.client_id_param: client_order_id}
        variants = [cid_params]
        if not self._profile.listing_includes_triggers:
            variants.append({**cid_params, **self._profile.trigger_params})
        if self._profile.fetch_order_by_client_id:
            for variant in variants:
                try:
                    row = await self._read(
                        "fetch_order", self._client.fetch_order, None, symbol, variant
                    )
                except OrderNotFound:
                    continue
                if row and om.client_id(row) in (client_order_id, None):
                    return om.to_order_report(row, market)
            return None
        closed = getattr(self._client, "fetch_canceled_and_closed_orders", None)
        listings = [self._client.fetch_open_orders, closed or self._client.fetch_closed_orders]
        for listing in listings:
            for variant in variants:
                rows = await self._read("fetch_order", listing, symbol, None, None, variant)
                for row in rows:
                    if om.client_id(row) == client_order_id:
                        return om.to_order_report(row, market)
        return None

    # -- create / cancel ----------------------------------------------------------------------

    def _order_args(self, intent: OrderIntent) -> tuple[str, str, float, float | None, dict]:
        market = self._market(intent.symbol)
        # ccxt wants floats; the qty is already on the venue's step, so the repr is exact
        amount = float(intent.qty / market.contract_size)
        params: dict[str, Any] = {"clientOrderId": intent.client_order_id}
        if intent.reduce_only:
            params["reduceOnly"] = True
        price: float | None = None
        if intent.kind == OrderKind.LIMIT:
            if intent.price is None:
                raise OrderRejected("a limit order needs a price", operation=CREATE_ORDER)
            price = float(intent.price)
        elif intent.kind == OrderKind.STOP_MARKET:
            if intent.trigger_price is None:
                raise OrderRejected("a stop order needs a trigger price", operation=CREATE_ORDER)
            params[self._profile.stop_price_param] = float(intent.trigger_price)
            if self._profile.stop_with_direction:
                # a buy stop protects a short: it fires when the price rises through the trigger
                params["triggerDirection"] = "above" if intent.side == Side.BUY else "below"
            params["reduceOnly"] = True
            params.update(self._profile.stop_params)
        order_type = "limit" if intent.kind == OrderKind.LIMIT else "market"
        return intent.symbol, order_type, amount, price, params

    async def create_order(self, intent: OrderIntent) -> OrderAck:
        await self.load_markets()
        symbol, order_type, amount, price, params = self._order_args(intent)
        if self._market(symbol).kind == MarketKind.PERP:
            self._traded.add(symbol)
        cid = intent.client_order_id
        try:
            order = await self._client.create_order(
                symbol, order_type, intent.side.value, amount, price, params
            )
        except Exception as exc:  # classified below; never retried
            if isinstance(exc, ccxt_errors.InvalidNonce):
                await self._resync_clock()  # refused before processing: the next cycle may send
            error = classify(exc, CREATE_ORDER, secrets=self._secrets())
            if isinstance(error, AmbiguousSubmit) or is_duplicate_client_id(exc):
                return await self._resolve(intent, error)
            raise error from None
        if not order or order.get("id") is None:
            error = AmbiguousSubmit(
                "create_order: the venue answered without an order id", operation=CREATE_ORDER
            )
            return await self._resolve(intent, error)
        if str(order.get("status") or "").lower() == "rejected":
            return OrderAck(cid, str(order["id"]), IntentStatus.REJECTED, "rejected by the venue")
        return OrderAck(cid, str(order["id"]), IntentStatus.OPEN)

    async def _resolve(self, intent: OrderIntent, error: ExchangeError) -> OrderAck:
        """The create may or may not have reached the venue: ask it by client id, once. What is
        found there counts only if it is the intended order (``found.ack_found``)."""
        symbol, cid = intent.symbol, intent.client_order_id
        try:
            report = await self.fetch_order(symbol, cid)
        except ExchangeError:
            report = None
        structlog.get_logger().warning(
            "create_order_outcome_unknown",
            symbol=symbol,
            client_order_id=cid,
            error=type(error).__name__,
            found=report is not None,
        )
        if report is None:
            if isinstance(error, AmbiguousSubmit):
                raise error
            raise AmbiguousSubmit(str(error), operation=CREATE_ORDER, code=error.code)
        return ack_found(intent, report, CREATE_ORDER)

    async def cancel_order(self, symbol: str, client_order_id: str) -> bool:
        await self.load_markets()
        self._market(symbol)
        params: dict[str, Any] = {self._profile.client_id_param: client_order_id}
        variants = [params]
        if self._profile.trigger_cancel_separate:
            variants.append({**params, **self._profile.trigger_params})
        for variant in variants:
            try:
                await self._read("cancel_order", self._client.cancel_order, None, symbol, variant)
            except OrderNotFound:
                continue
            return True
        return False

    async def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        await self.load_markets()
        self._market(symbol)
        try:
            # Binance takes an integer leverage only; Bybit accepts either
            value = int(leverage) if leverage == leverage.to_integral_value() else float(leverage)
            await self._read("set_leverage", self._client.set_leverage, value, symbol)
        except ExchangeError as exc:
            if exc.code not in self._profile.leverage_unchanged_codes:
                raise

    # -- executions and funding -----------------------------------------------------------

    def _fill_symbols(self, symbol: str | None) -> Sequence[str | None]:
        if symbol is not None:
            self._market(symbol)
            return [symbol]
        if self._profile.fills_need_symbol:
            return list(sorted(self._traded))
        return [None]

    async def fetch_fills(
        self, symbol: str | None, since: datetime | None, until: datetime | None = None
    ) -> Sequence[Fill]:
        await self.load_markets()
        if symbol is None and MarketKind.PERP not in self._kinds:
            return []
        since_ms = datetime_to_ms(since) if since is not None else None
        fills: dict[str, Fill] = {}
        for sym in self._fill_symbols(symbol):
            params = {**(_PERP_TYPE if sym is None else {}), **_until(until)}
            rows = await self._pages(
                "fetch_fills",
                self._client.fetch_my_trades,
                sym,
                since_ms,
                PAGE_SIZE,
                params=params,
                page_size=PAGE_SIZE,
            )
            for row in rows:
                market = self._by_symbol(row.get("symbol"))
                if market is None or (sym is None and market.kind != MarketKind.PERP):
                    continue
                fill = om.to_fill(row, market, self._profile.settle)
                if _within(fill.ts, since, until):
                    fills[fill.trade_id] = fill
        return sorted(fills.values(), key=lambda f: (f.ts, f.trade_id))

    async def fetch_funding_payments(
        self, symbol: str | None, since: datetime | None, until: datetime | None = None
    ) -> Sequence[FundingPayment]:
        await self.load_markets()
        if symbol is None and MarketKind.PERP not in self._kinds:
            return []
        if symbol is not None:
            self._market(symbol)
        since_ms = datetime_to_ms(since) if since is not None else None
        params = {
            **(_PERP_TYPE if symbol is None else {}),
            **self._page_limit(PAGE_SIZE),
            **_until(until),
        }
        rows = await self._pages(
            "fetch_funding_payments",
            self._client.fetch_funding_history,
            symbol,
            since_ms,
            PAGE_SIZE,
            params=params,
            page_size=PAGE_SIZE,
        )
        payments: dict[str, FundingPayment] = {}
        for row in rows:
            market = self._by_symbol(row.get("symbol"), MarketKind.PERP)
            if market is None:
                continue
            payment = om.to_funding_payment(
                row,
                market,
                amount_field=self._profile.funding_info_field,
                paid_positive=self._profile.funding_paid_positive,
            )
            if _within(payment.ts, since, until):
                payments[payment.payment_id] = payment
        return sorted(payments.values(), key=lambda p: (p.ts, p.payment_id))


def _until(until: datetime | None) -> dict[str, int]:
    # ccxt's unified end of a time range (Bybit: endTime; the span to the start stays <= 7 days)
    return {"until": datetime_to_ms(until)} if until is not None else {}


def _within(ts: datetime, since: datetime | None, until: datetime | None) -> bool:
    # compared in whole milliseconds, as the venue was asked and answers: a bound's sub-millisecond
    # part (the paper venue's clock has one) would drop a row of the very millisecond asked for
    ms = datetime_to_ms(ts)
    return (since is None or ms >= datetime_to_ms(since)) and (
        until is None or ms <= datetime_to_ms(until)
    )

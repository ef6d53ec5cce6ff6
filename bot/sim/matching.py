"""Order matching of the venue model: immediate execution of new and triggered orders, resting
limits, reduce-only clamping, liquidation and funding settlement. Mixed into ``Venue``."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from bot.sim.account import CENT, Account, Position, q8
from bot.sim.book import OrderBook
from bot.sim.errors import INSUFFICIENT_MARGIN, SPOT_INSUFFICIENT, VenueError
from bot.sim.feed_base import PriceFeed
from bot.sim.market_data import MarketData, on_tick
from bot.sim.markets import MarketSpec, VenueConfig
from bot.sim.model import (
    CANCELLED,
    DEACTIVATED,
    FILLED,
    NEW,
    PARTIALLY_FILLED,
    PARTIALLY_FILLED_CANCELED,
    REJECTED,
    TRIGGERED,
    UNTRIGGERED,
    Execution,
    Ids,
    Liquidation,
    OrderRequest,
    SimOrder,
)

ZERO = Decimal(0)


class Matching:
    feed: PriceFeed
    config: VenueConfig
    market: MarketData
    account: Account
    book: OrderBook
    ids: Ids
    now: datetime
    liquidations: list[Liquidation]
    _partial: list[tuple[str | None, Decimal]]

    def _normalise(self, req: OrderRequest, spec: MarketSpec) -> OrderRequest:
        """Spot market buys are sized in quote coin unless marketUnit=baseCoin (Bybit default)."""
        if spec.category != "spot" or req.order_type != "Market" or req.side != "Buy":
            return req
        if (req.market_unit or "quoteCoin") == "baseCoin":
            return req
        price = self.market.market_fill_price(spec, "Buy")
        qty = (req.qty / price / spec.qty_step).to_integral_value(ROUND_FLOOR) * spec.qty_step
        return dataclasses.replace(req, qty=qty, market_unit="baseCoin")

    def _check_funds(
        self, spec: MarketSpec, side: str, qty: Decimal, price: Decimal, reduce_only: bool
    ) -> None:
        orders = self.book.open_orders()
        if spec.category == "linear":
            pos = self.account.positions[spec.symbol]
            closing = (
                min(qty, abs(pos.size)) if pos.size and (side == "Buy") != (pos.size > 0) else ZERO
            )
            required = (
                qty - closing
            ) * price / pos.leverage + qty * price * self.config.perp_taker_fee
            if not reduce_only and required > self.account.available(orders):
                raise VenueError(INSUFFICIENT_MARGIN, "ab not enough for new order")
            return
        if side == "Buy":  # the fee comes out of the coin bought
            free = self.account.wallet.get(spec.quote, ZERO) - self.account.locked(
                spec.quote, orders
            )
            if qty * price > min(free, self.account.available(orders)):
                raise VenueError(SPOT_INSUFFICIENT, "Insufficient balance.")
        elif qty > self.account.wallet.get(spec.base, ZERO) - self.account.locked(
            spec.base, orders
        ):
            raise VenueError(SPOT_INSUFFICIENT, "Insufficient balance.")

    def _take_partial(self, symbol: str) -> Decimal:
        for i, (wanted, ratio) in enumerate(self._partial):
            if wanted in (None, symbol):
                del self._partial[i]
                return ratio
        return Decimal(1)

    def _execute(self, order: SimOrder, spec: MarketSpec) -> None:
        """First matching of a new (or just triggered) order."""
        bid, ask = self.market.bid_ask(spec)
        taker_price = self.market.market_fill_price(spec, order.side)
        if order.order_type == "Limit":
            assert order.price is not None
            marketable = order.price >= ask if order.side == "Buy" else order.price <= bid
            if not marketable:
                if order.time_in_force in ("IOC", "FOK"):
                    self._close(order, CANCELLED, "EC_NoImmediateQtyToFill")
                else:
                    self._lock(order, spec)
                return
            if order.time_in_force == "PostOnly":
                self._close(order, CANCELLED, "EC_PostOnlyWillTakeLiquidity")
                return
            buy = order.side == "Buy"
            taker_price = min(order.price, taker_price) if buy else max(order.price, taker_price)
        ratio = self._take_partial(spec.symbol)
        qty = order.qty
        if ratio < 1:
            qty = (qty * ratio / spec.qty_step).to_integral_value(ROUND_FLOOR) * spec.qty_step
        if qty > 0:
            self._fill(order, spec, qty, taker_price, maker=False)
        if order.is_open and (
            order.order_type == "Market" or order.time_in_force in ("IOC", "FOK")
        ):
            final = PARTIALLY_FILLED_CANCELED if order.cum_qty else CANCELLED
            self._close(order, final, "EC_CancelForNoFullFill")
        elif order.is_open:
            self._lock(order, spec)

    def _lock(self, order: SimOrder, spec: MarketSpec) -> None:
        if spec.category == "spot" and order.price is not None:
            leaves = order.qty - order.cum_qty
            order.locked = leaves * order.price if order.side == "Buy" else leaves

    def _fill(
        self, order: SimOrder, spec: MarketSpec, qty: Decimal, price: Decimal, maker: bool
    ) -> None:
        pos = self.account.positions.get(spec.symbol) if spec.category == "linear" else None
        if pos is not None and order.reduce_only:
            closable = (
                abs(pos.size) if pos.size and (order.side == "Buy") != (pos.size > 0) else ZERO
            )
            if qty > closable:  # Bybit shrinks a reduce-only order to the position left
                order.qty = order.cum_qty + closable
                qty = closable
            if not qty:
                self._close(
                    order,
                    DEACTIVATED if order.is_conditional else CANCELLED,
                    "EC_ReduceOnlyPositionSizeZero",
                )
                return
        fee_rate = self.config.fee_rate(spec.category, maker)
        # a spot buy pays its fee in the coin received (base), as Bybit does for positive rates
        base_fee = spec.category == "spot" and order.side == "Buy"
        fee = qty * fee_rate if base_fee else q8(qty * price * fee_rate)
        closed = ZERO
        if pos is not None:
            signed = qty if order.side == "Buy" else -qty
            closed = self.account.apply_perp_trade(pos, signed, price, fee, self.now)
        else:
            if order.locked:
                share = qty / (order.qty - order.cum_qty)
                order.locked -= order.locked * share
            self.account.apply_spot_trade(spec, order.side, qty, price, fee)
        order.cum_qty += qty
        order.cum_value += qty * price
        order.cum_fee += fee
        order.status = FILLED if order.cum_qty >= order.qty else PARTIALLY_FILLED
        order.updated = self.now
        if order.status == FILLED:
            order.locked = ZERO
        exec_id, seq = self.ids.execution()
        self.book.record(
            Execution(
                exec_id=exec_id,
                seq=seq,
                category=spec.category,
                symbol=spec.symbol,
                exec_type="Trade",
                side=order.side,
                price=price,
                qty=qty,
                fee=fee,
                fee_rate=fee_rate,
                fee_currency=spec.base if base_fee else spec.quote,
                is_maker=maker,
                time=self.now,
                order_id=order.order_id,
                link_id=order.link_id,
                order_type=order.order_type,
                order_price=order.price or ZERO,
                order_qty=order.qty,
                leaves_qty=order.leaves,
                mark_price=self.market.mark(spec) if pos is not None else price,
                closed_size=closed,
            )
        )

    def _close(self, order: SimOrder, status: str, reason: str) -> None:
        order.status = status
        order.reject_reason = reason
        order.locked = ZERO
        order.updated = self.now

    def _fire_triggers(self) -> None:
        for order in self.book.open_orders():
            if order.status != UNTRIGGERED:
                continue
            spec = self.config.market(order.category, order.symbol)
            current = self.market.trigger_price_of(spec, order.trigger_by)
            trigger = order.trigger_price
            assert trigger is not None
            if not (current >= trigger if order.trigger_direction == 1 else current <= trigger):
                continue
            order.status = TRIGGERED
            order.updated = self.now
            price = order.price or self.market.market_fill_price(spec, order.side)
            try:
                self._check_funds(spec, order.side, order.qty, price, order.reduce_only)
            except VenueError:
                self._close(order, REJECTED, "EC_InsufficientBalance")
                continue
            if order.order_type == "Limit":
                order.status = NEW
            self._execute(order, spec)

    def _match_limits(self) -> None:
        for order in self.book.open_orders():
            if order.order_type != "Limit" or order.status not in (NEW, PARTIALLY_FILLED):
                continue
            spec = self.config.market(order.category, order.symbol)
            ref = self.market.reference(spec)
            assert order.price is not None
            if ref <= order.price if order.side == "Buy" else ref >= order.price:
                self._fill(order, spec, order.qty - order.cum_qty, order.price, maker=True)

    def _check_liquidation(self) -> None:
        positions = [p for p in self.account.positions.values() if p.size]
        # the loop's first test, before sorting (almost always the last: margin is enough)
        if not positions or self.account.margin_balance() >= self.account.maintenance_margin():
            return
        for pos in sorted(positions, key=self.account.unrealised):
            if self.account.margin_balance() >= self.account.maintenance_margin():
                return
            self._liquidate(pos)

    def _liquidate(self, pos: Position) -> None:
        spec = pos.spec
        for order in self.book.open_orders():
            if order.category == "linear" and order.symbol == spec.symbol:
                status = DEACTIVATED if order.status == UNTRIGGERED else CANCELLED
                self._close(order, status, "EC_Liquidation")
        mark = self.market.mark(spec)
        price, fee = self._bankruptcy(pos, mark)
        size = pos.size
        self.account.apply_perp_trade(pos, -size, price, fee, self.now)
        exec_id = self._record_position_event(
            pos, "BustTrade", size, price, fee, self.config.perp_taker_fee, mark
        )
        self.liquidations.append(Liquidation(spec.symbol, self.now, size, price, exec_id))

    def _bankruptcy(self, pos: Position, mark: Decimal) -> tuple[Decimal, Decimal]:
        """Bybit takes a liquidated position over at its bankruptcy price: here the price at
        which closing it, taker fee included, leaves the account's margin balance at zero. The
        margin left is lost (a liquidation just past maintenance leaves nothing), and a move past
        it within one step is the insurance fund's loss, not a negative balance. The price is on
        the tick in the trader's favour and the fee is capped at what is left, so rounding never
        takes the balance below zero."""
        size, rate = pos.size, self.config.perp_taker_fee
        balance = self.account.margin_balance()
        raw = (size * mark - balance) / (size - abs(size) * rate)
        price = max(
            pos.spec.tick, on_tick(raw, pos.spec.tick, ROUND_CEILING if size > 0 else ROUND_FLOOR)
        )
        left = balance + size * (price - mark)  # the margin after the close, before its fee
        fee = max(ZERO, min(q8(abs(size) * price * rate), left.quantize(CENT, ROUND_FLOOR)))
        return price, fee

    def _settle_funding(self, at: datetime) -> None:
        for pos in self.account.positions.values():
            if not pos.size or not self.market.settles_at(pos.spec, at):
                continue
            rate = self.market.funding_rate(pos.spec, at)
            mark = self.market.mark(pos.spec)
            paid = q8(pos.size * mark * rate)  # a long pays a positive rate, a short receives
            self.account.realise(pos, -paid)
            self._record_position_event(pos, "Funding", pos.size, mark, paid, rate)

    def _record_position_event(
        self,
        pos: Position,
        kind: str,
        size: Decimal,
        price: Decimal,
        fee: Decimal,
        rate: Decimal,
        mark: Decimal | None = None,
    ) -> str:
        exec_id, seq = self.ids.execution()
        side = "Buy" if size > 0 else "Sell"
        if kind == "BustTrade":  # the liquidation trade closes the position: opposite side
            side = "Sell" if size > 0 else "Buy"
        self.book.record(
            Execution(
                exec_id=exec_id,
                seq=seq,
                category="linear",
                symbol=pos.spec.symbol,
                exec_type=kind,
                side=side,  # type: ignore[arg-type]
                price=on_tick(price, pos.spec.tick),
                qty=abs(size),
                fee=fee,
                fee_rate=rate,
                fee_currency=pos.spec.quote,
                is_maker=False,
                time=self.now,
                mark_price=price if mark is None else mark,
                closed_size=abs(size) if kind == "BustTrade" else ZERO,
            )
        )
        return exec_id

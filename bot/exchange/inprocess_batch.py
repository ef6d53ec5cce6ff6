"""The batch and amend methods of ``InProcessExchange``: the venue model has no requests to save,
so a batch is its orders one after the other, each with its own outcome, exactly what the ccxt
adapter hands back from a Bybit batch; amend is the simulator's own (bot/sim/amend.py)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.domain import IntentStatus, OrderAck, OrderIntent
from bot.sim.amend import amend_order
from bot.sim.errors import VenueError

if TYPE_CHECKING:
    from bot.sim.markets import MarketSpec
    from bot.sim.venue import Venue

AMEND_ORDER = "amend_order"


class InProcessBatch:
    venue: Venue  # the rest is InProcessExchange's

    def _spec(self, symbol: str, operation: str) -> MarketSpec:
        raise NotImplementedError

    async def create_order(self, intent: OrderIntent) -> OrderAck:
        raise NotImplementedError

    async def cancel_order(self, symbol: str, client_order_id: str) -> bool:
        raise NotImplementedError

    async def create_orders(
        self, intents: Sequence[OrderIntent]
    ) -> Sequence[OrderAck | BaseException]:
        outcomes: list[OrderAck | BaseException] = []
        for intent in intents:
            try:
                outcomes.append(await self.create_order(intent))
            except Exception as exc:  # that order's own refusal, in its place
                outcomes.append(exc)
        return outcomes

    async def cancel_orders(
        self, cancels: Sequence[tuple[str, str]]
    ) -> Sequence[bool | BaseException]:
        outcomes: list[bool | BaseException] = []
        for symbol, client_order_id in cancels:
            try:
                outcomes.append(await self.cancel_order(symbol, client_order_id))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    async def amend_stops(
        self, amends: Sequence[tuple[str, str, Decimal, Decimal]]
    ) -> Sequence[OrderAck | BaseException]:
        outcomes: list[OrderAck | BaseException] = []
        for amend in amends:
            try:
                outcomes.append(await self.amend_stop(*amend))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    async def amend_stop(
        self,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        trigger_price: Decimal,
    ) -> OrderAck:
        from bot.exchange.inprocess import venue_error  # the module imports this one

        spec = self._spec(symbol, AMEND_ORDER)
        try:
            order = amend_order(
                self.venue,
                spec.category,
                spec.symbol,
                link_id=client_order_id,
                qty=qty,
                trigger_price=trigger_price,
            )
        except VenueError as exc:
            raise venue_error(exc, AMEND_ORDER) from None
        return OrderAck(client_order_id, order.order_id, IntentStatus.OPEN)

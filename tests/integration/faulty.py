"""Port decorators that inject process-level faults around a real port: a crash (the process dies)
before or after the venue accepted an order, or an ambiguous submit. Counts what went through."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bot.domain import OrderAck, OrderIntent
from bot.errors import AmbiguousSubmit, OrderRejected
from bot.exchange.port import ExchangePort


class Crash(BaseException):
    """Stands for the process being killed: nothing in the bot catches a BaseException like it."""


class FaultyPort:
    def __init__(self, inner: ExchangePort) -> None:
        self.inner = inner
        self.creates: list[OrderIntent] = []
        self.crash_before_send = 0  # next N creates die before reaching the venue
        self.crash_after_accept = 0  # next N creates reach the venue, then the process dies
        self.ambiguous_after_accept = 0  # next N creates reach the venue, then the reply is lost
        self.reject_stops = 0  # next N stop-loss creates are refused (amends too, meanwhile)
        self.read_errors: dict[str, list[BaseException]] = {}  # method -> errors to raise next

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not name.startswith("fetch_"):
            return attr

        async def read(*args: Any, **kwargs: Any) -> Any:
            pending = self.read_errors.get(name)
            if pending:
                raise pending.pop(0)
            return await attr(*args, **kwargs)

        return read

    async def create_orders(self, intents: Sequence[OrderIntent]) -> list[OrderAck | BaseException]:
        # one at a time through create_order, so every fault above applies to each order
        return list(
            await asyncio.gather(*(self.create_order(i) for i in intents), return_exceptions=True)
        )

    async def amend_stops(
        self, amends: Sequence[tuple[str, str, Decimal, Decimal]]
    ) -> list[OrderAck | BaseException]:
        # one at a time through amend_stop, so the refusal above applies to each
        return list(
            await asyncio.gather(*(self.amend_stop(*a) for a in amends), return_exceptions=True)
        )

    async def amend_stop(
        self, symbol: str, client_order_id: str, qty: Decimal, trigger_price: Decimal
    ) -> OrderAck:
        if self.reject_stops:  # a venue refusing the new stop refuses moving the old one there
            raise OrderRejected("110017 forced rejection", operation="amend_order", code="110017")
        return await self.inner.amend_stop(symbol, client_order_id, qty, trigger_price)

    async def create_order(self, intent: OrderIntent) -> OrderAck:
        if self.reject_stops and intent.trigger_price is not None:
            self.reject_stops -= 1
            raise OrderRejected("110017 forced rejection", operation="create_order", code="110017")
        if self.crash_before_send:
            self.crash_before_send -= 1
            raise Crash("killed before send")
        ack = await self.inner.create_order(intent)
        self.creates.append(intent)
        if self.crash_after_accept:
            self.crash_after_accept -= 1
            raise Crash("killed after the venue accepted")
        if self.ambiguous_after_accept:
            self.ambiguous_after_accept -= 1
            raise AmbiguousSubmit("response dropped", operation="create_order")
        return ack

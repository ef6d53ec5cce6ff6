"""Port decorators that inject process-level faults around a real port: a crash (the process dies)
before or after the venue accepted an order, or an ambiguous submit. Counts what went through."""

from __future__ import annotations

from typing import Any

from bot.domain import OrderAck, OrderIntent
from bot.errors import AmbiguousSubmit
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

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def create_order(self, intent: OrderIntent) -> OrderAck:
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

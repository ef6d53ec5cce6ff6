"""Between the stream and the daemon loop: coalesced wake-ups and the full-reconcile flag.

Updates arriving while a cycle runs set one flag, so they cost one follow-up cycle, never a
queue of them; the loop runs one cycle at a time, so at most one is in flight.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Protocol


class HasMemory(Protocol):
    @property
    def memory(self) -> object: ...


class CycleTrigger:
    def __init__(self, confirm_seconds: float = 1.0) -> None:
        self.confirm_seconds = confirm_seconds  # the wait before a confirming cycle
        self.event = asyncio.Event()
        self.full_due = False
        self.reasons: Counter[str] = Counter()  # what woke the loop, for logs and tests
        self.source: object | None = None  # the stream that fires it (for tests)

    def __repr__(self) -> str:
        return f"CycleTrigger(pending={self.event.is_set()}, full_due={self.full_due})"

    def fire(self, reason: str) -> None:
        self.reasons[reason] += 1
        self.event.set()

    def lost(self, reason: str = "lost") -> None:
        """The stream is blind: run a cycle now, and make it a full one."""
        self.full_due = True
        self.fire(reason)

    def reconnected(self) -> None:
        """A new socket is up: what happened while it was down is read by a full cycle."""
        self.full_due = True
        self.fire("reconnect")

    def before_cycle(self, engine: HasMemory) -> bool:
        """Take the pending wake-up; True when this cycle must be a full REST reconcile."""
        self.event.clear()
        full, self.full_due = self.full_due, False
        if full:
            # without remembered positions the cycle also reads fills (funding is read by time)
            engine.memory.positions = None  # type: ignore[attr-defined]
        return full

    async def pause(self, stop: asyncio.Event, interval: float) -> None:
        """Wait out the polling interval, cut short by a stop or a trigger."""
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.event.wait())]
        try:
            await asyncio.wait(waits, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

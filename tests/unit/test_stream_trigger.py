"""Stream triggers in the daemon loop: coalesced, one cycle at a time, a full reconcile after a
lost or replaced socket, and the polling interval still in charge."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from bot.engine import CycleOutcome
from bot.errors import ConfigError
from bot.runner import ConfigWatcher, run_loop
from bot.settings import parse_config
from bot.stream.mode import stream_trigger
from bot.stream.trigger import CycleTrigger


class Engine:
    """Counts cycles and whether each one started as a full reconcile (positions forgotten)."""

    def __init__(self, trigger: CycleTrigger, stop: asyncio.Event, burst_at: int = 1) -> None:
        self.memory = SimpleNamespace(positions={"BTC": 1})
        self.trigger, self.stop, self.burst_at = trigger, stop, burst_at
        self.full: list[bool] = []
        self.running = 0
        self.overlap = False
        self.awaiting: frozenset[str] = frozenset()  # what a cycle set aside to confirm

    async def run_cycle(self) -> CycleOutcome:
        self.overlap |= self.running > 0
        self.running += 1
        self.full.append(self.memory.positions is None)
        self.memory.positions = {"BTC": 1}
        if len(self.full) == self.burst_at:
            for _ in range(5):  # a burst of updates while the cycle runs
                self.trigger.fire("balance")
                await asyncio.sleep(0)
        if len(self.full) == 3:
            self.stop.set()
        self.running -= 1
        return CycleOutcome(len(self.full), "ok")


async def _loop(engine: Engine, trigger: CycleTrigger, stop: asyncio.Event) -> list[CycleOutcome]:
    return await asyncio.wait_for(
        run_loop(
            engine,  # type: ignore[arg-type]
            interval=3600,
            max_cycles=None,
            watcher=ConfigWatcher(None),
            stop=stop,
            trigger=trigger,
        ),
        30,
    )


async def test_a_burst_of_updates_costs_one_follow_up_cycle() -> None:
    trigger, stop = CycleTrigger(), asyncio.Event()
    engine = Engine(trigger, stop)
    waiter = asyncio.create_task(_loop(engine, trigger, stop))
    # cycle 1 fires a burst -> exactly one more cycle; then the loop waits on the hour
    for _ in range(10_000):  # until the second cycle is done and nothing is pending
        if len(engine.full) == 2 and not engine.running and not trigger.event.is_set():
            break
        await asyncio.sleep(0.001)
    assert len(engine.full) == 2 and trigger.reasons["balance"] == 5
    trigger.lost()  # a lost socket: the next cycle is a full one
    await waiter
    assert engine.full == [False, False, True] and not engine.overlap


def test_only_a_lost_or_replaced_socket_forces_a_full_cycle() -> None:
    trigger = CycleTrigger()
    engine = SimpleNamespace(memory=SimpleNamespace(positions={"BTC": 1}))
    trigger.fire("fill")
    assert trigger.before_cycle(engine) is False and engine.memory.positions == {"BTC": 1}  # type: ignore[arg-type]
    trigger.reconnected()
    assert trigger.before_cycle(engine) is True and engine.memory.positions is None  # type: ignore[arg-type]
    assert not trigger.event.is_set() and trigger.before_cycle(engine) is False  # type: ignore[arg-type]


async def test_the_interval_still_starts_cycles_without_any_update() -> None:
    trigger, stop = CycleTrigger(), asyncio.Event()
    engine = Engine(trigger, stop, burst_at=0)
    outcomes = await asyncio.wait_for(
        run_loop(
            engine,  # type: ignore[arg-type]
            interval=0.01,
            max_cycles=3,
            watcher=ConfigWatcher(None),
            trigger=trigger,
        ),
        30,
    )
    assert len(outcomes) == 3 and sum(trigger.reasons.values()) == 0


async def test_a_cycle_that_set_a_change_aside_is_confirmed_after_confirm_seconds() -> None:
    trigger, stop = CycleTrigger(confirm_seconds=0.01), asyncio.Event()
    engine = Engine(trigger, stop, burst_at=0)
    engine.awaiting = frozenset({"BTC/USDT"})  # every cycle defers: the loop must not sit an hour
    outcomes = await _loop(engine, trigger, stop)
    assert len(outcomes) == 3 and sum(trigger.reasons.values()) == 0


def test_stream_mode_is_opt_in_and_checked() -> None:
    assert parse_config("").bot.mode == "poll"
    assert parse_config('[bot]\nmode = "stream"\n').bot.mode == "stream"
    with pytest.raises(ConfigError, match="mode"):
        parse_config('[bot]\nmode = "push"\n')


async def test_poll_mode_opens_no_stream() -> None:
    async with stream_trigger(object(), "poll", 10.0) as trigger:
        assert trigger is None


async def test_stream_mode_on_a_venue_without_a_stream_client_keeps_polling() -> None:
    async with stream_trigger(SimpleNamespace(venue="binance"), "stream", 10.0) as trigger:
        assert trigger is None

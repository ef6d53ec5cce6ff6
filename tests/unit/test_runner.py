"""The daemon loop contains a failing cycle instead of dying at once, but not forever."""

import asyncio

import pytest

from bot.engine import CycleOutcome
from bot.errors import FatalExchangeError
from bot.runner import MAX_CONSECUTIVE_FAILURES, ConfigWatcher, run_loop


class FlakyEngine:
    """Stands in for the engine: fails the cycles listed, succeeds otherwise."""

    def __init__(self, failing: set[int], error: Exception | None = None) -> None:
        self.calls = 0
        self.failing = failing
        self.error = error or RuntimeError("database is locked")

    async def run_cycle(self) -> CycleOutcome:
        self.calls += 1
        if self.calls in self.failing:
            raise self.error
        return CycleOutcome(self.calls, "ok")


async def test_a_failing_cycle_is_logged_and_the_loop_goes_on():
    engine = FlakyEngine({2})
    outcomes = await run_loop(engine, interval=0.001, max_cycles=3, watcher=ConfigWatcher(None))
    assert [o.outcome for o in outcomes] == ["ok", "error", "ok"]


async def test_too_many_failures_in_a_row_end_the_loop():
    engine = FlakyEngine(set(range(1, 100)))
    with pytest.raises(RuntimeError, match="locked"):
        await run_loop(engine, interval=0.001, max_cycles=50, watcher=ConfigWatcher(None))
    assert engine.calls == MAX_CONSECUTIVE_FAILURES


async def test_a_fatal_venue_error_is_not_contained():
    engine = FlakyEngine({1}, FatalExchangeError("10003 API key is invalid."))
    with pytest.raises(FatalExchangeError):
        await run_loop(engine, interval=0.001, max_cycles=3, watcher=ConfigWatcher(None))


async def test_stop_event_ends_the_loop_while_it_waits_for_the_next_cycle():
    stop = asyncio.Event()

    class StoppingEngine(FlakyEngine):
        async def run_cycle(self) -> CycleOutcome:
            outcome = await super().run_cycle()
            if self.calls == 1:
                stop.set()  # as SIGTERM would, during the first cycle
            return outcome

    engine = StoppingEngine(set())
    outcomes = await asyncio.wait_for(
        run_loop(engine, interval=3600, max_cycles=None, watcher=ConfigWatcher(None), stop=stop),
        timeout=30,
    )
    assert len(outcomes) == 1  # the cycle in progress finished; no hour-long wait, no next one

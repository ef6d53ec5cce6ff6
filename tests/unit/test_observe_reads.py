"""read_concurrently: reads that finish without waiting are stepped in place (no task); the
results, the error chosen and the cancellation of the others are those of the task group."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import FatalExchangeError, TransientError
from bot.observe import _Carried, read_concurrently


async def _value(v: object, log: list[str] | None = None) -> object:
    if log is not None:
        log.append(f"ran {v}")
    return v


async def _fail(exc: Exception) -> None:
    raise exc


async def _waits(v: object, gate: asyncio.Event, log: list[str]) -> object:
    try:
        await gate.wait()
    except asyncio.CancelledError:
        log.append(f"cancelled {v}")
        raise
    return v


async def test_reads_without_waiting_give_their_results_in_order_without_tasks() -> None:
    before = len(asyncio.all_tasks())
    seen: list[int] = []

    async def counted(v: int) -> int:
        seen.append(len(asyncio.all_tasks()))
        return v

    assert await read_concurrently(counted(1), counted(2), counted(3)) == [1, 2, 3]
    assert seen == [before] * 3  # no task was made for them


async def test_every_read_runs_and_the_fatal_error_is_raised_over_a_transient_one() -> None:
    log: list[str] = []
    with pytest.raises(FatalExchangeError, match="gone"):
        await read_concurrently(
            _fail(TransientError("slow")), _value(1, log), _fail(FatalExchangeError("gone"))
        )
    assert log == ["ran 1"]
    with pytest.raises(TransientError, match="first"):
        await read_concurrently(_fail(TransientError("first")), _fail(TransientError("second")))


async def test_a_read_that_waits_is_carried_on_by_a_task_with_the_rest() -> None:
    gate, log = asyncio.Event(), list[str]()
    reading = asyncio.ensure_future(
        read_concurrently(_value(1), _waits(2, gate, log), _value(3), _waits(4, gate, log))
    )
    await asyncio.sleep(0)
    assert not reading.done()
    gate.set()
    assert await reading == [1, 2, 3, 4]


async def test_an_earlier_error_cancels_a_read_that_waits() -> None:
    gate, log = asyncio.Event(), list[str]()
    with pytest.raises(TransientError, match="down"):
        await read_concurrently(_fail(TransientError("down")), _waits(2, gate, log), _value(3))
    assert log == ["cancelled 2"]


async def test_a_waiting_reads_error_cancels_the_other_waiting_ones() -> None:
    gate, log = asyncio.Event(), list[str]()

    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise FatalExchangeError("later")

    with pytest.raises(FatalExchangeError, match="later"):
        await read_concurrently(_value(1), fails_later(), _waits(3, gate, log))
    assert log == ["cancelled 3"]


async def test_cancelling_the_caller_cancels_the_read_it_carries_on() -> None:
    gate, log = asyncio.Event(), list[str]()
    reading = asyncio.ensure_future(read_concurrently(_waits(1, gate, log)))
    await asyncio.sleep(0)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert log == ["cancelled 1"]


async def test_a_started_read_whose_task_is_cancelled_before_its_first_step_is_cancelled() -> None:
    gate, log = asyncio.Event(), list[str]()
    read = _waits(1, gate, log)
    waiting = read.send(None)  # its first step, taken in place: it waits on the gate
    task = asyncio.get_running_loop().create_task(_Carried(read, waiting))
    task.cancel()  # before the task ran at all: the read itself must see the cancellation
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log == ["cancelled 1"]

"""RequestBudget: a sliding-window request cap shared by the clients of one account."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.exchange.budget import RequestBudget


async def test_requests_beyond_the_window_wait_for_it() -> None:
    budget = RequestBudget(rate=3, period=0.2)
    start = time.monotonic()
    await asyncio.gather(*(budget.acquire() for _ in range(9)))
    elapsed = time.monotonic() - start
    assert budget.used == 9
    assert elapsed >= 0.4  # 9 requests at 3 per 0.2 s need two further windows


async def test_within_the_window_there_is_no_wait() -> None:
    budget = RequestBudget(rate=50, period=10)
    start = time.monotonic()
    for _ in range(20):
        async with budget:
            pass
    assert time.monotonic() - start < 0.5
    assert budget.used == 20


def test_invalid_budgets_are_refused() -> None:
    with pytest.raises(ValueError):
        RequestBudget(rate=0)
    with pytest.raises(ValueError):
        RequestBudget(rate=1, period=0)

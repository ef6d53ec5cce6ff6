"""The venue-window budget (issue 10.1): per-endpoint rolling windows counted in orders, one
window for all requests, no wait while a window has room."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.exchange.budget import RequestBudget, Window
from bot.exchange.limits import Endpoint, cost, endpoint


def test_bybit_endpoints_and_batch_costs() -> None:
    assert endpoint("v5/order/create", {"category": "linear"}) == Endpoint(
        "v5/order/create:linear", 10
    )
    # a batch draws on its single endpoint's window, one unit per order
    assert endpoint("v5/order/create-batch", {"category": "spot"}) == Endpoint(
        "v5/order/create:spot", 20
    )
    assert cost("v5/order/create-batch", {"request": [{}] * 7}) == 7
    assert endpoint("v5/position/list", {}) == Endpoint("v5/position/list", 50)
    assert endpoint("v5/market/tickers", {"category": "linear"}) is None  # IP window only


def test_a_window_counts_units_over_a_rolling_period() -> None:
    w = Window(3, 1.0)
    assert w.wait(0.0, 3) == 0
    w.take(0.0, 2)
    w.take(0.5, 1)
    assert w.wait(0.6, 1) == pytest.approx(0.4)  # the oldest leaves at 1.0
    assert w.wait(1.0, 2) == 0  # the two taken at 0.0 have left
    assert w.wait(1.0, 3) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        w.wait(0.0, 4)  # can never fit


async def test_a_full_endpoint_window_holds_only_its_own_requests() -> None:
    budget = RequestBudget(margin=0)
    orders, reads = Endpoint("create", 3), Endpoint("read", 50)
    start = time.monotonic()
    await budget.acquire(orders, 3)
    late = asyncio.create_task(budget.acquire(orders, 1))
    for _ in range(10):
        await budget.acquire(reads)  # not held by the full order window
    assert time.monotonic() - start < 0.5 and not late.done()
    await late
    assert time.monotonic() - start >= 0.95
    assert budget.used == 12

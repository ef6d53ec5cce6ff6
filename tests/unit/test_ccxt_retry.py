"""Bounded jittered retries: only transient errors, capped attempts, logged without payloads."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from bot.errors import FatalExchangeError, OrderRejected, RateLimited, TransientError
from bot.exchange.retry import RetryPolicy, with_retry


class Recorder:
    """Stands in for asyncio.sleep: records the backoff instead of waiting it."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def failing(errors: list[Exception], result: str = "ok"):
    calls = {"n": 0}

    async def call() -> str:
        calls["n"] += 1
        if errors:
            raise errors.pop(0)
        return result

    return call, calls


POLICY = RetryPolicy(attempts=4, initial_wait=0.5, max_wait=8, jitter=0, rate_limited_wait=3)


async def test_transient_errors_are_retried_until_success() -> None:
    sleep = Recorder()
    call, calls = failing([TransientError("a"), TransientError("b")])
    assert await with_retry("fetch_positions", call, POLICY, sleep=sleep) == "ok"
    assert calls["n"] == 3
    assert sleep.waits == [0.5, 1.0]  # exponential


async def test_attempts_are_bounded_and_last_error_raised() -> None:
    sleep = Recorder()
    call, calls = failing([TransientError(str(i)) for i in range(10)])
    with pytest.raises(TransientError, match="3"):
        await with_retry("fetch_positions", call, POLICY, sleep=sleep)
    assert calls["n"] == 4
    assert len(sleep.waits) == 3


async def test_total_time_bounds_the_retries() -> None:
    call, calls = failing([TransientError(str(i)) for i in range(10)])
    policy = RetryPolicy(attempts=100, total_seconds=0.0, initial_wait=0)
    with pytest.raises(TransientError):
        await with_retry("fetch_positions", call, policy, sleep=Recorder())
    assert calls["n"] == 1


@pytest.mark.parametrize("error", [FatalExchangeError("keys"), OrderRejected("no")])
async def test_definite_errors_are_not_retried(error: Exception) -> None:
    sleep = Recorder()
    call, calls = failing([error])
    with pytest.raises(type(error)):
        await with_retry("cancel_order", call, POLICY, sleep=sleep)
    assert calls["n"] == 1 and sleep.waits == []


async def test_rate_limits_back_off_at_least_the_floor() -> None:
    sleep = Recorder()
    call, _ = failing([RateLimited("slow"), RateLimited("slow"), TransientError("x")])
    await with_retry("fetch_tickers", call, POLICY, sleep=sleep)
    assert sleep.waits[:2] == [3, 3]
    assert sleep.waits[2] == 2.0  # back on the exponential curve: 0.5 * 2**2


async def test_jitter_adds_a_bounded_random_part() -> None:
    sleep = Recorder()
    call, _ = failing([TransientError("a")] * 3)
    policy = RetryPolicy(attempts=4, initial_wait=1, max_wait=100, jitter=0.5)
    await with_retry("fetch_balances", call, policy, sleep=sleep)
    for base, wait in zip([1, 2, 4], sleep.waits, strict=True):
        assert base <= wait <= base + 0.5


async def test_each_retry_is_logged_without_the_message() -> None:
    call, _ = failing([TransientError("secret-bearing text", operation="fetch_positions")])
    with capture_logs() as logs:
        await with_retry("fetch_positions", call, POLICY, sleep=Recorder())
    assert len(logs) == 1
    entry = logs[0]
    assert entry["event"] == "exchange_retry"
    assert entry["operation"] == "fetch_positions"
    assert entry["attempt"] == 1
    assert entry["error"] == "TransientError"
    assert "secret-bearing" not in repr(entry)


async def test_operation_name_comes_from_the_call_when_the_error_has_none() -> None:
    call, _ = failing([TransientError("x")])
    with capture_logs() as logs:
        await with_retry("fetch_ohlcv", call, POLICY, sleep=Recorder())
    assert logs[0]["operation"] == "fetch_ohlcv"

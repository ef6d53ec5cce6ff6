"""Bounded, jittered retries for venue reads and cancels (never for order creation).

Only TransientError (RateLimited included) is retried: everything else in the tree is a definite
answer that another attempt cannot change. Attempts and total time are both capped so a dead venue
costs one cycle at most, and every retry is logged without the error's payload beyond its class.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
)

from bot.errors import RateLimited, TransientError

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4  # total tries, the first included
    total_seconds: float = 20.0  # no new attempt starts after this much time
    initial_wait: float = 0.25
    max_wait: float = 4.0
    jitter: float = 0.25
    rate_limited_wait: float = 1.0  # a venue that says "slow down" gets at least this pause


NO_RETRY = RetryPolicy(attempts=1)


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class _Wait:
    """Exponential backoff plus up to ``jitter`` seconds of noise (so several clients retrying at
    once spread out); rate limits wait at least ``rate_limited_wait``."""

    def __init__(self, policy: RetryPolicy, rng: random.Random | None = None) -> None:
        self._policy = policy
        self._rng = rng or random.Random()

    def __call__(self, state: RetryCallState) -> float:
        p = self._policy
        exponential = min(p.max_wait, p.initial_wait * 2 ** (state.attempt_number - 1))
        wait = exponential + self._rng.uniform(0, p.jitter)
        outcome = state.outcome
        if outcome is not None and isinstance(outcome.exception(), RateLimited):
            wait = max(wait, p.rate_limited_wait)
        return wait


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else None
    structlog.get_logger().warning(
        "exchange_retry",
        operation=getattr(exc, "operation", None) or state.kwargs.get("operation"),
        attempt=state.attempt_number,
        error=type(exc).__name__ if exc is not None else None,
        code=getattr(exc, "code", None),
        wait_seconds=round(wait, 3) if wait is not None else None,
    )


async def with_retry(
    operation: str,
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Sleep = _sleep,
) -> T:
    """Run ``call`` (which raises classified errors) with the policy's bounded retries."""
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(policy.attempts) | stop_after_delay(policy.total_seconds),
        wait=_Wait(policy),
        sleep=sleep,
        before_sleep=_log_retry,
        reraise=True,
    )
    result: Any = await retrying(_named(call), operation=operation)
    return result


def _named(call: Callable[[], Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    async def run(*, operation: str) -> T:  # operation only travels to the retry log
        return await call()

    return run

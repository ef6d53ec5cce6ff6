"""Bounded, jittered retries for venue reads and cancels (never for order creation).

Only TransientError (RateLimited included) is retried: everything else in the tree is a definite
answer that another attempt cannot change. Attempts and total time are both capped so a dead venue
costs one cycle at most, and every retry is logged without the error's payload beyond its class.
"""

from __future__ import annotations

import asyncio
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
    wait_exponential_jitter,
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
    """Exponential jittered backoff; rate limits wait at least ``rate_limited_wait``."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._base = wait_exponential_jitter(
            initial=policy.initial_wait, max=policy.max_wait, jitter=policy.jitter
        )
        self._floor = policy.rate_limited_wait

    def __call__(self, state: RetryCallState) -> float:
        wait = float(self._base(state))
        outcome = state.outcome
        if outcome is not None and isinstance(outcome.exception(), RateLimited):
            wait = max(wait, self._floor)
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

"""`hedgebot health`: healthy means the daemon cycles, its cycles succeed, and it may trade.

Unhealthy when the heartbeat is stale, when trading is halted, or when the cycles have been
skipped or failing (venue reads failing) for longer than a set time. The failing time is measured
between the cycles' own timestamps (the bot's one clock), so a replaying simulator whose time is
years behind the wall clock is judged the same way as a live venue.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import TradingState
from bot.store.models import CycleRow
from bot.store.repo import Store

FAILED = ("skipped", "error")


@dataclass(frozen=True)
class Health:
    ok: bool
    why: str


def heartbeat_age(path: Path | None) -> float | None:
    if path is None or not path.exists():
        return None
    return time.time() - path.stat().st_mtime


async def judge(store: Store, age: float | None, max_age: float, max_failing: float) -> Health:
    if age is None:
        return Health(False, "no heartbeat yet (is the daemon running?)")
    if age > max_age:
        return Health(False, f"last cycle {age:.0f}s ago (more than {max_age:g}s)")
    state, reason = await store.trading_state()
    if state == TradingState.HALTED:
        return Health(False, f"trading halted: {reason}; fix the cause, then `hedgebot resume`")
    async with AsyncSession(store.engine) as s:
        cycles = list(await s.scalars(select(CycleRow).order_by(CycleRow.number.desc()).limit(500)))
    done = [c for c in cycles if c.outcome != "started"]
    failing = []
    for c in done:
        if c.outcome not in FAILED:
            break
        failing.append(c)
    if failing:
        span = (failing[0].started_at - failing[-1].started_at).total_seconds()
        last_ok = done[len(failing)] if len(done) > len(failing) else None
        if last_ok is not None:  # failing since just after the last good cycle
            span = (failing[0].started_at - last_ok.started_at).total_seconds()
        if span > max_failing:
            why = (done[0].summary or {}).get("reason", "see `hedgebot events`")
            return Health(
                False,
                f"{len(failing)} cycles skipped or failed over {span:.0f}s "
                f"(more than {max_failing:g}s): {why}",
            )
    extra = f", trading {state.value}" if state != TradingState.ACTIVE else ""
    return Health(True, f"last cycle {age:.0f}s ago{extra}")

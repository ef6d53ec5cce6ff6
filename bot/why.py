"""Why nothing was sent: per hedge, the reason its position was left where it is this cycle
(inside the band, below a minimum, cooldown, unresolved intent, risk guard, untrusted data,
strategy held, trading state). Goes into the cycle's log line, its stored summary and `status`.

Risk refusals are logged at warning when they start or change, not every cycle.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.domain import IntentPurpose, IntentStatus, OrderIntent, Rejection, Snapshot
from bot.logging import get_logger
from bot.planner import aggregate, current_size
from bot.store.repo import Store

log = get_logger("bot.engine")


async def unresolved(store: Store, symbols: Collection[str]) -> dict[str, str]:
    """symbol -> which intent blocks it and since when: one not yet resolved, or an order still
    open on the venue (a resting stop blocks nothing: bot.reconcile)."""
    if not symbols:
        return {}
    statuses = [IntentStatus.PENDING, IntentStatus.UNKNOWN, IntentStatus.OPEN]
    out: dict[str, str] = {}
    for i in await store.intents(statuses=statuses, limit=200):
        if i.status == IntentStatus.OPEN and i.purpose == IntentPurpose.STOP:
            continue
        if i.symbol in symbols and i.symbol not in out:
            out[i.symbol] = (
                f"unresolved intent {i.client_order_id} ({i.status.value} since "
                f"{i.created_at:%Y-%m-%d %H:%M:%S} UTC)"
            )
    return out


def explain(
    snapshot: Snapshot,
    targets: Sequence[Any],
    failures: Mapping[str, str],
    held: Sequence[Any],
    skips: Sequence[Any],
    approved: Sequence[OrderIntent],
    rejections: Sequence[Rejection],
    waiting: Mapping[str, datetime],
    blocked: Mapping[str, str],
    halted: str | None = None,
) -> dict[str, str]:
    """hedge -> why no order went out for it. Hedges that sent an order are left out, and so
    are symbols already at their target (nothing to explain). ``halted``: the halt's reason; it
    comes first (a cooldown or a band means nothing while no order may go out)."""
    by_symbol: dict[str, str] = {}
    for s in skips:
        reason = s.reason
        if reason.startswith("unresolved") and s.symbol in blocked:
            reason = blocked[s.symbol]
        by_symbol[s.symbol] = reason
    for r in rejections:
        if r.source == "risk":
            by_symbol[r.symbol] = f"risk guard: {r.reason}"
    for symbol, until in waiting.items():
        by_symbol[symbol] = f"re-hedge after a stop-loss waits until {until:%H:%M:%S} UTC"
    sent = {i.symbol for i in approved}
    settled = {s for s, t in aggregate(targets).items() if current_size(t, snapshot) == t.size}
    out: dict[str, str] = {h: f"no decision: {why}" for h, why in failures.items()}
    out.update({t.hedge: f"strategy held: {t.reason}" for t in held})
    for t in targets:
        if t.hedge in out or t.perp_symbol in sent or t.perp_symbol in settled:
            continue
        if t.perp_symbol in by_symbol:
            out[t.hedge] = by_symbol[t.perp_symbol]
    if halted is not None:
        unsent = {t.hedge for t in targets if t.perp_symbol not in sent | settled}
        out.update(dict.fromkeys(set(out) | unsent, f"risk guard: trading halted: {halted}"))
    return out


class RiskNotes:
    """Log a risk refusal at warning the first time and when its reason changes."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], str] = {}

    def note(self, rejections: Sequence[Rejection]) -> None:
        now = {(r.hedge, r.symbol): r.reason for r in rejections if r.source == "risk"}
        for (hedge, symbol), reason in now.items():
            if self._last.get((hedge, symbol)) != reason:
                log.warning("order refused by a risk guard", hedge=hedge, symbol=symbol, why=reason)
        for key in set(self._last) - set(now):
            log.info("risk guard no longer refusing", hedge=key[0], symbol=key[1])
        self._last = now


REMEDY = {
    "halted": (
        "no orders until `hedgebot resume`; first check `hedgebot status` and "
        "`hedgebot events --since 1h` and fix the cause"
    ),
    "reducing": (
        "only orders that shrink a short go out until the margin ratio is back under its limit; "
        "add margin or reduce the hedges"
    ),
}


def loud(state: str, cause: str, *, level: str = "warning") -> None:
    """One line for a trading state change: what, why, and what to do."""
    remedy = REMEDY.get(state)
    if remedy is None:
        log.info(f"trading {state}", cause=cause)
        return
    getattr(log, level)(f"trading {state}", cause=cause, remedy=remedy)


def loud_drift(symbol: str, amount: Any) -> None:
    log.warning(
        "position drift",
        symbol=symbol,
        unexplained=str(amount),
        remedy="a manual trade or another bot on this account? the hedge waits a cycle, then "
        "trades from the venue's position",
    )

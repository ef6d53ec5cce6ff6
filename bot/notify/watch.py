"""What is worth an alert, read from the database the daemon writes (so no cycle waits for it):
halts and state changes, stop-loss fills, a short left without a stop or a hedge outside its band
for too long, a liquidation price coming close, repeated failed cycles, and a daily summary.

Durations are measured on the cycles' own timestamps (the bot's one clock: the venue's time).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import TradingState
from bot.logging import get_logger
from bot.notify.channel import Alert, Notifier
from bot.notify.config import AlertsSection
from bot.store.models import CycleRow, FillRow, FundingRow, IntentRow
from bot.store.repo import Store

log = get_logger("bot.notify")
FILL_CURSOR = "alerts.last_fill_id"
SUMMARY_CURSOR = "alerts.summary_day"
FAILED = ("skipped", "error")
REMEDY = (
    "check `hedgebot status` and `hedgebot events --since 1h`, fix the cause, "
    "then `hedgebot resume`"
)


class AlertWatcher:
    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        settings: Callable[[], tuple[AlertsSection, Decimal, str]],
    ) -> None:
        """``settings`` returns the current (alerts section, rebalance band, quote): the
        configuration may be reloaded while the daemon runs."""
        self.store, self.notifier, self.settings = store, notifier, settings
        self._state: tuple[TradingState, str] | None = None
        self._unprotected: dict[str, datetime] = {}
        self._outside: dict[tuple[str, str], datetime] = {}
        self._alerted: set[tuple[Any, ...]] = set()
        self._liquidation_day: date | None = None  # None: not yet sent since start-up
        self._failing = False

    def _rearm(self, kind: str, still: set[Any]) -> None:
        """A condition that cleared may alert again the next time it lasts too long."""
        self._alerted = {k for k in self._alerted if k[0] != kind or k[1:] in still}

    def _send(self, kind: str, title: str, body: str, level: str = "warning") -> None:
        self.notifier.send(Alert(kind, title, body, level))

    async def run(self, every: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.check()
            except Exception as exc:  # alerts must never take the daemon down
                log.warning("alert check failed", error=f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    async def check(self) -> None:
        alerts, band, quote = self.settings()
        await self._trading_state()
        async with AsyncSession(self.store.engine) as s:
            cycles = list(
                await s.scalars(select(CycleRow).order_by(CycleRow.number.desc()).limit(50))
            )
            await self._stop_fills(s)
            if not cycles:
                return
            now = cycles[0].started_at
            self._venue_failures(cycles, alerts.venue_failures)
            account = _latest_account(cycles)
            await self._unprotected_shorts(s, account, now, alerts.unprotected_after_seconds)
            self._liquidation(account, now, alerts.liquidation_distance)
        await self._outside_band(band, now, alerts.outside_band_after_seconds)
        if alerts.daily_summary and now.hour >= alerts.daily_summary_hour:
            await self._daily_summary(now, quote)

    async def _trading_state(self) -> None:
        state, reason = await self.store.trading_state()
        previous, self._state = self._state, (state, reason)
        if previous == (state, reason):
            return
        if state == TradingState.HALTED:
            start = "started while halted" if previous is None else "trading halted"
            self._send("halt", f"hedgebot: {start}", f"{reason}. {REMEDY}", "failure")
        elif state == TradingState.REDUCING:
            self._send(
                "reducing",
                "hedgebot: reducing only",
                f"{reason}. Only orders that shrink a short are sent until the margin ratio "
                "recovers; add margin or reduce exposure.",
            )
        elif previous is not None and previous[0] != TradingState.ACTIVE:
            self._send("resumed", "hedgebot: trading active", reason or "resumed", "info")

    async def _stop_fills(self, s: AsyncSession) -> None:
        cursor = await self.store.get_cursor(FILL_CURSOR)
        if cursor is None:  # first start: history is not news
            highest = await s.scalar(select(func.max(FillRow.id)))
            await self.store.set_cursor(FILL_CURSOR, str(highest or 0))
            return
        stmt = (
            select(FillRow, IntentRow.hedge)
            .join(IntentRow, IntentRow.client_order_id == FillRow.client_order_id)
            .where(FillRow.id > int(cursor), IntentRow.purpose == "stop")
            .order_by(FillRow.id)
        )
        rows = list(await s.execute(stmt))
        for fill, hedge in rows:
            self._send(
                "stop_fill",
                f"hedgebot: stop-loss filled on {fill.symbol}",
                f"hedge {hedge}: bought {fill.qty} at {fill.price} ({fill.ts:%Y-%m-%d %H:%M} UTC). "
                "The short is reduced; " + REMEDY,
                "failure",
            )
        highest = await s.scalar(select(func.max(FillRow.id)))
        if highest is not None and int(highest) > int(cursor):
            await self.store.set_cursor(FILL_CURSOR, str(highest))

    def _venue_failures(self, cycles: list[CycleRow], limit: int) -> None:
        done = [c for c in cycles if c.outcome != "started"]
        streak = 0
        for c in done:
            if c.outcome not in FAILED:
                break
            streak += 1
        if streak >= limit and not self._failing:
            self._failing = True
            self._send(
                "venue",
                "hedgebot: cycles failing",
                f"the last {streak} cycles were skipped or failed (venue reads failing?); "
                "see `hedgebot events --since 1h`; the hedges are not being maintained",
            )
        elif streak == 0 and self._failing and done:
            self._failing = False
            self._send("venue", "hedgebot: cycles back to normal", "venue reads work again", "info")

    async def _unprotected_shorts(
        self, s: AsyncSession, account: dict[str, Any], now: datetime, after: float
    ) -> None:
        shorts = {sym for sym, p in account.get("perps", {}).items() if Decimal(str(p["size"])) < 0}
        stops = set(
            await s.scalars(
                select(IntentRow.symbol).where(
                    IntentRow.purpose == "stop",
                    IntentRow.status.in_(("open", "pending", "unknown")),
                )
            )
        )
        bare = shorts - stops
        self._unprotected = {sym: self._unprotected.get(sym, now) for sym in bare}
        for sym, since in self._unprotected.items():
            key = ("unprotected", sym)
            if (now - since).total_seconds() >= after and key not in self._alerted:
                self._alerted.add(key)
                self._send(
                    "unprotected",
                    f"hedgebot: {sym} short has no stop-loss",
                    f"no stop-loss resting for the {sym} short since {since:%Y-%m-%d %H:%M} UTC; "
                    "see `hedgebot orders --symbol` and `hedgebot events`",
                )
        self._rearm("unprotected", {(sym,) for sym in bare})

    def _liquidation(self, account: dict[str, Any], now: datetime, threshold: Decimal) -> None:
        near = {
            sym: Decimal(str(p["liquidation_distance"]))
            for sym, p in account.get("perps", {}).items()
            if p.get("liquidation_distance") is not None
            and Decimal(str(p["liquidation_distance"])) < threshold
        }
        if not near or self._liquidation_day == now.date():
            return
        self._liquidation_day = now.date()
        lines = ", ".join(f"{sym} {d:.1%}" for sym, d in sorted(near.items()))
        self._send(
            "liquidation",
            "hedgebot: liquidation price close",
            f"liquidation within {threshold:.0%} of the mark: {lines}; add margin or reduce "
            "the shorts",
            "failure",
        )

    async def _outside_band(self, band: Decimal, now: datetime, after: float) -> None:
        targets = await self.store.last_targets()
        outside = {
            key
            for key, t in targets.items()
            if abs(t.target_size - t.current_size) > band * abs(t.target_size)
            and (t.target_size != 0 or t.current_size != 0)
        }
        self._outside = {k: self._outside.get(k, now) for k in outside}
        for (hedge, sym), since in self._outside.items():
            key = ("band", hedge, sym)
            t = targets[(hedge, sym)]
            if (now - since).total_seconds() >= after and key not in self._alerted:
                self._alerted.add(key)
                self._send(
                    "outside_band",
                    f"hedgebot: hedge {hedge} off target",
                    f"{sym} is {t.current_size} against a target of {t.target_size} since "
                    f"{since:%Y-%m-%d %H:%M} UTC; `hedgebot status` says why",
                )
        self._rearm("band", outside)

    async def _daily_summary(self, now: datetime, quote: str) -> None:
        day = now.date().isoformat()
        if await self.store.get_cursor(SUMMARY_CURSOR) == day:
            return
        await self.store.set_cursor(SUMMARY_CURSOR, day)
        since = now - timedelta(days=1)
        async with AsyncSession(self.store.engine) as s:
            funding = list(await s.scalars(select(FundingRow.amount).where(FundingRow.ts >= since)))
            fees = list(
                await s.execute(
                    select(FillRow.fee, FillRow.fee_asset, FillRow.fee_quote).where(
                        FillRow.ts >= since
                    )
                )
            )
        received = sum(funding, Decimal(0))
        # each fee valued in the quote (fills.fee_quote); a quote-coin fee is its own value
        paid = sum(
            (
                q if q is not None else fee if asset == quote else Decimal(0)
                for fee, asset, q in fees
            ),
            Decimal(0),
        )
        targets = await self.store.last_targets()
        ratios = "; ".join(
            f"{h} {sym}: {t.current_size} of {t.target_size}"
            + (f" (ratio {t.ratio})" if t.ratio is not None else "")
            for (h, sym), t in sorted(targets.items())
        )
        self._send(
            "summary",
            f"hedgebot daily summary {day}",
            f"hedges: {ratios or 'none'}. Last 24 h: funding received {received} {quote}, "
            f"fees {paid} {quote}.",
            "info",
        )


def _latest_account(cycles: list[CycleRow]) -> dict[str, Any]:
    for c in cycles:
        account = (c.summary or {}).get("account")
        if isinstance(account, dict):
            return account
    return {}

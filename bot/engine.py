"""The cycle: observe -> reconcile -> decide -> plan -> guard -> record -> act.

Level-triggered: every cycle recomputes the gap from fresh venue state, and every order is written
ahead with its deterministic client id before it is sent, so a crash between any two lines cannot
double a hedge. Startup runs the same reconcile as every cycle.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from decimal import Decimal

from bot import flatten
from bot import why as explain
from bot.account_view import account_view, requests_used
from bot.caps import cap_overhedge
from bot.cycle_memory import CycleMemory, cycle_summary
from bot.decide import Decision, build_strategies, decide
from bot.domain import (
    HedgeTarget,
    Snapshot,
    TradingState,
    frozen_map,
)
from bot.errors import FatalExchangeError, TransientError
from bot.exchange.port import ExchangePort
from bot.execution import ActResult, send_intents
from bot.history import HistoryCache
from bot.logging import bind_cycle, get_logger
from bot.marks import MarkBook
from bot.observe import observe, read_concurrently
from bot.planner import PlannerConfig, aggregate, plan
from bot.protect import StopPolicy
from bot.reconcile import ReconcileResult, ingest, resolve_intents
from bot.risk import ABSURD_POSITION, RiskLimits, guard, snapshot_problems
from bot.settings import FileConfig
from bot.stops import StopFillPolicy, maintain_stops
from bot.store.records import CycleRecord, EventRecord, TargetRecord
from bot.store.repo import Store
from bot.universe import (
    close_unlisted,
    hedged_spot_value,
    perp_symbols,
    spot_assets,
    spot_is_collateral,
)
from strategies.base import Strategy

log = get_logger("bot.engine")
PRUNE_EVERY = timedelta(hours=1)
RATE_WINDOW = timedelta(seconds=60)  # the risk guard's orders-per-minute window
_LOGGED = ("orders", "rejected", "targets", "why", "duration_ms", "venue_requests")
Clock = Callable[[], datetime]


async def _nothing() -> None:
    return None


@dataclass(frozen=True)
class CycleOutcome:
    number: int
    outcome: str  # ok | skipped | halted
    summary: dict = field(default_factory=dict)


class Engine:
    def __init__(
        self,
        *,
        port: ExchangePort,
        store: Store,
        config: FileConfig,
        clock: Clock,
        tag: str,
        kill_switch: Callable[[], bool] = lambda: False,
    ) -> None:
        self.port, self.store, self.clock, self.tag = port, store, clock, tag
        self.kill_switch = kill_switch
        self.history = HistoryCache(port, store)
        self.markets: dict = {}
        self.previous: dict[tuple[str, str], HedgeTarget] = {}
        self.memory = CycleMemory()
        self._leverage: dict[str, Decimal] = {}
        self._last_verdict: tuple[TradingState, str] | None = None
        self.marks = MarkBook()
        self.stop_fills = StopFillPolicy()
        self._capped: tuple[str, ...] = ()
        self._hold_stops: frozenset[str] = frozenset()
        # symbols whose change this cycle set aside until a later read confirms it (stream mode
        # runs that read soon: runner.run_loop)
        self.awaiting: frozenset[str] = frozenset()
        self.risk_notes = explain.RiskNotes()
        self.flattened: frozenset[str] = frozenset()  # hedges the operator flattened (bot.flatten)
        self._pruned: datetime | None = None  # when old cycle rows were last deleted
        # the targets stored by this process's finished cycles, per (hedge, perp)
        self._targets_written: dict[tuple[str, str], TargetRecord] = {}
        self.apply_config(config)

    def apply_config(self, config: FileConfig) -> None:
        self.config = config
        self._specs = config.specs()
        self.strategies: dict[str, Strategy] = build_strategies(
            flatten.apply(self._specs, self.flattened)
        )
        # what the hedges touch changes only with the strategies: not recomputed per call
        self._perps = perp_symbols(self.strategies.values())
        self._spots = spot_assets(self.strategies.values())
        self._spot_of = {name: spot_assets([s]) for name, s in self.strategies.items()}
        self.planner = PlannerConfig(config.planner.rebalance_band, config.planner.cooldown_seconds)
        r = config.risk
        # the [risk] section names every limit the guards take
        self.limits = RiskLimits(
            **{f.name: getattr(r, f.name) for f in fields(RiskLimits) if hasattr(r, f.name)},
            spot_is_collateral=spot_is_collateral(self.port),
        )
        self.stop_policy = StopPolicy(
            liquidation_buffer=r.stop_liquidation_buffer,
            entry_multiple=r.stop_entry_multiple,
            tolerance=r.stop_replace_tolerance,
        )
        self.stop_fills.mode = r.on_stop_fill
        self.stop_fills.cooldown = timedelta(seconds=r.stop_rehedge_cooldown_seconds)

    @property
    def quote(self) -> str:
        return self.config.bot.quote

    async def start(self) -> None:
        self.markets = dict(await self.port.load_markets())
        for warning in await close_unlisted(self.store, self.markets, self.strategies.values()):
            log.warning("market not listed", detail=warning)
            await self.store.add_event("market_unlisted", warning, level="warning")
        for (hedge, symbol), t in (await self.store.last_targets()).items():
            self.previous[(hedge, symbol)] = HedgeTarget(
                hedge, symbol, t.target_size, t.reason, ratio=t.ratio, details=t.details
            )
        await self.stop_fills.load(self.store)
        await self.memory.load(self.store)  # one bad answer after a restart is not trusted
        await self._ensure_leverage()

    async def _ensure_leverage(self) -> None:
        """Set the configured leverage on every perp not yet set (also ones a reload added)."""
        wanted = self.config.risk.leverage
        todo = [
            s for s in self.perp_symbols() if s in self.markets and self._leverage.get(s) != wanted
        ]
        await read_concurrently(*(self.port.set_leverage(s, wanted) for s in todo))
        self._leverage.update(dict.fromkeys(todo, wanted))

    def perp_symbols(self) -> list[str]:
        # a perp the venue no longer lists cannot be read or traded (see close_unlisted)
        return [s for s in self._perps if s in self.markets]

    def spot_assets(self) -> list[str]:
        return list(self._spots)

    def spot_symbols(self) -> list[str]:
        return [
            f"{a}/{self.quote}" for a in self.spot_assets() if f"{a}/{self.quote}" in self.markets
        ]

    async def _observe(self, now: datetime) -> Snapshot:
        active = [s for s in self.strategies.values() if s.hedge.enabled]
        needs = sorted({(n.symbol, n.timeframe, n.bars) for s in active for n in s.history_needs()})
        fneeds = sorted(
            {
                (s.hedge.perp_symbol, s.funding_history_needed())
                for s in active
                if s.funding_history_needed() > 0 and s.hedge.perp_symbol
            }
        )
        # history (mostly cached) and the venue state in one round trip
        snapshot, history, funding_history = await read_concurrently(
            observe(
                self.port,
                now=now,
                markets=self.markets,
                perp_symbols=self.perp_symbols(),
                spot_symbols=self.spot_symbols(),
            ),
            self.history.bars(needs, now) if needs else _nothing(),
            self.history.funding(fneeds, now) if fneeds else _nothing(),
        )
        if history is None and funding_history is None:
            return snapshot
        return replace(
            snapshot, history=frozen_map(history), funding_history=frozen_map(funding_history)
        )

    async def run_cycle(self) -> CycleOutcome:
        self._started = time.perf_counter()
        self.awaiting = frozenset()
        now = self.clock()
        # the cycle's reads in one transaction (issue 10.4)
        cooling = now - timedelta(seconds=self.planner.cooldown_seconds)
        self._reads = reads = await self.store.cycle_reads(
            flatten.CURSOR, now - RATE_WINDOW, cooling
        )
        number, state, state_reason, raw = (
            reads.number, reads.trading_state, reads.state_reason, reads.cursor
        )  # fmt: skip
        bind_cycle(number)
        self._requests_before = requests_used(self.port)
        if (wanted := flatten.names(raw)) != self.flattened:
            self.flattened = wanted  # `hedgebot flatten` / `resume --hedge` while running
            self.apply_config(self.config)
        rec = ReconcileResult()
        try:
            snapshot = await self._observe(now)
            await resolve_intents(self.port, self.store, snapshot, rec, reads.open_intents)
            await ingest(
                self.port,
                self.store,
                snapshot,
                rec,
                fills_due=self.memory.fills_due(snapshot, rec.changed),
                funding_due=self.memory.funding_due(snapshot),
            )
        except FatalExchangeError as exc:
            self.stop_fills.carry(rec.fresh_fills)  # stored, not yet acted on
            await self._halt(f"fatal venue error during {exc.operation or 'read'}: {exc}")
            raise
        except TransientError as exc:
            self.stop_fills.carry(rec.fresh_fills)
            return await self._skip(number, now, state, f"venue read failed: {exc}")
        rec.fresh_fills, rec.stop_fills = await self.stop_fills.take(
            self.store, rec.fresh_fills, now
        )
        events: list[EventRecord] = []
        steps = {sym: m.amount_step for sym, m in self.markets.items()}
        drift = self.memory.drift(snapshot, rec.fresh_fills, steps)
        # a short gone from one answer without a fill of ours keeps its stop until confirmed
        self._hold_stops = frozenset(s for s in drift if snapshot.position_size(s) == 0)
        symbols = [*self.perp_symbols(), *self.spot_symbols()]
        problems = snapshot_problems(snapshot, symbols, self.limits, self.memory.prices)
        unconfirmed = self.memory.unconfirmed_holdings(snapshot, self.spot_assets(), self.quote)
        self.awaiting = frozenset({*drift, *unconfirmed})
        self.memory.remember(snapshot)
        events += [
            EventRecord("holding_unconfirmed", why, "warning", {"symbol": symbol})
            for symbol, why in unconfirmed.items()
        ]
        for symbol, amount in drift.items():
            explain.loud_drift(symbol, amount)
            events.append(
                EventRecord(
                    "drift",
                    f"{symbol} moved by {amount} without a fill of ours",
                    "warning",
                    {"symbol": symbol, "unexplained": str(amount)},
                )
            )
        for symbol, why in problems.items():
            events.append(
                EventRecord("data_untrusted", f"{symbol}: {why}", "warning", {"symbol": symbol})
            )
        stop_events, halt = self.stop_fills.on_fills(rec.stop_fills, snapshot)
        events += stop_events
        if halt is not None:
            state, state_reason = TradingState.HALTED, halt
            explain.loud(state.value, halt)
            await self.store.set_trading_state(state, state_reason)
        if symbols and set(problems) >= set(symbols):
            why = "; ".join(f"{s}: {w}" for s, w in problems.items())
            outcome = await self._skip(number, now, state, why, events)
            self.stop_fills.settled()
            # stops are anchored to the position (liquidation, entry), not to the stale ticker
            bad = {s for s, w in problems.items() if w == ABSURD_POSITION}
            await self._protect(number, snapshot, refresh=False, skip=bad)
            return outcome
        decision = decide(
            self.strategies,
            snapshot,
            self.previous,
            set(drift) | set(problems) | set(unconfirmed),
            self.quote,
        )
        try:
            return await self._plan_and_act(
                number, now, snapshot, decision, rec, state, state_reason, events
            )
        except FatalExchangeError as exc:
            await self._halt(f"fatal venue error while acting: {exc}")
            await self.store.finish_cycle(number, "halted", {"error": str(exc)})
            raise

    async def _plan_and_act(
        self,
        number: int,
        now: datetime,
        snapshot: Snapshot,
        decision: Decision,
        rec: ReconcileResult,
        state: TradingState,
        state_reason: str,
        events: list[EventRecord],
    ) -> CycleOutcome:
        last_at, per_minute = self._reads.last_order_at, self._reads.recent_orders
        if rec.changed:  # an intent changed status since: a LOST one no longer counts
            last_at, per_minute = await self.store.hedge_activity(now - RATE_WINDOW)
        waiting = self.stop_fills.waiting(now)
        events += [
            EventRecord("rehedge_wait", f"{s}: re-hedge after a stop-loss waits until {t}")
            for s, t in sorted(waiting.items())
        ]
        hedged = hedged_spot_value(snapshot, self.spot_assets(), self.quote)
        capped_targets, capped, cap_note = cap_overhedge(
            decision.targets, snapshot, self.limits.max_overhedge, self._spot_of, self.quote
        )
        targets = {s: t for s, t in aggregate(capped_targets).items() if s not in waiting}
        if capped and capped != self._capped:  # once when it starts, not every cycle
            events.append(EventRecord("risk_note", cap_note))
        self._capped = capped
        hedge_plan = plan(
            cycle=number,
            tag=self.tag,
            targets=targets,
            snapshot=snapshot,
            config=self.planner,
            last_order_at=last_at,
            blocked=rec.blocked | decision.blocked,
        )
        verdict = guard(
            hedge_plan.intents,
            snapshot,
            state=state,
            state_reason=state_reason,
            limits=self.limits,
            quote=self.quote,
            hedged_spot_value=hedged,
            orders_last_minute=per_minute,
            kill_switch=self.kill_switch(),
            flattening=self.flattened,
        )
        if verdict.state == TradingState.HALTED and state != TradingState.HALTED:
            await self.store.set_trading_state(verdict.state, verdict.state_reason)
        # margin-driven REDUCING is this cycle's verdict, not a persisted state: it lifts by itself
        # when the margin recovers; only HALTED waits for an operator
        shown = (verdict.state, verdict.state_reason)
        if shown != self._last_verdict and shown != (state, state_reason):
            explain.loud(verdict.state.value, verdict.state_reason)
            events.append(
                EventRecord(
                    "trading_state", f"{verdict.state.value}: {verdict.state_reason}", "warning", {}
                )
            )
        self._last_verdict = shown
        events += [
            EventRecord("strategy_skipped", f"{h}: {why}", "warning", {"hedge": h})
            for h, why in decision.failures.items()
        ]
        events += [
            EventRecord("target_held", f"{t.hedge}: {t.reason}", "info", {"hedge": t.hedge})
            for t in decision.held
        ]
        events += [EventRecord("risk_note", note, "info", {}) for note in verdict.notes]
        self.risk_notes.note(verdict.rejections)
        reasons = explain.explain(
            snapshot, decision.targets, decision.failures, decision.held, hedge_plan.skips,
            verdict.approved, verdict.rejections, waiting,
            await explain.unresolved(self.store, rec.blocked | decision.blocked),
            verdict.state_reason if verdict.state == TradingState.HALTED else None,
        )  # fmt: skip
        await self.store.record_cycle(
            CycleRecord(
                number=number,
                started_at=now,
                trading_state=verdict.state,
                targets=(written := self._changed_targets(snapshot, decision.targets)),
                intents=list(verdict.approved),
                rejections=list(verdict.rejections),
                events=events,
            ),
            defer=True,  # with no intents: written with the cycle's finish
        )
        self.stop_fills.settled()
        for t in decision.targets:
            self.previous[(t.hedge, t.perp_symbol)] = t
        await self.marks.record(
            self.store, number, snapshot, self.strategies.values(), self.previous, self.quote,
            self.config.planner.rebalance_band,
        )  # fmt: skip
        if verdict.approved:
            await self._ensure_leverage()
        act = await send_intents(self.port, self.store, verdict.approved, number, now)
        stop_act, cancelled = await self._protect(
            number, snapshot, refresh=bool(act.sent or act.unknown)
        )
        summary = cycle_summary(
            snapshot, decision, len(verdict.rejections), act, stop_act, cancelled, rec
        )
        summary["account"] = account_view(
            snapshot, self._specs, self.quote, self.limits.collateral_ratio
        )
        self._cost(summary)
        if act.fatal or stop_act.fatal:
            fatal = act.fatal or stop_act.fatal
            assert fatal is not None
            await self._halt(f"fatal venue error: {fatal}")
            await self.store.finish_cycle(number, "halted", summary)
            raise fatal
        outcome = "halted" if verdict.state == TradingState.HALTED else "ok"
        summary["why"] = reasons  # per hedge: why no order went out although off target
        await self.store.finish_cycle(number, outcome, summary)
        self._targets_written.update({(t.hedge, t.symbol): t for t in written})
        await self._prune(now)
        log.info(
            "cycle done",
            outcome=outcome,
            **{k: v for k, v in summary.items() if k in _LOGGED},
        )
        return CycleOutcome(number, outcome, summary)

    def _changed_targets(
        self, snapshot: Snapshot, targets: list[HedgeTarget]
    ) -> list[TargetRecord]:
        """The targets to store: those that differ from the last stored for their hedge and
        perp (a steady cycle rewrote every hedge's unchanged row: most of its database time)."""
        out = []
        for t in targets:
            size = snapshot.position_size(t.perp_symbol)
            row = TargetRecord(t.hedge, t.perp_symbol, size, t.size, t.ratio, t.reason, t.details)
            if self._targets_written.get((t.hedge, t.perp_symbol)) != row:
                out.append(row)
        return out

    def _cost(self, summary: dict[str, object]) -> None:
        """What the cycle cost so far: wall time and venue requests (issue 10.6)."""
        summary["duration_ms"] = round((time.perf_counter() - self._started) * 1000, 1)
        if self._requests_before is not None:
            summary["venue_requests"] = (requests_used(self.port) or 0) - self._requests_before

    async def _prune(self, now: datetime) -> None:
        """Once an hour: cycle and target rows past [bot] retention_days go (issue 10.8)."""
        days = self.config.bot.retention_days
        if not days or (self._pruned is not None and now - self._pruned < PRUNE_EVERY):
            return
        self._pruned = now
        removed = await self.store.prune(now - timedelta(days=days))
        if any(removed.values()):
            log.info("old cycle rows deleted", retention_days=days, **removed)

    async def _protect(
        self, number: int, snapshot: Snapshot, *, refresh: bool, skip: set[str] | None = None
    ) -> tuple[ActResult, int]:
        return await maintain_stops(
            self.port,
            self.store,
            snapshot,
            cycle=number,
            tag=self.tag,
            policy=self.stop_policy,
            symbols=self.perp_symbols(),
            refresh=refresh,
            hold=self._hold_stops,
            skip=skip or set(),
        )

    async def _skip(
        self,
        number: int,
        now: datetime,
        state: TradingState,
        why: str,
        events: list[EventRecord] | None = None,
    ) -> CycleOutcome:
        await self.store.record_cycle(
            CycleRecord(
                number=number,
                started_at=now,
                trading_state=state,
                targets=[],
                intents=[],
                rejections=[],
                events=[*(events or []), EventRecord("cycle_skipped", why, "warning", {})],
            ),
            defer=True,
        )
        summary: dict[str, object] = {"reason": why}
        self._cost(summary)
        log.warning("decision skipped", **summary)
        await self.store.finish_cycle(number, "skipped", summary)
        return CycleOutcome(number, "skipped", summary)

    async def _halt(self, reason: str) -> None:
        explain.loud(TradingState.HALTED.value, reason, level="error")
        await self.store.set_trading_state(TradingState.HALTED, reason)
        await self.store.add_event("halted", reason, level="error")

"""Act on the stop-loss plan: after the cycle's orders, re-read positions, place the stops that
are missing or resized (written ahead like every order), then cancel the superseded ones. And act
on a stop that fired: halt, or (the default) re-hedge after a cooldown, loudly.

A stop fill is acted on once, durably: its ``stop_fired`` event names its trade id, fills stored
by a cycle that then failed are carried into the next one, and the first cycle after a start
acts on every recent stop fill in the database that no event names (a crash, SIGKILL)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from bot.domain import ZERO, Fill, IntentPurpose, Snapshot, frozen_map
from bot.errors import TransientError
from bot.exchange.port import ExchangePort
from bot.execution import ActResult, cancel_orders, send_intents
from bot.logging import get_logger
from bot.observe import read_concurrently
from bot.planner import purpose_of
from bot.protect import StopPlan, StopPolicy, plan_stops
from bot.stop_amend import amendable, fatal, record_amends, send_amends
from bot.store.records import EventRecord
from bot.store.repo import Store

log = get_logger("bot.stops")


async def maintain_stops(
    port: ExchangePort,
    store: Store,
    snapshot: Snapshot,
    *,
    cycle: int,
    tag: str,
    policy: StopPolicy,
    symbols: Sequence[str],
    refresh: bool,
    hold: Collection[str] = (),
    skip: Collection[str] = (),
) -> tuple[ActResult, int]:
    """Returns the placement result and how many stops were cancelled. Stops of ``hold`` rest on
    although no short is seen; ``skip`` (absurd position data) is left as it is."""
    if refresh:
        try:
            positions, orders = await read_concurrently(
                port.fetch_positions(), port.fetch_open_orders(None)
            )
        except TransientError as exc:
            # positions unknown: stops sized from the old ones could be wrong; the next cycle
            # protects from fresh ones
            log.warning("stop-losses not updated this cycle", error=str(exc))
            await store.add_event("stops_deferred", str(exc), level="warning", cycle=cycle)
            return ActResult(), 0
        snapshot = replace(
            snapshot,
            positions=frozen_map({s: p for s, p in positions.items() if p.size}),
            open_orders=tuple(orders),
        )
    stops = plan_stops(
        snapshot,
        cycle=cycle,
        tag=tag,
        policy=policy,
        symbols=sorted({*symbols, *snapshot.positions} - set(skip)),
        hold=hold,
    )
    # moved in place where that keeps one stop resting (stop_amend), at once with the placements
    pairs, stops = amendable(stops, snapshot.open_orders)
    if stops.place:
        await store.add_intents(stops.place)
    outcomes: Sequence[object] = []
    placed = ActResult()
    if pairs or stops.place:  # a steady cycle has neither: no tasks, no turn of the loop
        outcomes, placed = await asyncio.gather(
            send_amends(port, pairs), send_intents(port, store, stops.place, cycle, snapshot.ts)
        )
    amended, instead = await record_amends(store, pairs, outcomes)
    if instead.place:  # an amendment failed: the plan's own way, a new stop first
        await store.add_intents(instead.place)
        placed.merge(await send_intents(port, store, instead.place, cycle, snapshot.ts))
        stops = StopPlan(stops.place + instead.place, stops.cancel + instead.cancel)
    placed.amended = amended
    placed.fatal = placed.fatal or fatal(outcomes)  # the venue refuses us: halt, as for a create
    resting = set(placed.sent)
    # cancel a superseded stop only once its replacement rests: never leave a short bare
    cancels = [
        c
        for c in stops.cancel
        if not any(p.symbol == c[0] and p.client_order_id not in resting for p in stops.place)
    ]
    return placed, await cancel_orders(port, store, cancels, cycle)


@dataclass
class StopFillPolicy:
    """What a fired stop-loss leads to. Re-hedge waits are remembered in the ``stop_fired``
    events (``rehedge_after``), so a restart keeps waiting."""

    mode: Literal["rehedge", "halt"] = "rehedge"
    cooldown: timedelta = timedelta(minutes=10)
    until: dict[str, datetime] = field(default_factory=dict)  # perp -> no new hedge before
    carried: list[Fill] = field(default_factory=list)  # stored by a cycle that failed after
    recover: bool = True  # look for unhandled stop fills in the database (after a start)

    async def load(self, store: Store) -> None:
        for event in reversed(await store.events(kind="stop_fired", limit=200)):
            after = event.data.get("rehedge_after")
            if after:
                self.until[str(event.data.get("symbol"))] = datetime.fromisoformat(after)

    def carry(self, fresh: Sequence[Fill]) -> None:
        """The cycle that stored these fills failed before acting on them: the next one does."""
        seen = {f.trade_id for f in self.carried}
        self.carried += [f for f in fresh if f.trade_id not in seen]

    async def take(
        self, store: Store, fresh: Sequence[Fill], now: datetime
    ) -> tuple[list[Fill], list[Fill]]:
        """This cycle's fresh fills with the carried ones, and the stop fills to act on: those
        among them and, after a start, the unhandled ones stored before."""
        ids = {f.trade_id for f in fresh}
        fills = [*(f for f in self.carried if f.trade_id not in ids), *fresh]
        self.carried = []
        stops = [f for f in fills if is_stop_fill(f)]
        if self.recover:
            known = {f.trade_id for f in stops}
            stops += [f for f in await unhandled(store, now) if f.trade_id not in known]
        return fills, stops

    def settled(self) -> None:
        """The cycle's events (stop_fired among them) are stored."""
        self.recover = False

    def waiting(self, now: datetime) -> dict[str, datetime]:
        return {s: t for s, t in self.until.items() if t > now}

    def on_fills(
        self, fills: Sequence[Fill], snapshot: Snapshot
    ) -> tuple[list[EventRecord], str | None]:
        """Events for the fired stops and, in "halt" mode, the halt reason."""
        events: list[EventRecord] = []
        halt: str | None = None
        for fill in fills:
            market = snapshot.markets.get(fill.symbol)
            held = snapshot.spot_qty(market.base) if market is not None else ZERO
            data = {
                "symbol": fill.symbol,
                "qty": str(fill.qty),
                "price": str(fill.price),
                "trade_id": fill.trade_id,
            }
            what = f"stop-loss filled on {fill.symbol}: {fill.qty} at {fill.price}"
            if self.mode == "halt":
                halt = f"stop-loss fired on {fill.symbol}"
                text = f"{what}; trading halted (on_stop_fill = halt)"
            else:
                until = fill.ts + self.cooldown
                self.until[fill.symbol] = max(until, self.until.get(fill.symbol, until))
                data["rehedge_after"] = until.isoformat()
                text = (
                    f"{what} with {held} {market.base} spot still held; re-hedging after "
                    f"{until:%Y-%m-%d %H:%M:%S} UTC"
                    if market is not None and held > 0
                    else f"{what}; no spot held, nothing to re-hedge"
                )
            log.warning("stop-loss fired", symbol=fill.symbol, action=self.mode)
            events.append(EventRecord("stop_fired", text, "warning", data))
        return events, halt


RECOVER_WINDOW = timedelta(days=7)


def is_stop_fill(fill: Fill) -> bool:
    return purpose_of(fill.client_order_id) == IntentPurpose.STOP


async def unhandled(store: Store, now: datetime) -> list[Fill]:
    """Recent stop fills in the database that no ``stop_fired`` event names (events written
    before trade ids were named there are matched on symbol, quantity and price)."""
    stops = [f.to_fill() for f in await store.fills(since=now - RECOVER_WINDOW)]
    stops = [f for f in stops if is_stop_fill(f)]
    if not stops:
        return []
    handled: set[object] = set()
    for event in await store.events(kind="stop_fired", limit=1000):
        d = event.data
        handled |= {d.get("trade_id"), (d.get("symbol"), d.get("qty"), d.get("price"))}
    return [
        f
        for f in stops
        if f.trade_id not in handled and (f.symbol, str(f.qty), str(f.price)) not in handled
    ]

"""Act on the stop-loss plan: after the cycle's orders, re-read positions, place the stops that
are missing or resized (written ahead like every order), then cancel the superseded ones. And act
on a stop that fired: halt, or (the default) re-hedge after a cooldown, loudly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from bot.domain import ZERO, Fill, Snapshot, frozen_map
from bot.errors import TransientError
from bot.exchange.port import ExchangePort
from bot.execution import ActResult, cancel_orders, send_intents
from bot.logging import get_logger
from bot.observe import read_concurrently
from bot.protect import StopPolicy, plan_stops
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
) -> tuple[ActResult, int]:
    """Returns the placement result and how many stops were cancelled."""
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
        symbols=sorted({*symbols, *snapshot.positions}),
    )
    if stops.place:
        await store.add_intents(stops.place)
    placed = await send_intents(port, store, stops.place, cycle, snapshot.ts)
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

    async def load(self, store: Store) -> None:
        for event in reversed(await store.events(kind="stop_fired", limit=200)):
            after = event.data.get("rehedge_after")
            if after:
                self.until[str(event.data.get("symbol"))] = datetime.fromisoformat(after)

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
            data = {"symbol": fill.symbol, "qty": str(fill.qty), "price": str(fill.price)}
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

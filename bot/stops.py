"""Act on the stop-loss plan: after the cycle's orders, re-read positions, place the stops that
are missing or resized (written ahead like every order), then cancel the superseded ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.domain import Snapshot, frozen_map
from bot.errors import TransientError
from bot.exchange.port import ExchangePort
from bot.execution import ActResult, cancel_orders, send_intents
from bot.logging import get_logger
from bot.observe import read_concurrently
from bot.protect import StopPolicy, plan_stops
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
    placed = await send_intents(port, store, stops.place, cycle)
    resting = set(placed.sent)
    # cancel a superseded stop only once its replacement rests: never leave a short bare
    cancels = [
        c
        for c in stops.cancel
        if not any(p.symbol == c[0] and p.client_order_id not in resting for p in stops.place)
    ]
    return placed, await cancel_orders(port, store, cancels, cycle)

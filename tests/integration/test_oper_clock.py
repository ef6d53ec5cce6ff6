"""One clock: on an external simulator replaying the past, orders are stamped with the
simulator's time, so no fill is ever stamped before the order that caused it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.sim.server import start_simulator
from bot.store import Store
from tests.integration.paper import START, make_venue


async def test_fills_never_precede_their_orders_on_a_replaying_simulator(tmp_path: Path) -> None:
    sim = await start_simulator(venue=make_venue(), speed=1.0)  # its clock: March 2024
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    env = {
        **os.environ,
        "HEDGEBOT_DATABASE_URL": url,
        "HEDGEBOT_HEARTBEAT_FILE": str(tmp_path / "hb"),
    }
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--venue-url", sim.url,
            "--max-cycles", "3", "--interval", "0.3",
            env=env, stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()
    finally:
        await sim.stop()
    store = Store.from_url(url)
    try:
        intents = {i.client_order_id: i for i in await store.intents()}
        fills = [f for f in await store.fills() if f.client_order_id in intents]
        assert fills, "the hedge was placed"
        for fill in fills:
            order = intents[fill.client_order_id]
            assert order.created_at <= fill.ts, (order.created_at, fill.ts)
            assert order.created_at.year == START.year  # the simulator's time, not the machine's
    finally:
        await store.close()

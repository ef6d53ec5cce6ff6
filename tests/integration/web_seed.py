"""Shared by the web tests. ``seed`` fills a database with real cycles: the paper rig (real venue
model, engine and store) hedges 2 BTC + 30 ETH over a simulated day, so targets, orders, fills,
stops, funding and the cycles' account figures are all there."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx

from bot.store import Store
from bot.web.app import create_app
from tests.integration.paper import make_paper

# every endpoint that returns account data (all of them need the token when one is set)
DATA_PATHS = [
    "/api/status",
    "/api/hedges",
    "/api/orders",
    "/api/fills",
    "/api/funding",
    "/api/events",
    "/api/rejections",
    "/api/values",
    "/api/report",
    "/metrics",
]


async def seed(db_url: str, cycles: int = 8, step: timedelta = timedelta(hours=2)) -> None:
    paper = await make_paper(db_url)
    try:
        for _ in range(cycles):
            await paper.cycle(step)
    finally:
        await paper.close()


@contextlib.asynccontextmanager
async def seeded_store(folder: Path, cycles: int = 8) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{folder / 'web.db'}"
    await seed(url, cycles)
    store = Store.from_url(url)
    try:
        yield store
    finally:
        await store.close()


def client(store: Store, token: str | None = None, host: str = "127.0.0.1") -> httpx.AsyncClient:
    """An HTTP client on the app in this event loop (no server, no port)."""
    app = create_app(store, token=token)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

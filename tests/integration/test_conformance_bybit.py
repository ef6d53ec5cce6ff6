"""Conformance of the simulator with real Bybit answers, as ccxt sees them.

For each call recorded from the real Bybit (ccxt's own fixtures, saved in ../shared), the recorded
body is served by a tiny stub server and the simulator answers the equivalent call; both are
parsed by the unmodified ccxt client and compared on the unified fields a hedging bot reads: same
field names, same value types (None / str / number / bool ...). Run with -s for the summary.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.sim.bars import to_ms
from tests.fixtures.sim.harness import PERP, SPOT, T0, SimClient, bybit_client, sim_client

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "ccxt-bybit"
pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason="../shared/fixtures/ccxt-bybit absent"
)

ORDER = ["id", "clientOrderId", "symbol", "type", "side", "status", "amount", "filled"]
ORDER += ["remaining", "price", "average", "reduceOnly", "triggerPrice", "timestamp"]
TRADE = ["id", "order", "symbol", "side", "price", "amount", "cost", "timestamp", "takerOrMaker"]
POSITION = ["symbol", "side", "contracts", "contractSize", "entryPrice", "markPrice"]
POSITION += ["unrealizedPnl", "liquidationPrice", "notional", "leverage", "initialMargin"]
POSITION += ["maintenanceMargin", "timestamp"]
FUNDING = ["symbol", "fundingRate", "fundingTimestamp", "markPrice", "indexPrice", "interval"]
FUNDING += ["timestamp"]
FIELDS: dict[str, list[str]] = {
    "fetchBalance": ["free", "used", "total"],
    "createOrder": ["id", "clientOrderId", "symbol", "status", "amount", "filled"],
    "fetchOpenOrder": ORDER,
    "fetchClosedOrder": ORDER,
    "fetchPositions": POSITION,
    "fetchPosition": POSITION,
    "fetchMyTrades": [*TRADE, "fee.cost", "fee.currency"],
    "cancelAllOrders": ["id", "clientOrderId", "symbol"],
    "fetchOHLCV": ["0", "1", "2", "3", "4", "5"],
    "fetchTicker": ["symbol", "bid", "ask", "last", "markPrice", "indexPrice", "timestamp"],
    "fetchFundingRate": FUNDING,
    "fetchFundingRates": FUNDING,
    "fetchFundingHistory": ["symbol", "code", "amount", "timestamp", "id"],
}


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def pick(record: Any, field: str) -> Any:
    for part in field.split("."):
        record = record[int(part)] if isinstance(record, list) else (record or {}).get(part)
    return record


def first(method: str, parsed: Any) -> Any:
    if method == "fetchBalance":
        return parsed["USDT"]
    if method == "fetchFundingRates":
        return next(iter(parsed.values()))
    if isinstance(parsed, list):
        return parsed[0]
    return parsed


@asynccontextmanager
async def stub_server() -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Serves the recorded markets, and ``canned["body"]`` for every other path."""
    markets = json.loads((FIXTURES / "bybit.markets.instruments-info.json").read_text())
    canned: dict[str, Any] = {"body": {}}

    async def handle(request: web.Request) -> web.Response:
        if request.path == "/v5/market/instruments-info":
            category = request.query.get("category", "")
            body = markets.get(category) or {"retCode": 0, "result": {"list": []}}
            if request.query.get("status") == "PreLaunch":
                body = {"retCode": 0, "result": {"category": category, "list": []}}
            return web.json_response(body)
        return web.json_response(canned["body"])

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", canned
    finally:
        await runner.cleanup()


async def prepare(sc: SimClient) -> dict[str, str]:
    """Give the simulated account what the recorded one had: positions, orders, trades, funding."""
    ex = sc.ex
    await ex.create_order(SPOT, "market", "buy", 0.01, None, {"clientOrderId": "spot-1"})
    # the recorded perp orders were sent without a client id: so are these
    closed = await ex.create_order(PERP, "market", "sell", 1, None)
    sc.advance(timedelta(hours=2))  # a funding settlement at 08:00
    resting = await ex.create_order(PERP, "limit", "sell", 0.01, 70000)
    await ex.create_order(SPOT, "limit", "buy", 0.01, 50000, {"clientOrderId": "s-l"})
    return {"open": resting["id"], "closed": closed["id"]}


def sim_call(method: str, args: list[Any], ids: dict[str, str]) -> tuple[str, list[Any]]:
    """The simulator's equivalent of a recorded call (BTC for LTC, our own ids and times)."""
    swap = {"LTC/USDT": SPOT, "LTC/USDT:USDT": PERP}
    args = [swap.get(a, a) if isinstance(a, str) else a for a in args]
    if method == "fetchPositions":
        args = [[PERP]]
    elif method == "fetchPosition":
        args = ["ETH/USDT:USDT"]
    elif method == "fetchOpenOrder":
        args = [ids["open"], PERP]
    elif method == "fetchClosedOrder":
        args = [ids["closed"], PERP]
    elif method == "createOrder" and args[1] == "market":
        args = [SPOT, "market", "sell", 0.01, None, {"reduceOnly": True, "stopLossPrice": 50000}]
    elif method == "createOrder":
        args = [SPOT, "limit", "buy", 0.01, 55000]
    elif method == "fetchOHLCV":
        args = [PERP, "1h", to_ms(T0 - timedelta(hours=10)), 3]
    return method, args


async def call(ex: Any, method: str, args: list[Any]) -> Any:
    fn: Callable[..., Any] = getattr(ex, method)  # ccxt keeps camelCase aliases
    return await fn(*args)


async def test_sim_answers_parse_like_recorded_bybit() -> None:
    recorded = json.loads((FIXTURES / "bybit.response.relevant.json").read_text())["methods"]
    matches, differences, calls = 0, [], 0
    async with stub_server() as (stub_url, canned), sim_client() as sc:
        stub = bybit_client(stub_url)
        try:
            await stub.load_markets()
            ids = await prepare(sc)
            for method, entries in recorded.items():
                if method not in FIELDS:
                    continue
                for entry in entries:
                    canned["body"] = entry["httpResponse"]
                    calls += 1
                    theirs = first(method, await call(stub, method, entry["input"]))
                    name, args = sim_call(method, entry["input"], ids)
                    ours = first(method, await call(sc.ex, name, args))
                    for field in FIELDS[method]:
                        a, b = pick(theirs, field), pick(ours, field)
                        if kind(a) == kind(b):
                            matches += 1
                        else:
                            differences.append(
                                f"{method}.{field}: bybit {kind(a)}={a!r} sim {kind(b)}={b!r}"
                            )
                    if isinstance(theirs, dict) and isinstance(ours, dict):
                        missing = set(theirs) ^ set(ours)
                        if missing:
                            differences.append(f"{method}: unified keys differ {sorted(missing)}")
        finally:
            await stub.close()
    print(f"\nconformance with recorded Bybit answers: {calls} calls, {matches} field types match")
    for line in differences:
        print("  ! " + line)
    assert differences == []

"""Replay of real recorded Bybit v5 responses (ccxt's own static fixtures, saved in
../shared/fixtures/ccxt-bybit) through unmodified ccxt and CcxtExchange on a loopback server.

Checks the domain values against what the venue actually sent, exactly, in Decimal.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.exchange.factory import VenueConnection, create_exchange
from bot.exchange.port import ExchangePort

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "ccxt-bybit"
pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason="../shared/fixtures/ccxt-bybit is absent (fresh clone)"
)


def _load() -> tuple[dict, dict]:
    markets = json.loads((FIXTURES / "bybit.markets.instruments-info.json").read_text())
    responses = json.loads((FIXTURES / "bybit.response.relevant.json").read_text())["methods"]
    return markets, responses


def _response(responses: dict, method: str, description_part: str = "") -> dict:
    for entry in responses[method]:
        if description_part in entry["description"]:
            return entry["httpResponse"]
    raise KeyError(method)


class Recorded:
    """Serves the recorded bodies by path; a follow-up page (``cursor``) is empty."""

    def __init__(self) -> None:
        markets, responses = _load()
        empty = {"retCode": 0, "retMsg": "OK", "result": {"list": []}, "time": 1}
        self.requests: list[str] = []
        self.routes: dict[str, Any] = {
            "/v5/market/instruments-info": lambda q: (
                empty if q.get("status") == "PreLaunch" else markets[q["category"]]
            ),
            "/v5/account/wallet-balance": lambda q: _response(responses, "fetchBalance"),
            "/v5/position/list": lambda q: _response(responses, "fetchPositions"),
            "/v5/market/tickers": lambda q: _response(responses, "fetchFundingRates"),
            "/v5/market/kline": lambda q: _response(responses, "fetchOHLCV"),
            "/v5/execution/list": lambda q: (
                _response(responses, "fetchFundingHistory")
                if q.get("execType") == "Funding"
                else _response(responses, "fetchMyTrades", "without symbol")
            ),
        }
        self.empty = empty

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.method} {request.path_qs}")
        route = self.routes.get(request.path)
        if route is None:
            return web.json_response({"retCode": 10001, "retMsg": "not recorded"})
        if "cursor" in request.query:
            return web.json_response(self.empty)
        return web.json_response(route(dict(request.query)))


@pytest.fixture
async def recorded() -> AsyncIterator[tuple[ExchangePort, Recorded]]:
    server = Recorded()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port_number = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    port = create_exchange(
        VenueConnection(
            venue="bybit",
            mode="paper",
            api_key=SecretStr("recorded-key"),
            api_secret=SecretStr("recorded-secret"),
            url=f"http://127.0.0.1:{port_number}",
            enable_rate_limit=False,
        )
    )
    try:
        yield port, server
    finally:
        await port.close()
        await runner.cleanup()


async def test_markets_from_real_instrument_rows(recorded: tuple[ExchangePort, Recorded]) -> None:
    port, server = recorded
    markets = await port.load_markets()
    btc = markets["BTC/USDT:USDT"]
    assert (btc.amount_step, btc.price_tick, btc.min_notional) == (D("0.001"), D("0.10"), D(5))
    assert markets["BTC/USDT"].kind == "spot"
    assert len([r for r in server.requests if "instruments-info" in r]) == 3  # lean load


async def test_real_wallet_balance(recorded: tuple[ExchangePort, Recorded]) -> None:
    port, _ = recorded
    balances = await port.fetch_balances()
    usdt = balances["USDT"]  # ccxt's recorded parse: 3229.64065465 / 92.61831144 / 3322.25896609
    assert (usdt.free, usdt.used, usdt.total) == (
        D("3229.64065465"),
        D("92.61831144"),
        D("3322.25896609"),
    )
    assert balances["BTC"].total == D("0.85581394")


async def test_real_position(recorded: tuple[ExchangePort, Recorded]) -> None:
    port, server = recorded
    positions = await port.fetch_positions()
    ltc = positions["LTC/USDT:USDT"]
    assert ltc.size == D("1.2")  # a long: positive
    assert ltc.entry_price == D("64.59947917")
    assert ltc.liquidation_price is None  # "" on the venue
    assert ltc.initial_margin == D("12.95542633")
    listing = [r for r in server.requests if "/v5/position/list" in r]
    assert "settleCoin=USDT" in listing[0]
    # Bybit sends a cursor even on the last page: a page shorter than the limit ends the listing
    assert len(listing) == 1


async def test_real_tickers_and_funding_share_one_request(
    recorded: tuple[ExchangePort, Recorded],
) -> None:
    port, server = recorded
    await port.load_markets()
    before = len(server.requests)
    tickers = await port.fetch_tickers(["BTC/USDT:USDT"])
    assert tickers["BTC/USDT:USDT"].mark == D("68649.90")
    funding = await port.fetch_funding_rates(["BTC/USDT:USDT"])
    rate = funding["BTC/USDT:USDT"]
    assert rate.rate == D("0.0001") and rate.interval_hours == 8
    assert rate.next_funding_time == datetime.fromtimestamp(1730736000, tz=UTC)
    assert len(server.requests) - before == 2  # one per call, none per symbol


async def test_real_funding_history_sign(recorded: tuple[ExchangePort, Recorded]) -> None:
    port, _ = recorded
    payments = await port.fetch_funding_payments(None, None)
    by_id = {p.payment_id: p for p in payments}
    # ccxt's recorded amounts (execFee, positive = paid): 0.0007797 and -0.00708126
    assert by_id["c88057b1-d3b3-4a19-861a-ae79a8762796"].amount == D("-0.0007797")
    received = by_id["89102b18-96c4-42d2-bc26-131699036635"]
    assert received.amount == D("0.00708126") and received.rate == D("-0.000881")
    assert [p.ts for p in payments] == sorted(p.ts for p in payments)


async def test_real_fills_and_bars(recorded: tuple[ExchangePort, Recorded]) -> None:
    port, _ = recorded
    fills = await port.fetch_fills(None, None)
    fill = next(f for f in fills if f.trade_id == "751c8dba-bdeb-5d0c-9dd3-dda6bf98cdaf")
    assert (fill.symbol, fill.side, fill.qty, fill.price) == (
        "LTC/USDT:USDT",
        "buy",
        D("0.1"),
        D("85.11"),
    )
    assert fill.fee == D("0.00468105") and fill.fee_asset == "USDT"
    bars = await port.fetch_ohlcv("BTC/USDT:USDT", "1h", None, 3)
    assert [b.close for b in bars] == [D("43488"), D("43376.1"), D("43352.8")]

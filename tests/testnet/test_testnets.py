"""Opt-in: the adapter against real exchange sandboxes. Each venue runs only when its keys are in
the environment (BYBIT_TESTNET_API_KEY/SECRET, BYBIT_DEMO_API_KEY/SECRET for Bybit demo trading,
BINANCE_DEMO_API_KEY/SECRET); a tiny order and its cancel run only with HEDGEBOT_TESTNET_TRADE=1
as well."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from bot.exchange.factory import VenueConnection, create_exchange
from bot.exchange.port import ExchangePort
from tests.testnet.venue_checks import TRADE_FLAG, read_only, tiny_order_round_trip, trading_enabled

# key variable prefix -> (venue, mode)
VENUES = {
    "BYBIT_TESTNET": ("bybit", "testnet"),
    "BYBIT_DEMO": ("bybit", "demo"),
    "BINANCE_DEMO": ("binance", "testnet"),
}


def _keys(prefix: str) -> tuple[str | None, str | None]:
    return os.environ.get(f"{prefix}_API_KEY"), os.environ.get(f"{prefix}_API_SECRET")


@pytest.fixture(
    params=[
        pytest.param(
            prefix,
            id=prefix.lower(),
            marks=pytest.mark.skipif(
                not all(_keys(prefix)), reason=f"{prefix}_API_KEY/SECRET not set"
            ),
        )
        for prefix in VENUES
    ]
)
async def port(request: pytest.FixtureRequest) -> AsyncIterator[ExchangePort]:
    key, secret = _keys(request.param)
    venue, mode = VENUES[request.param]
    made = create_exchange(
        VenueConnection(
            venue=venue,
            mode=mode,
            api_key=SecretStr(key or ""),
            api_secret=SecretStr(secret or ""),
        )
    )
    yield made
    await made.close()


@pytest.mark.testnet
async def test_read_only_calls(port: ExchangePort) -> None:
    await read_only(port, "BTC/USDT:USDT", "BTC/USDT")


@pytest.mark.testnet
async def test_tiny_order_and_cancel(port: ExchangePort) -> None:
    if not trading_enabled():
        pytest.skip(f"{TRADE_FLAG}=1 not set")
    await tiny_order_round_trip(port, "BTC/USDT:USDT")
